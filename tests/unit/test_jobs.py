"""Job runner: one training at a time, a FIFO queue, graceful stop with a checkpoint, interruption and resume."""
import os
import signal

import pytest

from tests.helpers import wait_run
from trainer_backend.config import TrainConfig
from trainer_backend.runs.jobs import JobRunner, QueueFull
from trainer_backend.runs.store import RunStore, last_checkpoint
from ui.messages import control_message as said

pytestmark = pytest.mark.slow


def _cfg(model, **kw):
    base = dict(model_name_or_path=str(model), dataset="sample", max_eval_samples=16, eval_strategy="steps",
                eval_steps=5, per_device_train_batch_size=8, learning_rate=5e-4, head_lr_factor=1)
    return TrainConfig(**{**base, **kw})


def _wait(runner, run_id, until, timeout=180):
    return wait_run(runner, run_id, until, timeout)


def test_second_job_waits_in_line_then_runs(tiny_model_dir, tmp_path):
    runner = JobRunner(RunStore(tmp_path / "r.sqlite"))
    first, pos1 = runner.submit(_cfg(tiny_model_dir, max_steps=6))
    second, pos2 = runner.submit(_cfg(tiny_model_dir, max_steps=6))
    assert (pos1, pos2) == (0, 1)
    assert runner.store.get(second).status == "queued"
    running = [r for r in runner.store.list() if r.status in ("starting", "running")]
    assert [r.id for r in running] == [first]  # never two trainings on one device
    done = _wait(runner, second, lambda r: r.status in ("completed", "failed"))
    assert done.status == "completed", done.error
    assert runner.store.get(first).status == "completed"
    assert runner.store.get(first).finished <= runner.store.get(second).started


def test_queue_limit_refuses_with_message(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_QUEUE_SIZE", "1")
    runner = JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False)  # everything stays waiting
    runner.submit(_cfg(tiny_model_dir))
    with pytest.raises(QueueFull, match="already waiting"):
        runner.submit(_cfg(tiny_model_dir))


def test_stop_saves_a_checkpoint_and_resume_finishes(tiny_model_dir, tmp_path):
    runner = JobRunner(RunStore(tmp_path / "r.sqlite"))
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=150, eval_steps=1000))
    _wait(runner, run_id, lambda r: r.status == "running" and r.step >= 3)
    assert "Stopping" in said(runner.stop(run_id))
    stopped = _wait(runner, run_id, lambda r: r.status not in ("starting", "running"))
    assert stopped.status == "stopped", stopped.error
    assert 3 <= stopped.step < 150
    ckpt = last_checkpoint(stopped.output_dir)
    assert ckpt is not None and int(ckpt.name.split("-")[1]) == stopped.step
    assert "resume" in said(runner.resume(run_id))
    done = _wait(runner, run_id, lambda r: r.status in ("completed", "failed", "stopped") and r.resume)
    assert done.status == "completed", done.error
    assert done.step == 150


def test_killed_process_is_marked_interrupted_and_can_resume(tiny_model_dir, tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    runner = JobRunner(store)
    run_id, _ = runner.submit(_cfg(tiny_model_dir, max_steps=120, eval_steps=10))
    run = _wait(runner, run_id, lambda r: r.status == "running" and r.step >= 12)
    os.kill(run.pid, signal.SIGKILL)
    # A fresh runner (as after an app restart) must notice the dead process.
    fresh = JobRunner(RunStore(tmp_path / "r.sqlite"))
    interrupted = _wait(fresh, run_id, lambda r: r.status == "interrupted", timeout=30)
    assert "was killed (SIGKILL)" in interrupted.error or "vanished" in interrupted.error
    assert last_checkpoint(interrupted.output_dir) is not None
    assert "queued to resume" in said(fresh.resume(run_id))
    done = _wait(fresh, run_id, lambda r: r.status in ("completed", "failed"))
    assert done.status == "completed" and done.step == 120, done.error


def test_cancel_a_queued_run(tiny_model_dir, tmp_path):
    runner = JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False)
    run_id, _ = runner.submit(_cfg(tiny_model_dir))
    assert "cancelled" in said(runner.stop(run_id))
    assert runner.store.get(run_id).status == "cancelled"
    assert "only interrupted" in said(runner.resume(run_id))


def test_a_run_another_runner_is_starting_is_not_taken_for_vanished(tmp_path, monkeypatch):
    """Two runners on one store (two app processes, or one restarted): the second reconciles the first's run. While
    it is 'starting' its process may not show the run id yet (fork before exec), so it stays alive for the grace
    period counted from when it became 'starting' (not from when it was queued); after that it is interrupted."""
    from trainer_backend.runs import jobs

    store = RunStore(tmp_path / "r.sqlite")
    run_id = store.create({"max_steps": 1})
    queued_long_ago = store.get(run_id).created - 600
    store.update(run_id, created=queued_long_ago)
    first = JobRunner(store, autostart=False)
    spawned = []
    monkeypatch.setattr(first, "_spawn", lambda *a: spawned.append(a) or _Sleeping())
    assert first.dispatch() == run_id and spawned
    # the pid recorded is one that does not show the run id (as between fork and exec)
    store.update(run_id, pid=os.getpid(), pid_start=None)
    second = JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False)
    second.reconcile()
    assert store.get(run_id).status == "starting"
    monkeypatch.setattr(jobs, "STARTING_GRACE_SECONDS", 0.0)
    second.reconcile()
    gone = store.get(run_id)
    assert gone.status == "interrupted" and "vanished" in gone.error


class _Sleeping:
    """A child process handle that never exits (the first runner's own view of its child)."""

    pid = os.getpid()
    returncode = None

    def poll(self):
        return None
