"""What the Train tab shows: honest results against the data's own majority floor, owners, names, status, resume."""
from __future__ import annotations

import pytest

from trainer_backend.runs import summary
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.store import RunStore
from ui import charts
from ui import train_view as v
from ui.services import Services
from web import access


@pytest.fixture
def svc(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return Services(JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False))


@pytest.fixture
def store(svc):
    return svc.store


def _finished(store, confusion, accuracy, owner=None, label="Quick look"):
    run_id = store.create({"seed": 1}, label=label, status="completed", owner=owner)
    store.update(run_id, final_metrics={"eval_accuracy": accuracy, "eval_f1": 0.6, "confusion": confusion},
                 data="file secret.csv (train 10)", model="/srv/models/x")
    return store.get(run_id)


def test_majority_floor_is_computed_from_the_data_used():
    assert summary.majority_floor([[40, 0], [40, 0]]) == (0.5, pytest.approx(2 / 3))  # balanced sample
    acc, f1 = summary.majority_floor([[129, 0], [279, 0]])  # MRPC validation: 279 of 408 are paraphrases
    assert acc == pytest.approx(279 / 408) and round(acc, 2) == 0.68 and round(f1, 2) == 0.81
    assert summary.majority_floor(None) is None


def test_a_run_at_the_floor_says_so_everywhere(svc, store):
    low = _finished(store, [[0, 40], [0, 40]], 0.5)
    good = _finished(store, [[30, 10], [8, 32]], 0.775)
    assert summary.at_floor(low) and not summary.at_floor(good)
    assert "majority-class floor" in v.progress_html(svc, low) and "has not learned yet" in v.progress_html(svc, low)
    assert "floor" in v.progress_html(svc, good) and "not learned" not in v.progress_html(svc, good)
    rows = {r[0]: r for r in v.runs_table(svc)}
    assert "⚠ at the 0.50 floor" in rows[low.id][5] and "⚠" not in rows[good.id][5]
    assert charts.results_table(store, low.id, summary.majority_floor(low.final_metrics["confusion"]))[-1][0] \
        == "majority floor"


def test_other_visitors_see_no_paths_upload_names_or_errors(svc, store, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "o/s")
    run = _finished(store, [[30, 10], [8, 32]], 0.775, owner="anon:alice")
    store.update(run.id, error="DataError: secret.csv row 3 has label 'x'")
    run = store.get(run.id)
    bob = access.Visitor("anon:bob", space=True)
    alice = access.Visitor("anon:alice", space=True)
    row = next(r for r in v.runs_table(svc, bob) if r[0].endswith(run.id))
    assert row[2] == "(a server folder)" and row[3] == "an uploaded file"
    assert "secret.csv" not in v.progress_html(svc, run, bob) and "read-only" in v.progress_html(svc, run, bob)
    assert "secret.csv" in v.progress_html(svc, run, alice)
    status = v.run_status(svc, run.id, "b" * 20, None)  # an anonymous browser id that is not alice's
    assert status["error"] == "hidden: not your run" and status["yours"] is False


def test_menus_and_legends_tell_runs_apart(svc, store):
    a = _finished(store, [[30, 10], [8, 32]], 0.7)
    b = _finished(store, [[30, 10], [8, 32]], 0.7)
    labels = [label for label, _ in v.run_choices(svc)]
    assert len(set(labels)) == 2 and all("seed 1" in label for label in labels)
    assert summary.run_name(a) != summary.run_name(b)


def test_status_message_follows_the_run_not_the_last_click(svc, store):
    run_id = store.create({}, label="x", status="running")
    store.update(run_id, stop_requested=1)
    assert "Stopping" in v.status_message(svc, store.get(run_id))
    store.update(run_id, status="stopped", step=12)
    assert "stopped at step 12" in v.status_message(svc, store.get(run_id))
    assert "saved no checkpoint" in v.status_message(svc, store.get(run_id))  # Resume would have nothing to continue


def test_a_stop_while_loading_says_stopping_not_saving(svc, store):
    run_id = store.create({}, label="x", status="running")
    store.update(run_id, stop_requested=1, stop_reason="time limit")
    assert "stopping (time limit reached)" in v.progress_html(svc, store.get(run_id))
    assert "after the current step" not in v.status_message(svc, store.get(run_id))
    store.update(run_id, max_steps=50, step=10)
    assert "saving a checkpoint, then stopping (time limit reached)" in v.progress_html(svc, store.get(run_id))


def test_resume_drops_metric_rows_after_the_checkpoint(svc, store, tmp_path):
    import os

    run_id = store.create({}, status="stopped")
    os.makedirs(os.path.join(store.get(run_id).output_dir, "checkpoint-20"))
    open(os.path.join(store.get(run_id).output_dir, "checkpoint-20", "trainer_state.json"), "w").close()
    for step in range(1, 26):
        store.log_metrics(run_id, step, None, {"loss": 1.0 / step})
    svc.runner.resume(run_id)
    assert [m["step"] for m in store.metrics(run_id, ["loss"])] == list(range(1, 21))


def test_eta_waits_for_a_grounded_pace(svc, store):
    import time

    run_id = store.create({}, status="running")
    store.update(run_id, started=time.time() - 10, step=1, max_steps=100)
    assert store.get(run_id).eta_seconds() is None
    store.update(run_id, step=10)
    assert store.get(run_id).eta_seconds() > 0


def test_empty_charts_say_what_they_wait_for(svc, store):
    fig = charts.eval_figure(store, [], "r")
    assert fig.layout.annotations[0].text.startswith("Waiting") and fig.layout.yaxis.range == (0, 1.02)


def test_progress_names_the_phase_instead_of_step_0_of_unknown(svc, store):
    run_id = store.create({}, label="x", status="starting")
    assert "starting the training process" in v.progress_html(svc, store.get(run_id)) and "/?" not in \
        v.progress_html(svc, store.get(run_id))
    store.update(run_id, status="running")
    assert "loading the model and tokenizing" in v.progress_html(svc, store.get(run_id))
    store.update(run_id, max_steps=50, step=10)
    assert "training" in v.progress_html(svc, store.get(run_id)) and "step 10/50" in v.progress_html(svc, store.get(run_id))
    store.update(run_id, step=50)
    assert "evaluating and saving" in v.progress_html(svc, store.get(run_id))


def test_while_a_run_trains_a_tick_redraws_the_progress_not_the_charts_or_the_history(svc, store):
    """Issue 23.7: the page cost as much as the work; a new loss row redraws charts at most every CHART_SECONDS."""
    run_id = store.create({"seed": 1}, label="Quick look", status="running")
    store.update(run_id, started=1.0, step=5, max_steps=100)
    store.log_metrics(run_id, 5, 0.05, {"loss": 0.7})
    first = v.refresh(svc, run_id, [], "")
    assert set(first) <= set(v.VIEW_OUTPUTS) and first["loss"] is not None and first["history"]
    store.log_metrics(run_id, 10, 0.1, {"loss": 0.69})
    store.update(run_id, step=10)
    second = v.refresh(svc, run_id, [], first["signature"])
    assert "step 10/100" in second["progress"]  # the progress line follows every step
    charts_and_details = {"loss", "eval", "spread", "table", "confusion", "details"}
    assert not charts_and_details & set(second)  # charts, table, details: not yet redrawn
    assert "history" not in second and "menu" not in second  # history and menu unchanged
    store.update(run_id, status="completed", finished=2.0)
    third = v.refresh(svc, run_id, [], second["signature"])
    assert {"loss", "history"} <= set(third)  # a status change redraws at once


def test_a_cola_run_shows_matthews_correlation_in_the_table_and_history(svc, store):
    """CoLA is scored by Matthews correlation, not F1: the results table's last column and the history say so."""
    run_id = store.create({"seed": 1}, label="cola")
    store.log_metrics(run_id, 5, 1.0, {"eval_loss": 0.6, "eval_accuracy": 0.7, "eval_matthews_correlation": 0.31})
    store.update(run_id, status="completed", final_metrics={"eval_accuracy": 0.7, "eval_matthews_correlation": 0.31,
                                                            "confusion": [[10, 20], [10, 60]]})
    table = charts.results_table(store, run_id, summary.majority_floor([[10, 20], [10, 60]]))
    assert table[0][-1] == "0.3100" and table[-1] == ["majority floor", "—", "—", "0.7000", "0.0000"]
    assert charts.table_headers("cola")[-1] == "Matthews correlation" and charts.table_headers()[-1] == "F1"
    row = {r[0]: r for r in v.runs_table(svc)}[run_id]
    assert row[6] == "0.3100 (Matthews correlation)"
