"""Train tab through gradio_client against the launched app: a real run on a tiny model, the queue, bad input."""
import time

import pytest

from trainer_backend.textsafe import md_escape

pytestmark = pytest.mark.slow

# The API takes TrainConfig's own field names (those of the CLI and run.json).
DEFAULTS = dict(model_name_or_path="auto", dataset="sample", num_train_epochs=1, max_steps=24, learning_rate=5e-4, head_lr_factor=1,
                per_device_train_batch_size=16, eval_strategy="steps", eval_steps=8, max_eval_samples=40)


def _start(client, seeds="42", preset="Quick look", **changes):
    return client.predict({**DEFAULTS, **changes}, seeds, preset, api_name="/start_training")


def _wait(client, run_id, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.predict(run_id, api_name="/run_status")
        if status["status"] in ("completed", "failed", "stopped", "interrupted", "cancelled"):
            return status
        time.sleep(1)
    raise AssertionError(f"run {run_id} did not finish: {status}")


def test_run_on_tiny_model_then_second_start_is_queued(client, tiny_model_dir):
    message, first = _start(client, model_name_or_path=str(tiny_model_dir))
    assert "started" in message and first
    message2, second = _start(client, model_name_or_path=str(tiny_model_dir), seeds="7")
    assert "queued — position 1" in message2
    assert client.predict(second, api_name="/run_status")["status"] == "queued"
    done = _wait(client, first)
    assert done["status"] == "completed", done["error"]
    assert done["loss_points"] >= 20 and done["eval_points"] == 3
    matrix, fm = done["final_metrics"]["confusion"], done["final_metrics"]
    right, total = matrix[0][0] + matrix[1][1], sum(map(sum, matrix))
    assert total == 40 and fm["eval_accuracy"] == pytest.approx(right / total)  # metrics agree with predictions
    precision = matrix[1][1] / max(1, matrix[0][1] + matrix[1][1])
    recall = matrix[1][1] / max(1, matrix[1][0] + matrix[1][1])
    assert fm["eval_f1"] == pytest.approx(2 * precision * recall / (precision + recall) if precision + recall else 0)
    second_done = _wait(client, second)
    assert second_done["status"] == "completed", second_done["error"]

    # Offline, a push explains itself and keeps the local checkpoint, which downloads as a zip.
    pushed = client.predict(first, "", False, api_name="/push_to_hub")
    pushed = pushed.replace("\\", "")  # shown as Markdown: our escaping adds backslashes
    assert pushed.startswith("❌") and "HF_HUB_OFFLINE" in pushed and "stays on this machine" in pushed
    zip_path, note = client.predict(first, api_name="/download_checkpoint")
    import zipfile

    names = zipfile.ZipFile(zip_path).namelist()
    assert any(n.endswith("model.safetensors") for n in names) and any(n.endswith("README.md") for n in names)


def test_bad_settings_are_refused_and_nothing_is_queued(client):
    message, run_id = _start(client, learning_rate=5.0)
    assert message.startswith("❌") and "learning\\_rate" in message and not run_id  # escaped: shown literally
    message, run_id = _start(client, seeds="one, two")
    assert "Seeds must be whole numbers" in message and not run_id
    message, run_id = _start(client, dataset="/no/such/file.csv")
    assert "File not found" in message and not run_id
    message, run_id = _start(client, no_such_setting=1)
    assert md_escape("Unknown setting(s): no_such_setting") in message and not run_id  # shown literally


def test_check_data_reports_size_or_problem(client, tmp_path):
    ok = client.predict("sample", "sentence1", "sentence2", "label", api_name="/check_data")
    assert ok.startswith("✅") and "train 400" in ok
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\tsentence1\tsentence2\n5\ta\tb\n")
    msg = client.predict(str(bad), "sentence1", "sentence2", "label", api_name="/check_data")
    assert msg.startswith("❌") and "at least two classes" in msg  # any number of classes now, but not one


def test_unknown_run_status_is_an_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No such run"):
        client.predict("nope", api_name="/run_status")
