"""The mistakes a run makes: stored once from the final predict pass, equal to what Trainer.predict gives."""
from __future__ import annotations

import numpy as np
import pytest

from trainer_backend.runs import predictions
from trainer_backend.runs.store import SCHEMA_VERSION, RunStore


def _train(store: RunStore, tiny_model_dir, learnable_csv, tmp_path, name: str, **overrides):
    from trainer_backend.config import TrainConfig
    from trainer_backend.training.train import run_training

    values = dict(model_name_or_path=str(tiny_model_dir), dataset=str(learnable_csv), max_steps=6, eval_strategy="no", learning_rate=3e-3,
                  head_lr_factor=1.0, precision="fp32", max_eval_samples=30, per_device_train_batch_size=8)
    values.update(overrides)
    run_id = store.create(values, label=name, status="starting", output_root=tmp_path / name)
    cfg = TrainConfig(**store.get(run_id).config)
    run_training(cfg, run_id=run_id, store=store)
    return store.get(run_id), cfg


def _predict_again(output_dir: str, learnable_csv, max_eval_samples: int):
    """Trainer.predict on the run's validation split, from the saved model, independently of the run."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from trainer_backend.data import load_data, tokenize

    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    model = AutoModelForSequenceClassification.from_pretrained(output_dir)
    raw = load_data(str(learnable_csv), max_eval_samples=max_eval_samples).dataset
    data = tokenize(raw, tokenizer, 128)
    args = TrainingArguments(output_dir=output_dir + "-again", report_to="none", use_cpu=True,
                             per_device_eval_batch_size=16)
    trainer = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(tokenizer=tokenizer))
    out = trainer.predict(data["validation"])
    return out, raw["validation"]


@pytest.mark.slow
def test_stored_predictions_equal_trainer_predict(tiny_model_dir, learnable_csv, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run, cfg = _train(store, tiny_model_dir, learnable_csv, tmp_path, "a")
    assert run.status == "completed" and cfg.group_by_length  # evaluated in length-grouped order, stored by index
    rows = predictions.load(store, run.id)
    out, validation = _predict_again(cfg.output_dir, learnable_csv, 30)
    logits = np.asarray(out.predictions, dtype=np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    assert [p.index for p in rows] == list(range(30))
    assert [p.label for p in rows] == out.label_ids.tolist() == validation["label"]
    assert [p.predicted for p in rows] == logits.argmax(axis=1).tolist()
    assert [p.confidence for p in rows] == pytest.approx(probs.max(axis=1).tolist(), abs=1e-5)
    assert [p.sentence1 for p in rows] == validation["sentence1"]  # short texts: kept whole
    assert [p.sentence2 for p in rows] == validation["sentence2"]
    # the confusion matrix the run reported counts the same predictions
    matrix = run.final_metrics["confusion"]
    for t in (0, 1):
        for q in (0, 1):
            assert matrix[t][q] == sum(1 for p in rows if (p.label, p.predicted) == (t, q))
    wrong = predictions.mistakes(rows)
    assert {p.index for p in wrong} == {i for i, p in enumerate(rows) if p.label != p.predicted}
    assert [p.confidence for p in wrong] == sorted((p.confidence for p in wrong), reverse=True)
    meta = predictions.meta(run.info)
    assert meta["evaluated"] == meta["kept"] == 30 and meta["fingerprint"] == predictions.fingerprint(validation)
    assert meta["dataset"] == str(learnable_csv)


def test_predictions_are_bounded_cut_and_replaced(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({}, label="x", status="running")
    logits = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.5], [5.0, -5.0]])
    validation = {"sentence1": ["a" * 1000, "b", "c", "d"], "sentence2": ["e", "f", "g", "h"], "label": [1, 1, 0, 0]}
    rows = predictions.from_logits(logits, np.array(validation["label"]), validation, limit=3)
    assert len(rows) == 3 and len(rows[0].sentence1) == predictions.TEXT_CHARS and rows[0].sentence1.endswith("…")
    assert [p.predicted for p in rows] == [0, 1, 1]
    assert rows[0].confidence == pytest.approx(1 / (1 + np.exp(-2.0)))
    predictions.save(store, run_id, rows, 4, predictions.fingerprint(validation), "file.csv")
    predictions.save(store, run_id, rows[:2], 4, "f", "file.csv")  # a resumed run evaluates again: replaced
    assert [p.index for p in predictions.load(store, run_id)] == [0, 1]
    assert predictions.meta(store.get(run_id).info)["kept"] == 2
    cell = predictions.mistakes(rows, cell=(0, 1))
    assert [p.index for p in cell] == [2]
    assert [p.index for p in predictions.mistakes(rows, cell=(1, 1))] == [1]
    predictions.clear(store, run_id)
    assert predictions.load(store, run_id) == [] and predictions.meta(store.get(run_id).info) is None
    predictions.save(store, run_id, rows, 4, "f", "file.csv")
    store.delete(run_id)
    assert predictions.load(store, run_id) == []


def test_rows_follow_the_order_the_trainer_evaluated_in():
    logits = np.array([[0.0, 2.0], [3.0, 0.0], [0.0, 1.0]])  # rows for examples 2, 0, 1
    validation = {"sentence1": ["a", "b", "c"], "sentence2": ["d", "e", "f"], "label": [0, 1, 1]}
    rows = predictions.from_logits(logits, np.array([1, 0, 1]), validation, order=[2, 0, 1])
    assert [(p.index, p.label, p.predicted, p.sentence1) for p in rows] == [(0, 0, 0, "a"), (1, 1, 1, "b"),
                                                                            (2, 1, 1, "c")]
    with pytest.raises(predictions.OrderError):  # an order that does not fit the labels: nothing kept
        predictions.from_logits(logits, np.array([1, 0, 1]), validation, order=[0, 1, 2])
    with pytest.raises(predictions.OrderError):
        predictions.from_logits(logits, np.array([1, 0, 1]), validation, order=[0, 1])


def test_an_older_store_gains_the_predictions_table(tmp_path):
    import sqlite3

    from trainer_backend.runs.store import SCHEMA

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    con.execute("ALTER TABLE runs ADD COLUMN pid_start REAL")
    con.execute("ALTER TABLE runs ADD COLUMN stop_reason TEXT")
    con.execute("ALTER TABLE runs ADD COLUMN stop_sent REAL")
    con.execute("ALTER TABLE runs ADD COLUMN client TEXT")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    store = RunStore(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert con.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 0
    run_id = store.create({}, label="y")
    predictions.save(store, run_id, [predictions.Prediction(0, 1, 0, 0.9, "s", "t")], 1, "f")
    assert predictions.load(store, run_id)[0].confidence == 0.9


def test_a_resumed_run_forgets_the_predictions_of_its_earlier_model(tmp_path):
    from trainer_backend.training.reporter import Reporter

    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({}, label="r", status="stopped")
    store.update(run_id, started=1.0, finished=2.0)
    predictions.save(store, run_id, [predictions.Prediction(0, 1, 0, 0.9, "s", "t")], 1, "f")
    Reporter(store, run_id).started(resume=True, device="cpu")
    assert predictions.load(store, run_id) == [] and predictions.meta(store.get(run_id).info) is None
    assert store.get(run_id).status == "running"
