"""Learning curves: the article's numbers as data, the reading of them, and a run from the store."""
from __future__ import annotations

from lesson import curves


def test_article_numbers_and_reading():
    c = curves.article()
    assert [e[0] for e in c.evals] == [1.0, 2.0, 3.0]
    losses = [e[1] for e in c.evals]
    assert losses == sorted(losses)                      # validation loss rises after epoch 1
    assert c.evals[-1][2] > c.evals[0][2]                # while accuracy still creeps up
    rows = c.rows()
    assert rows[0][1] == "no log yet" and rows[1][1] == 0.5335
    text = " ".join(curves.reading(c))
    assert "lowest at epoch 1" in text and "crept" in text and "overfitting" in text
    fig = curves.figure(c)
    assert {t.name for t in fig.data} == {"training loss", "validation loss", "accuracy", "F1"}


def test_reading_without_overfitting_and_too_few_points():
    c = curves.Curves("t", [(0.5, 0.7), (1.5, 0.5)], [(1.0, 0.6, 0.7, 0.8), (2.0, 0.5, 0.75, 0.82)])
    assert "no sign of overfitting" in " ".join(curves.reading(c))
    assert "fewer than two" in curves.reading(curves.Curves("t", [], [(1.0, 0.6, 0.7, 0.8)]))[0]


def test_from_store(tmp_path):
    from trainer_backend.runs.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1}, label="demo")
    store.log_metrics(run_id, 10, 0.5, {"loss": 0.69})
    store.log_metrics(run_id, 20, 1.0, {"eval_loss": 0.5, "eval_accuracy": 0.7, "eval_f1": 0.8})
    store.log_metrics(run_id, 40, 2.0, {"loss": 0.4, "eval_loss": 0.6, "eval_accuracy": 0.72, "eval_f1": 0.81})
    c = curves.from_store(run_id, store)
    assert c.train == [(0.5, 0.69), (2.0, 0.4)]
    assert [e[1] for e in c.evals] == [0.5, 0.6]
    assert "lowest at epoch 1" in " ".join(curves.reading(c))
