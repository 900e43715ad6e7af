"""Job runner: one training subprocess per device at a time, a FIFO queue, stop and resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from trainer_backend import settings
from trainer_backend.config import TrainConfig
from trainer_backend.runs import ACTIVE, RunStore

MAX_QUEUE = 8
STOP_SIGNAL = signal.SIGUSR1 if hasattr(signal, "SIGUSR1") else signal.SIGTERM


class QueueFull(RuntimeError):
    """Too many runs are waiting; the message says how many."""


def pid_alive(pid: int | None) -> bool:
    """True when the process exists and is not a zombie."""
    if not pid:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil.NoSuchProcess, AccessDenied, missing psutil
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest checkpoint-N folder in a run's output folder, if any."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    ckpts = [p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return max(ckpts, key=lambda p: int(p.name.split("-")[-1])) if ckpts else None


class JobRunner:
    """Starts queued runs as `python -m trainer_backend` subprocesses, one at a time."""

    def __init__(self, store: RunStore | None = None, python: str | None = None) -> None:
        self.store = store or RunStore()
        self.python = python or sys.executable
        self._children: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- submitting ------------------------------------------------------------------------
    def submit(self, config: TrainConfig, label: str = "", group_id: str | None = None) -> tuple[str, int]:
        """Queue a run; returns (run id, position in line: 0 = starting now)."""
        waiting = self.store.queued()
        if len(waiting) >= MAX_QUEUE:
            raise QueueFull(f"{len(waiting)} runs are already waiting; the queue holds {MAX_QUEUE}. "
                            "Stop or cancel one, or wait for the current run to finish.")
        run_id = self.store.create(config.to_dict(), label=label, group_id=group_id)
        self.dispatch()
        return run_id, self.position(run_id)

    def position(self, run_id: str) -> int:
        """0 when running or finished; N when N-th in line behind the active run."""
        ids = [r.id for r in self.store.queued()]
        return ids.index(run_id) + 1 if run_id in ids else 0

    # --- the loop --------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Mark runs whose process has vanished (app or machine restart, crash) as interrupted."""
        for run in self.store.list(ACTIVE):
            child = self._children.get(run.id)
            alive = child.poll() is None if child else pid_alive(run.pid)
            if not alive:
                fresh = self.store.get(run.id)
                if fresh and fresh.status in ACTIVE:
                    code = child.returncode if child else None
                    self.store.update(run.id, status="interrupted", finished=time.time(),
                                      error=fresh.error or f"the training process ended unexpectedly (exit code {code})")
                self._children.pop(run.id, None)
        for run_id, child in list(self._children.items()):
            if child.poll() is not None:
                self._children.pop(run_id, None)

    def dispatch(self) -> str | None:
        """Start the next queued run if the device is free; returns its id."""
        with self._lock:
            self.reconcile()
            with self.store.transaction() as con:
                busy = con.execute(f"SELECT COUNT(*) FROM runs WHERE status IN ({','.join('?' * len(ACTIVE))})",
                                   ACTIVE).fetchone()[0]
                if busy:
                    return None
                row = con.execute("SELECT id, config, output_dir, resume FROM runs WHERE status = 'queued' "
                                  "ORDER BY created LIMIT 1").fetchone()
                if row is None:
                    return None
                run_id = row["id"]
                con.execute("UPDATE runs SET status = 'starting' WHERE id = ?", (run_id,))
            try:
                child = self._spawn(run_id, row["config"], row["output_dir"], bool(row["resume"]))
            except OSError as err:
                self.store.update(run_id, status="failed", finished=time.time(), error=f"could not start: {err}")
                return None
            self._children[run_id] = child
            self.store.update(run_id, pid=child.pid)
            return run_id

    def _spawn(self, run_id: str, config_json: str, output_dir: str, resume: bool) -> subprocess.Popen:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        config_path = folder / "run_config.json"
        config_path.write_text(json.dumps(json.loads(config_json), indent=2), encoding="utf-8")
        cmd = [self.python, "-m", "trainer_backend", str(config_path), "--run_id", run_id,
               "--db", str(self.store.path)]
        if resume:
            cmd.append("--resume")
        log = open(folder / "train.log", "ab")
        env = {k: v for k, v in os.environ.items() if k not in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}}
        env["PYTHONUNBUFFERED"] = "1"
        return subprocess.Popen(cmd, cwd=str(settings.PROJECT_ROOT), stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)

    def start_background(self, interval: float = 1.0) -> None:
        """A daemon thread that keeps the queue moving while the app runs."""
        if self._thread and self._thread.is_alive():
            return

        def loop() -> None:
            while True:
                try:
                    self.dispatch()
                except Exception:  # noqa: BLE001 - the loop must survive a locked DB or a bad row
                    pass
                time.sleep(interval)

        self._thread = threading.Thread(target=loop, name="job-dispatch", daemon=True)
        self._thread.start()

    # --- control ---------------------------------------------------------------------------
    def stop(self, run_id: str) -> str:
        """Ask a run to save and stop (or cancel it if still queued); returns what happened."""
        run = self.store.get(run_id)
        if run is None:
            return f"No run {run_id}."
        if run.status == "queued":
            self.store.update(run_id, status="cancelled", finished=time.time())
            return f"Run {run.label} was waiting and is now cancelled."
        if run.status not in ACTIVE:
            return f"Run {run.label} is not running (it is {run.status})."
        self.store.update(run_id, stop_requested=1)
        if pid_alive(run.pid):
            try:
                os.kill(run.pid, STOP_SIGNAL)
            except OSError:
                pass
        return f"Stopping {run.label}: it saves a checkpoint and stops after the current step."

    def resume(self, run_id: str) -> str:
        """Queue an interrupted or stopped run again, continuing from its last checkpoint."""
        run = self.store.get(run_id)
        if run is None:
            return f"No run {run_id}."
        if run.status not in ("interrupted", "stopped", "failed"):
            return f"Run {run.label} is {run.status}; only interrupted, stopped or failed runs can be resumed."
        ckpt = last_checkpoint(run.output_dir)
        if ckpt is None:
            return f"Run {run.label} has no checkpoint to resume from; start it again instead."
        self.store.update(run_id, status="queued", resume=1, stop_requested=0, error=None, finished=None,
                          created=time.time())
        self.dispatch()
        return f"Run {run.label} is queued to resume from {ckpt.name}."
