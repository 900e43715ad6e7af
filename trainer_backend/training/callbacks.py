"""TrainerCallbacks: live metrics into the run store, and a graceful save-and-stop on request."""
from __future__ import annotations

import math
import signal
import time

from transformers import TrainerCallback

from trainer_backend.runs.bounds import TIME_LIMIT
from trainer_backend.runs.store import RunStore

STOP_SIGNALS = [s for s in (getattr(signal, "SIGUSR1", None), signal.SIGTERM, signal.SIGINT) if s is not None]


class StopFlag:
    """Set by a signal handler or the store's stop_requested column; read by the callback.

    Inside the Trainer's loop (`in_loop`, set by StoreCallback) a stop waits for the end of the step, which saves a
    checkpoint. Outside it (loading, tokenizing, the final evaluation) there is nothing to save, so the signal ends
    the run at once (KeyboardInterrupt). Either way the app kills the process if it is still there after its grace
    period (a step or a C call can outlast any signal handler)."""

    def __init__(self) -> None:
        self.requested = False
        self.in_loop = False

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            try:
                signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass

    def _handle(self, signum, frame) -> None:
        self.requested = True
        if not self.in_loop:
            raise KeyboardInterrupt(f"stopped by signal {signum} outside the training loop")


class StoreCallback(TrainerCallback):
    """Writes every log (training loss, eval metrics) as metric rows and keeps progress current."""

    def __init__(self, store: RunStore | None, run_id: str | None, stop_flag: StopFlag | None = None,
                 poll_seconds: float = 1.0, time_limit: float | None = None) -> None:
        self.store, self.run_id = store, run_id
        self.stop_flag = stop_flag or StopFlag()
        self.poll_seconds = poll_seconds
        self.time_limit = time_limit
        self._started = time.monotonic()
        self._last_poll = 0.0
        self.stopped_early = False
        self.hit_time_limit = False
        self.stop_reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.store is not None and self.run_id is not None

    def on_train_begin(self, args, state, control, **kwargs):
        self.stop_flag.in_loop = True
        if self.enabled and state.is_world_process_zero:
            self.store.update(self.run_id, max_steps=state.max_steps, step=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.stop_flag.in_loop = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not self.enabled or not logs or not state.is_world_process_zero:  # one writer: charts fed once
            return
        values = {k: float(v) for k, v in logs.items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and k != "epoch"}
        if values:
            self.store.log_metrics(self.run_id, state.global_step, state.epoch, values)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        if now - self._last_poll >= self.poll_seconds or self.stop_flag.requested:
            self._last_poll = now
            if self.enabled and state.is_world_process_zero:
                self.store.update(self.run_id, step=state.global_step, epoch=state.epoch or 0.0)
                run = self.store.get(self.run_id)
                if run and run.stop_requested:
                    self.stop_flag.requested = True
                    self.stop_reason = run.stop_reason  # the app's watchdog says why (its time limit, or the owner)
                    self.hit_time_limit = run.stop_reason == TIME_LIMIT
        if self.time_limit and now - self._started > self.time_limit and not self.stop_flag.requested:
            self.hit_time_limit = True
            self.stop_reason = TIME_LIMIT
            self.stop_flag.requested = True
        if args.world_size > 1:  # every process must stop at the same step, or the others wait forever
            self.stop_flag.requested = _any_process(self.stop_flag.requested)
        if self.stop_flag.requested and not self.stopped_early:
            self.stopped_early = True
            control.should_save = True
            control.should_training_stop = True
        return control


def _any_process(flag: bool) -> bool:
    """True on every process if it is True on any (one tiny all-reduce per step, multi-process runs only)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
