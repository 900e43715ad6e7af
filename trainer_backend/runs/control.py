"""Stop, Resume and Delete of a queued or running run, by its owner: each answers a typed `Control` (what
happened, with its facts), worded by ui/messages.control_message. Split from jobs.py, which queues, dispatches and
watches the runs: `RunControl` is the part of `JobRunner` a visitor's buttons reach."""
from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from trainer_backend import settings
from trainer_backend.runs.bounds import OWNER, RunTooLarge
from trainer_backend.runs.store import ACTIVE, FINISHED, NOT_STARTED, Run, RunStore, last_checkpoint


class QueueFull(RuntimeError):
    """Too many runs are waiting (for everyone, this visitor or this address); the message says how many."""


REFUSED = (QueueFull, RunTooLarge)


class Outcome(Enum):
    """What a Stop, Resume or Delete did (or why it did nothing)."""

    NO_SUCH_RUN = "no such run"
    NOT_YOURS = "another visitor's run"
    CANCELLED = "cancelled while queued"
    NOT_RUNNING = "not running"
    ALREADY_STOPPING = "already stopping"
    STOPPING = "stopping"
    STOPPING_GPU_CALL = "stopping a ZeroGPU call"  # no signal reaches a call: it reads the request at its next step
    NOT_RESUMABLE = "not resumable in its status"
    NO_CHECKPOINT = "no checkpoint"
    QUEUE_FULL = "queue full"
    RESUMING = "queued to resume"
    NOT_FINISHED = "not finished"
    DELETED = "deleted"


@dataclass(frozen=True)
class Control:
    """The facts of one Stop, Resume or Delete; ui/messages.control_message words them.

    detail: the stop reason (ALREADY_STOPPING), the checkpoint (RESUMING) or the queue's refusal (QUEUE_FULL)."""

    outcome: Outcome
    label: str = ""
    status: str = ""
    detail: str = ""
    grace_seconds: float = 0.0  # what submit and resume refuse with one sentence


class RunControl:
    """Stop, Resume and Delete, for JobRunner (runs/jobs.py), which provides the queue they act on: its store, its
    lock, the ZeroGPU callers, the queue's gates (`_check_room`), the stop signal (`_signal_stop`) and `dispatch`."""

    store: RunStore
    autostart: bool
    gpu_calls: Any
    _lock: threading.Lock
    _callers: dict[str, Any]

    def _owned(self, run_id: str, owner: str | None) -> Run | Control:
        """The run when `owner` may control it; else the Control saying why not."""
        run = self.store.get(run_id)
        if run is None:
            return Control(Outcome.NO_SUCH_RUN)
        if settings.on_space() and (owner is None or run.owner != owner):
            return Control(Outcome.NOT_YOURS)
        return run

    def stop(self, run_id: str, owner: str | None = None) -> Control:
        """Ask a run to save and stop (or cancel it if still queued); returns what happened."""
        run = self._owned(run_id, owner)
        if isinstance(run, Control):
            return run
        if run.status == "queued":
            self.store.update(run_id, status="cancelled", finished=time.time())
            self._callers.pop(run_id, None)
            return Control(Outcome.CANCELLED, run.label, run.status)
        if run.status not in ACTIVE:
            return Control(Outcome.NOT_RUNNING, run.label, run.status)
        if run.stop_sent is not None:
            return Control(Outcome.ALREADY_STOPPING, run.label, run.status, run.stop_reason or "")
        self._signal_stop(run, OWNER)
        outcome = Outcome.STOPPING_GPU_CALL if self.gpu_calls is not None else Outcome.STOPPING
        return Control(outcome, run.label, run.status, grace_seconds=settings.limits().stop_grace_seconds)

    def resume(self, run_id: str, owner: str | None = None, client: str | None = None, caller: Any = None) -> Control:
        """Queue an interrupted or stopped run again, continuing from its last checkpoint (queue caps apply)."""
        run = self._owned(run_id, owner)
        if isinstance(run, Control):
            return run
        if run.status not in ("interrupted", "stopped", "failed", NOT_STARTED):
            return Control(Outcome.NOT_RESUMABLE, run.label, run.status)
        ckpt = last_checkpoint(run.output_dir)
        try:
            with self._lock:
                self._check_room(run.owner, client=client)  # the queue's gates first, as for Start
                if ckpt is None:  # e.g. stopped while loading, before its first step
                    return Control(Outcome.NO_CHECKPOINT, run.label, run.status)
                # Steps after the checkpoint are trained again: their old rows would be drawn twice.
                self.store.delete_metrics_after(run_id, int(ckpt.name.split("-")[-1]))
                self.store.update(run_id, status="queued", resume=1, stop_requested=0, error=None, finished=None,
                                  created=time.time(), stop_reason=None, stop_sent=None, pid=None, pid_start=None,
                                  client=client or run.client)
                if self.gpu_calls is not None:
                    self._callers[run_id] = caller
        except QueueFull as err:
            return Control(Outcome.QUEUE_FULL, run.label, run.status, str(err))
        if self.autostart:
            self.dispatch()
        return Control(Outcome.RESUMING, run.label, "queued", ckpt.name)

    def delete(self, run_id: str, owner: str | None = None) -> Control:
        """Remove a finished run: its folder and its rows. Running or queued runs must be stopped first."""
        run = self._owned(run_id, owner)
        if isinstance(run, Control):
            return run
        if run.status not in FINISHED:
            return Control(Outcome.NOT_FINISHED, run.label, run.status)
        self._remove(run)
        return Control(Outcome.DELETED, run.label, run.status)

    def _remove(self, run: Run) -> None:
        root = (settings.data_dir() / "runs").resolve()
        folder = Path(run.output_dir).resolve()
        if root in folder.parents:  # never delete outside the runs folder, whatever the row says
            shutil.rmtree(folder, ignore_errors=True)
        self.store.delete(run.id)

