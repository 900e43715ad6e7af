"""A resumed run keeps its name and counts only its training time; its evaluation at Stop no longer warns (23.5)."""
from __future__ import annotations

import sqlite3
import time

from trainer_backend.runs import summary
from trainer_backend.runs.store import RunStore
from trainer_backend.training.reporter import Reporter


def test_resume_carries_training_time_not_the_time_it_lay_stopped(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create({"seed": 1}, label="Quick look", status="running")
    now = time.time()
    store.update(run_id, started=now - 1000, step=40, max_steps=100)
    store.log_metrics(run_id, 40, 0.4, {"loss": 0.6})
    with sqlite3.connect(store.path) as con:  # it trained 50 s, then lay stopped for 950 s
        con.execute("UPDATE metrics SET time = ?", (now - 950,))
    floor = {"eval_accuracy": 0.5, "confusion": [[0, 40], [0, 40]]}
    store.update(run_id, status="stopped", finished=now - 950, final_metrics=floor)
    stopped = store.get(run_id)
    assert abs(stopped.elapsed_seconds() - 50) < 1 and summary.at_floor(stopped)
    name = summary.run_name(stopped)

    store.update(run_id, status="queued", finished=None, created=now)  # what Resume does (jobs.resume)
    assert store.get(run_id).elapsed_seconds() is None and summary.at_floor(store.get(run_id)) is None
    Reporter(store, run_id).started(resume=True, device="cpu")
    resumed = store.get(run_id)
    assert summary.run_name(resumed) == name  # the name keeps the time the run was first created
    assert 50 <= resumed.elapsed_seconds() < 55  # not 1000: the stopped time is not training
    assert resumed.final_metrics == {} and summary.at_floor(resumed) is None
    eta = resumed.eta_seconds()
    assert eta is not None and 70 <= eta < 90  # the pace of 40 steps in ~50 s, not of 40 steps in 1000 s
