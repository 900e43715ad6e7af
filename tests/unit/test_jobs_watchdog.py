"""The job runner's watchdog with real child processes: the time limit and Stop end a run in every phase.

A fake training process that ignores SIGTERM stands for a phase no signal handler reaches (a C call, one huge step);
the tiny 2-layer BERT is a real run, stopped while loading and at the time limit while training (then resumed).
Every test ends the processes it starts: by the runner's own kill, or by the pid the store recorded."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import wait_run
from trainer_backend.config import TrainConfig
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.processes import pid_alive, process_matches
from trainer_backend.runs.store import ACTIVE, RunStore, last_checkpoint
from ui.messages import control_message as said

FAKE_TRAINER = """\
import signal, sqlite3, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # 'loading' in a call no signal handler interrupts
args = sys.argv
run_id, db = args[args.index("--run_id") + 1], args[args.index("--db") + 1]
worker = subprocess.Popen(["sleep", "120"])  # a data worker: same process group
con = sqlite3.connect(db, isolation_level=None)
con.execute("UPDATE runs SET status = 'running', started = ?, info = ? WHERE id = ?",
            (time.time(), '{"worker": %d}' % worker.pid, run_id))
time.sleep(120)
"""


LINGERING_TRAINER = """\
import signal, sqlite3, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
args = sys.argv
run_id, db = args[args.index("--run_id") + 1], args[args.index("--db") + 1]
con = sqlite3.connect(db, isolation_level=None)
con.execute("UPDATE runs SET status = 'completed', finished = ? WHERE id = ?", (time.time(), run_id))
time.sleep(120)  # done, says the store; still here, says the process table (a hung exit)
"""


def _fake_python(tmp_path: Path, body: str = FAKE_TRAINER) -> str:
    """An executable that the runner starts as its 'python': argv then holds '-m trainer_backend … --run_id <id>',
    so process_matches vouches for it exactly as for a real run."""
    path = tmp_path / f"fake-python-{abs(hash(body))}"
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def _cfg(model: str = "packaged", **kw) -> TrainConfig:
    base = dict(model_name_or_path=str(model), dataset="sample", max_eval_samples=16, eval_strategy="no",
                per_device_train_batch_size=8, learning_rate=5e-4, max_length=64)
    return TrainConfig(**{**base, **kw})


def _tick_until(runner: JobRunner, run_id: str, until, timeout: float = 180):
    return wait_run(runner, run_id, until, timeout, tick=True, pause=0.2)


@pytest.fixture
def runner_env(tmp_path, monkeypatch):
    """A runner on its own store, with a short grace; every process it started is killed at the end."""
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_STOP_GRACE_SECONDS", "2")
    last_checkpoint(tmp_path)  # imports transformers.trainer_utils now, as the app has: not inside a timed stop
    made: list[JobRunner] = []

    def make(**kw) -> JobRunner:
        runner = JobRunner(RunStore(tmp_path / "r.sqlite"), **kw)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        for run in runner.store.list(limit=1000):
            if process_matches(run.pid, run.pid_start, run.id):
                os.killpg(run.pid, signal.SIGKILL)
            worker = run.info.get("worker")
            if worker and pid_alive(worker):
                os.kill(worker, signal.SIGKILL)


def _gone(run) -> bool:
    return not process_matches(run.pid, run.pid_start, run.id)


def test_a_run_stuck_while_loading_is_killed_at_the_time_limit(runner_env, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUN_SECONDS", "1")
    runner = runner_env(python=_fake_python(tmp_path))
    run_id, _ = runner.submit(_cfg())
    running = _tick_until(runner, run_id, lambda r: r.status == "running" and r.info.get("worker"), timeout=30)
    began = time.time()
    ended = _tick_until(runner, run_id, lambda r: r.status not in ACTIVE, timeout=30)
    took = time.time() - began
    assert ended.status == "stopped" and ended.stop_reason == "time limit"
    assert "time limit" in ended.error and "start it again" in ended.error  # no checkpoint: nothing to resume
    assert _gone(running) and not pid_alive(running.info["worker"])  # the whole process group, workers too
    assert took < 1 + 2 + 5, f"{took:.1f} s: limit 1 s + grace 2 s"
    print(f"\nstuck while loading: ended {took:.1f} s after it was running (limit 1 s, grace 2 s)")


def test_stop_by_the_owner_ends_a_run_that_ignores_the_signal(runner_env, tmp_path):
    runner = runner_env(python=_fake_python(tmp_path))
    run_id, _ = runner.submit(_cfg())
    running = _tick_until(runner, run_id, lambda r: r.status == "running", timeout=30)
    began = time.time()
    assert "Stopping" in said(runner.stop(run_id))
    assert "already stopping" in said(runner.stop(run_id))
    ended = _tick_until(runner, run_id, lambda r: r.status not in ACTIVE, timeout=30)
    took = time.time() - began
    assert ended.status == "stopped" and ended.error.startswith("Stopped by its owner") and _gone(running)
    assert 2 <= took < 2 + 5, f"{took:.1f} s with a 2 s grace"
    print(f"\nstop, SIGTERM ignored: ended after {took:.1f} s (grace 2 s)")


def test_a_finished_runs_lingering_process_holds_the_device_until_it_is_killed(runner_env, tmp_path):
    runner = runner_env(python=_fake_python(tmp_path, LINGERING_TRAINER), autostart=False)
    first, _ = runner.submit(_cfg())
    second, _ = runner.submit(_cfg())
    runner.dispatch()
    done = _tick_until(runner, first, lambda r: r.status == "completed", timeout=30)
    waited = _tick_until(runner, second, lambda r: r.status != "queued", timeout=30)
    assert _gone(done), "the next run started beside a process still there"
    assert waited.status in ACTIVE and time.time() - done.finished >= 2  # it waited out the 2 s grace
    runner.store.update(second, stop_sent=time.time() - 60, stop_reason="owner")  # end the second one too
    runner.enforce()


def test_after_an_app_restart_the_watchdog_still_kills_by_the_stored_pid(runner_env, tmp_path):
    """A fresh runner (no Popen of its own) ends a run by the pid and start time the store recorded."""
    first = runner_env(python=_fake_python(tmp_path))
    run_id, _ = first.submit(_cfg())
    running = _tick_until(first, run_id, lambda r: r.status == "running", timeout=30)
    first.store.update(run_id, stop_requested=1, stop_reason="owner", stop_sent=time.time() - 60)
    fresh = runner_env(python=_fake_python(tmp_path))
    assert fresh.enforce() == [run_id]
    assert fresh.store.get(run_id).status == "stopped"
    deadline = time.time() + 10
    while not _gone(running) and time.time() < deadline:
        time.sleep(0.1)
    assert _gone(running)


def test_a_stale_row_never_gets_another_process_killed(runner_env, tmp_path):
    """A stored pid that is not our training process any more (here: this test's own) is never signalled."""
    runner = runner_env()
    run_id = runner.store.create(_cfg().to_dict(), status="running")
    runner.store.update(run_id, pid=os.getpid(), pid_start=time.time() - 7200, stop_sent=time.time() - 60,
                        stop_reason="time limit")
    assert runner.enforce() == [run_id]  # no exception, and we are still here
    assert runner.store.get(run_id).status == "stopped"


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["importing", "loading"])
def test_a_real_run_stopped_before_its_first_step_ends_at_once(runner_env, tiny_model_dir, phase):
    """importing: SIGTERM's default action, before the training process installs its handler; loading (status
    'running', data and model being read): its handler ends it with KeyboardInterrupt and says why."""
    runner = runner_env()
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=50))
    until = (lambda r: r.pid is not None) if phase == "importing" else (lambda r: r.status == "running")
    run = _tick_until(runner, run_id, until, timeout=60)
    began = time.time()
    runner.stop(run_id)
    ended = _tick_until(runner, run_id, lambda r: r.status not in ACTIVE, timeout=60)
    took = time.time() - began
    assert ended.status == "stopped" and ended.error.startswith("Stopped by its owner"), ended.error
    assert _gone(run) and took < 2 + 3, f"{took:.1f} s (grace 2 s)"
    assert ended.step == 0 and last_checkpoint(ended.output_dir) is None
    print(f"\nreal run stopped while {phase}: ended after {took:.1f} s")


@pytest.mark.slow
def test_a_real_run_at_the_time_limit_keeps_its_checkpoint_and_resumes(runner_env, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_STOP_GRACE_SECONDS", "60")  # enough for the checkpoint and the final evaluation
    runner = runner_env()
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=400))
    _tick_until(runner, run_id, lambda r: r.status == "running" and r.step >= 3)
    monkeypatch.setenv("STUDIO_RUN_SECONDS", "1")  # the limit is read on every tick: it is now past
    began = time.time()
    ended = _tick_until(runner, run_id, lambda r: r.status not in ACTIVE, timeout=120)
    took = time.time() - began
    assert ended.status == "stopped" and "time limit" in ended.error, ended.error
    ckpt = last_checkpoint(ended.output_dir)
    assert ckpt is not None and int(ckpt.name.split("-")[1]) == ended.step and 3 <= ended.step < 400
    print(f"\nreal run at the time limit while training: stopped with {ckpt.name} after {took:.1f} s")
    monkeypatch.setenv("STUDIO_RUN_SECONDS", "3600")
    runner.store.update(run_id, config={**ended.config, "max_steps": ended.step + 5})
    assert "queued to resume" in said(runner.resume(run_id))
    done = _tick_until(runner, run_id, lambda r: r.resume and r.status not in ("queued", *ACTIVE), timeout=180)
    assert done.status == "completed" and done.step == ended.step + 5 and done.error is None, done.error


@pytest.mark.slow
def test_a_real_run_stopped_during_its_final_evaluation_ends_at_once(runner_env, tiny_model_dir, tmp_path):
    """One training step, then 15,000 validation pairs (6,000 sometimes finished before the poll saw step 1): Stop
    lands in the final evaluation, which has no step end to wait for, so the run ends at once, without final metrics
    (its evaluation never finished)."""
    from tests.helpers import write_learnable_pairs

    data = write_learnable_pairs(tmp_path / "big-validation.csv", n_train=16, n_validation=15000)
    runner = runner_env()
    run_id, _ = runner.submit(_cfg(tiny_model_dir, dataset=str(data), max_steps=1, max_eval_samples=None,
                                   per_device_train_batch_size=4))
    run = _tick_until(runner, run_id, lambda r: r.status == "running" and r.step >= 1, timeout=120)
    began = time.time()
    runner.stop(run_id)
    ended = _tick_until(runner, run_id, lambda r: r.status not in ACTIVE, timeout=60)
    took = time.time() - began
    assert ended.status == "stopped" and ended.error.startswith("Stopped by its owner"), ended.error
    assert "eval_accuracy" not in ended.final_metrics and _gone(run) and took < 2 + 3, f"{took:.1f} s"
    print(f"\nreal run stopped during its final evaluation: ended after {took:.1f} s")
