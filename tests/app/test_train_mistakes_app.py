"""The mistakes table and the paired comparison through gradio_client, on two real runs of the tiny model."""
import pytest

from tests.app.test_train_app import _start, _wait

pytestmark = pytest.mark.slow


def test_two_runs_mistakes_and_paired_comparison(client, tiny_model_dir, learnable_csv):
    settings = dict(model_name_or_path=str(tiny_model_dir), dataset=str(learnable_csv), max_steps=6,
                    eval_strategy="no", max_eval_samples=40, learning_rate=3e-3)
    _, a = _start(client, seeds="1", **settings)
    _, b = _start(client, seeds="2", **settings)
    done_a, done_b = _wait(client, a), _wait(client, b)
    assert done_a["status"] == done_b["status"] == "completed", (done_a["error"], done_b["error"])
    matrix = done_b["final_metrics"]["confusion"]
    view = client.predict(b, [a], "all", api_name="/run_mistakes")
    assert len(view["rows"]) == matrix[0][1] + matrix[1][0]  # every mistake, as the confusion matrix counts them
    confidences = [row[3] for row in view["rows"]]
    assert confidences == sorted(confidences, reverse=True)
    assert f"of {sum(map(sum, matrix))}** validation pairs wrong" in view["summary"]
    assert "Is this run really better?" in view["paired"]
    assert ("exact McNemar p =" in view["paired"]) or ("same right/wrong verdict" in view["paired"])
    cell = client.predict(b, [], "1>1", api_name="/run_mistakes")
    assert len(cell["rows"]) == matrix[1][1] and cell["paired"] == ""
    # the Lesson's noise paragraph compares the same two runs, newest first
    lesson = client.predict(None, None, api_name="/lesson_own_runs")
    assert "With your own runs" in lesson and b[-4:] in lesson and a[-4:] in lesson
    assert lesson.index(b[-4:]) < lesson.index(a[-4:])
    assert ("exact McNemar p =" in lesson) or ("same right/wrong verdict" in lesson)
