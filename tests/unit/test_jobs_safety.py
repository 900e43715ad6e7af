"""Job runner safety without training: owners, quotas, verified pids, stale rows, pruning, schema migration."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from trainer_backend.config import TrainConfig
from trainer_backend.runs.jobs import JobRunner, QueueFull
from trainer_backend.runs.processes import process_matches
from trainer_backend.runs.store import SCHEMA_VERSION, RunStore
from ui.messages import control_message as said


def Idle(store: RunStore) -> JobRunner:  # noqa: N802 - reads like the class it builds
    """A runner that only queues (autostart=False): the queue logic without training processes."""
    return JobRunner(store, autostart=False)


@pytest.fixture
def space(monkeypatch, tmp_path):
    monkeypatch.setenv("SPACE_ID", "o/s")
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return tmp_path


def test_only_the_owner_controls_a_run(space):
    runner = Idle(RunStore(space / "r.sqlite"))
    run_id, _ = runner.submit(TrainConfig(dataset="sample"), label="mine", owner="anon:alice")
    for action in (runner.stop, runner.resume, runner.delete):
        assert "belongs to another visitor" in said(action(run_id, "anon:bob"))
        assert "belongs to another visitor" in said(action(run_id, None))
    assert runner.store.get(run_id).status == "queued"
    assert "cancelled" in said(runner.stop(run_id, "anon:alice"))
    assert "deleted" in said(runner.delete(run_id, "anon:alice")) and runner.store.get(run_id) is None


def test_per_visitor_and_global_caps(space, monkeypatch):
    monkeypatch.setenv("STUDIO_QUEUE_SIZE", "3")
    runner = Idle(RunStore(space / "r.sqlite"))
    runner.submit(TrainConfig(), owner="anon:a")
    runner.submit(TrainConfig(), owner="anon:a")
    with pytest.raises(QueueFull, match="each visitor may have 2"):
        runner.submit(TrainConfig(), owner="anon:a")
    runner.submit(TrainConfig(), owner="anon:b")
    with pytest.raises(QueueFull, match="the queue holds 3"):
        runner.submit(TrainConfig(), owner="anon:c")


def test_resume_is_capped_too(space, tmp_path):
    runner = Idle(RunStore(space / "r.sqlite"))
    old, _ = runner.submit(TrainConfig(), owner="anon:a")
    folder = runner.store.get(old).output_dir
    os.makedirs(os.path.join(folder, "checkpoint-5"))
    open(os.path.join(folder, "checkpoint-5", "trainer_state.json"), "w").close()
    runner.store.update(old, status="stopped")
    runner.submit(TrainConfig(), owner="anon:a")
    runner.submit(TrainConfig(), owner="anon:a")
    assert "each visitor may have 2" in said(runner.resume(old, "anon:a"))
    assert runner.store.get(old).status == "stopped"


def test_a_recycled_pid_is_never_trusted(tmp_path):
    assert not process_matches(os.getpid(), None, "run-x")  # alive, but not a training process
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "trainer_backend", "run-x"])
    try:
        deadline = time.time() + 10
        while not process_matches(sleeper.pid, None, "run-x") and time.time() < deadline:
            time.sleep(0.1)  # the command line appears once the child has exec'd
        assert process_matches(sleeper.pid, None, "run-x")
        assert not process_matches(sleeper.pid, time.time() - 3600, "run-x")  # same pid, other start time
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not process_matches(sleeper.pid, None, "run-x")


def test_stale_running_rows_become_interrupted_with_the_log_tail(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path / "r.sqlite")
    run_id = store.create({"seed": 1}, status="running")
    folder = store.get(run_id).output_dir
    os.makedirs(folder)
    with open(os.path.join(folder, "train.log"), "w") as fh:
        fh.write("loading\nRuntimeError: out of memory\n")
    store.update(run_id, pid=os.getpid(), pid_start=0.0)  # our own pid: alive, but not that run's process
    Idle(store).reconcile()
    run = store.get(run_id)
    assert run.status == "interrupted" and "Resume" in run.error
    assert run.info["log_tail"][-1] == "RuntimeError: out of memory"


def test_prune_removes_old_and_oversized_finished_runs_never_open_ones(space, monkeypatch):
    monkeypatch.setenv("STUDIO_RUN_MAX_AGE_DAYS", "1")
    monkeypatch.setenv("STUDIO_RUNS_DISK_MB", str(1.5 / 1024))  # 1.5 kB
    store = RunStore(space / "r.sqlite")
    runner = Idle(store)
    ids = []
    for n in range(4):
        run_id = store.create({}, status="completed")
        os.makedirs(store.get(run_id).output_dir)
        with open(os.path.join(store.get(run_id).output_dir, "model.safetensors"), "wb") as fh:
            fh.write(b"x" * 1000)
        store.update(run_id, created=1000 + n, finished=time.time() - (3 * 86400 if n == 0 else 0))
        ids.append(run_id)
    open_run = store.create({}, status="queued")
    removed = runner.prune()
    assert ids[0] in removed  # too old
    assert ids[1] in removed and ids[2] in removed and ids[3] not in removed  # oldest first until under 1.5 kB
    assert store.get(open_run) is not None and store.get(ids[3]) is not None
    assert not os.path.exists(os.path.join(str(space), "runs", ids[1]))


def test_a_database_from_the_previous_schema_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, label TEXT, group_id TEXT, created REAL, started REAL, finished REAL,
        status TEXT NOT NULL, config TEXT NOT NULL, output_dir TEXT, pid INTEGER, resume INTEGER DEFAULT 0,
        model TEXT, data TEXT, device TEXT, precision TEXT, info TEXT DEFAULT '{}', step INTEGER DEFAULT 0,
        max_steps INTEGER DEFAULT 0, epoch REAL DEFAULT 0, samples_per_second REAL, final_metrics TEXT DEFAULT '{}',
        error TEXT, stop_requested INTEGER DEFAULT 0, hub_repo TEXT);
        CREATE TABLE metrics (run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch REAL, name TEXT NOT NULL,
        value REAL NOT NULL, time REAL NOT NULL);""")
    con.execute("INSERT INTO runs (id, label, created, status, config, output_dir) VALUES (?,?,?,?,?,?)",
                ("old-run", "from v0", 1.0, "completed", json.dumps({"seed": 3}), "/x"))
    con.commit()
    con.close()
    store = RunStore(path)
    run = store.get("old-run")
    assert run.label == "from v0" and run.owner is None and run.config == {"seed": 3, "head_lr_factor": 20.0}
    assert run.stop_reason is None and run.stop_sent is None and run.client is None  # migration 3's columns
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    RunStore(path)  # opening again is a no-op


def test_resume_passes_over_a_checkpoint_cut_short_by_a_kill(tmp_path):
    from trainer_backend.runs.store import last_checkpoint

    (tmp_path / "checkpoint-20").mkdir()
    (tmp_path / "checkpoint-20" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-70").mkdir()  # killed while saving: no trainer_state.json yet
    assert last_checkpoint(tmp_path).name == "checkpoint-20"
    assert last_checkpoint(tmp_path / "nothing") is None


def test_per_address_cap_holds_across_visitor_ids(space, monkeypatch):
    """Rotating visitor ids from one address does not reset the quota: two visitors there share its 3 runs."""
    monkeypatch.setenv("STUDIO_RUNS_PER_ADDRESS", "3")
    runner = Idle(RunStore(space / "r.sqlite"))
    runner.submit(TrainConfig(), owner="anon:a", client="addr:1")
    runner.submit(TrainConfig(), owner="anon:a", client="addr:1")
    runner.submit(TrainConfig(), owner="anon:b", client="addr:1")
    with pytest.raises(QueueFull, match="each address may have 3"):
        runner.submit(TrainConfig(), owner="anon:c", client="addr:1")
    runner.submit(TrainConfig(), owner="anon:c", client="addr:2")  # another address is not held back
    stopped, _ = runner.submit(TrainConfig(), owner="anon:d", client="addr:2")
    folder = runner.store.get(stopped).output_dir
    os.makedirs(os.path.join(folder, "checkpoint-5"))
    open(os.path.join(folder, "checkpoint-5", "trainer_state.json"), "w").close()
    runner.store.update(stopped, status="stopped")
    runner.submit(TrainConfig(), owner="anon:e", client="addr:2")
    assert "each address may have 3" in said(runner.resume(stopped, "anon:d", "addr:1"))  # asked from the full one
    assert "queued to resume" in said(runner.resume(stopped, "anon:d", "addr:2"))  # 2 open there: room
    assert runner.store.get(stopped).client == "addr:2"


def test_client_address_trusts_the_forwarded_header_only_on_a_space(monkeypatch):
    from types import SimpleNamespace

    from ui.addresses import client_address

    request = SimpleNamespace(headers={"x-forwarded-for": "203.0.113.7, 10.0.0.2"},
                              client=SimpleNamespace(host="10.0.0.2"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert client_address(request) == "10.0.0.2"  # locally anyone could write the header
    monkeypatch.setenv("SPACE_ID", "o/s")
    assert client_address(request) == "203.0.113.7"
    assert client_address(SimpleNamespace(headers={}, client=SimpleNamespace(host="10.0.0.2"))) == "10.0.0.2"
    assert client_address(None) is None
