"""How a run tells the store what it is doing; without a store (the CLI, benchmarks, other ranks) it does nothing."""
from __future__ import annotations

import os
import time
from typing import Any

from trainer_backend.runs import predictions
from trainer_backend.runs.bounds import stop_message
from trainer_backend.runs.processes import process_start
from trainer_backend.runs.record import RunRecord
from trainer_backend.runs.store import RunStore

MAX_ERROR_CHARS = 2000


class Reporter:
    """Every store write of a training run, in one place; each method is a no-op when `enabled` is False."""

    def __init__(self, store: RunStore | None = None, run_id: str | None = None, in_process: bool = False) -> None:
        self.store = store if run_id else None
        self.run_id = run_id if store is not None else None
        # In a ZeroGPU call (runs/zerogpu.py) the run is no process of its own: no pid is recorded (the watchdog
        # must never signal the app, or ZeroGPU's worker), and a row the watchdog already ended stays ended.
        self.in_process = in_process

    def _ended_elsewhere(self) -> bool:
        """In-process only: the row is no longer active (the watchdog ended it after its grace period)."""
        if not self.in_process:
            return False
        run = self.store.get(self.run_id)
        return run is None or run.status not in ("starting", "running")

    @property
    def enabled(self) -> bool:
        return self.store is not None and self.run_id is not None

    def started(self, resume: bool, device: str) -> None:
        """Running, in this process (pid and its start time, so a recycled pid is never mistaken for it).

        A resumed run starts a new session: `started` is now, the earlier sessions' training time is carried in
        info (up to the last metric row kept, which is at or before the checkpoint it resumes from: the time it lay
        stopped is not training), and the evaluation made when it stopped is cleared (it trains again)."""
        if not self.enabled:
            return
        values: dict[str, Any] = {}
        run = self.store.get(self.run_id) if resume else None
        if run is not None and run.started:
            last = self.store.last_metric_time(self.run_id)
            carried = float(run.info.get("carried_seconds") or 0.0) + max(0.0, (last or run.started) - run.started)
            self.store.merge_info(self.run_id, carried_seconds=carried)
            values["final_metrics"] = {}
            predictions.clear(self.store, self.run_id)  # they described the model before this session
        now = time.time()
        pid, pid_start = (None, now) if self.in_process else (os.getpid(), process_start(os.getpid()))
        self.store.update(self.run_id, status="running", started=now, pid=pid, pid_start=pid_start, device=device,
                          **values)

    def prepared(self, record: RunRecord) -> None:
        """What the run trains from and why (shown in the Train tab before the first step)."""
        if not self.enabled:
            return
        self.store.update(self.run_id, model=record.base_model, data=record.data, precision=record.precision)
        self.store.merge_info(self.run_id, **record.store_fields())

    def finished(self, status: str, step: int, results: dict[str, Any], matrix: list[list[int]],
                 record: RunRecord, error: str | None = None) -> None:
        if not self.enabled or self._ended_elsewhere():
            return
        self.store.merge_info(self.run_id, **record.store_fields())
        values: dict[str, Any] = dict(status=status, finished=time.time(), step=step,
                                      samples_per_second=results.get("train_samples_per_second"),
                                      final_metrics={**results, "confusion": matrix})
        if error:
            values["error"] = error
        self.store.update(self.run_id, **values)

    def failed(self, error: str, stopped: bool = False) -> None:
        if self.enabled and not self._ended_elsewhere():
            self.store.update(self.run_id, status="stopped" if stopped else "failed", finished=time.time(),
                              error=error[:MAX_ERROR_CHARS])

    def interrupted(self, output_dir: str, time_limit: float | None) -> None:
        """Ended by a stop signal outside the training loop. When the app sent it, the app writes 'stopped' once
        this process is gone (so a run never reads as ended while its process still exits); else (Ctrl-C on a
        CLI run) 'stopped' here."""
        if self.enabled:
            run = self.store.get(self.run_id)
            if run is None or run.stop_sent is None:
                self.failed(stop_message(None, output_dir, time_limit), stopped=True)

    def pushed(self, repo: str) -> None:
        if self.enabled:
            self.store.update(self.run_id, hub_repo=repo)

    def push_failed(self, error: str) -> None:
        if self.enabled:
            self.store.merge_info(self.run_id, push_error=error)
