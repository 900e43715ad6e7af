"""The ZeroGPU backend: on a ZeroGPU Space a run trains inside one `@spaces.GPU` call made by a thread of the app,
not in a child process (there a GPU exists only inside such calls).

The call runs the same `run_training` stages with the same Reporter writing the same run store, so live charts,
Stop (the store's stop_requested, read by the callbacks at each step), the queue, owners, quotas and the run record
are those of the child-process backend. What differs:

- the call asks for a duration: the run's estimate (estimate.for_config) x margin + headroom, computed when the run
  is queued and stored in its info; a run that cannot fit in the platform's maximum per call is refused then, in one
  sentence (GpuTimeTooShort). The training itself is time-limited to stop, with a checkpoint, before the call's end.
- a call ZeroGPU refuses (the visitor's daily quota, no GPU free, a duration it calls illegal) ends the run as
  `not_started` with the platform's words: nothing was trained, nothing is lost (a resumed run keeps its
  checkpoint and its earlier charts).
- there is no process to signal or kill: Stop and the time limit act at the next step (the callbacks), and a run
  that ignores them is marked stopped by the watchdog after its grace; ZeroGPU itself ends a call past its duration.

On a Space, `spaces.GPU` runs the call in a worker forked from the app, so everything it is handed is plain data
(the config file, the run id, the store's path) and the store is written from that worker. Elsewhere the decorator
is the function itself, which is how the tests run this path on a CPU.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable

from trainer_backend import settings
from trainer_backend.config import TrainConfig
from trainer_backend.runs.bounds import RunTooLarge, stop_message
from trainer_backend.runs.store import ACTIVE, NOT_STARTED, RunStore
from web import estimate

log = logging.getLogger("studio.zerogpu")


class GpuTimeTooShort(RunTooLarge):
    """The run needs a longer GPU call than ZeroGPU grants; refused before it is queued."""


def duration_factor() -> float:
    """What `spaces` multiplies a requested duration by for this card (configs.json: 1.5 on the RTX PRO 6000 pool);
    the platform's maximum applies to the product. 1 off ZeroGPU."""
    if not settings.on_zero_gpu():
        return 1.0
    try:
        from spaces.zero import config

        return float(config.get_config().get("duration_factor") or 1.0)
    except Exception:  # noqa: BLE001 - an older or newer `spaces` without it: no factor
        return 1.0


def gpu_seconds(estimated_seconds: float) -> int:
    """The duration one run asks for: its estimate x margin + headroom, in whole seconds."""
    zs = settings.zero_gpu_settings()
    return int(math.ceil(estimated_seconds * zs.margin + zs.headroom_seconds))


def max_request() -> int:
    """The longest duration this app may ask for: the platform's maximum per call, over the card's factor."""
    return int(settings.zero_gpu_settings().max_seconds / duration_factor())


def plan(cfg: TrainConfig, store: RunStore | None = None, token: str | bool | None = None) -> int:
    """Seconds of GPU the run asks for; raises GpuTimeTooShort when that is more than one call may have."""
    needed = gpu_seconds(estimate.for_config(cfg, store, token).seconds)
    allowed = max_request()
    if needed > allowed:
        raise GpuTimeTooShort(f"This run needs about {needed} s of GPU; ZeroGPU allows {allowed} s per call: "
                              "lower the epochs or the data.")
    return needed


def training_time_limit(seconds: int) -> float:
    """The training loop's own limit inside a call of `seconds`: it stops (with a checkpoint) while the headroom
    is left for saving and the final evaluation, never later than the app's per-run limit."""
    own = max(10.0, seconds - settings.zero_gpu_settings().headroom_seconds)
    run_seconds = settings.limits().run_seconds
    return min(own, run_seconds) if run_seconds > 0 else own


def call_duration(config_path: str, run_id: str, db_path: str, resume: bool, time_limit: float,
                  seconds: int) -> int:
    """spaces.GPU's callable duration: called with the call's own arguments, it returns the run's planned seconds."""
    return int(seconds)


def gpu_task(config_path: str, run_id: str, db_path: str, resume: bool, time_limit: float, seconds: int) -> str:
    """The body of the GPU call: the run's config file read as the child process reads it, then run_training.
    Returns how it ended; never raises (the Reporter has written the store by then)."""
    # imported here, in the call: the training stack (transformers, the Trainer) loads only when a run starts
    from trainer_backend.__main__ import parse
    from trainer_backend.training.train import run_training

    store = RunStore(db_path)
    run = store.get(run_id)
    if run is None or run.status not in ACTIVE:
        return "gone"
    if run.stop_requested:  # stopped while waiting for the GPU: nothing to train
        store.update(run_id, status="stopped", finished=time.time(),
                     error=stop_message(run.stop_reason, run.output_dir, settings.limits().run_seconds))
        return "stopped"
    try:
        cfg, _, overrides = parse([config_path])
        result = run_training(cfg, run_id=run_id, store=store, overrides=overrides, resume=resume,
                              time_limit=time_limit, in_process=True)
    except Exception as err:  # noqa: BLE001 - the Reporter recorded it; the call itself ends normally
        log.info("run %s ended with %s", run_id, err.__class__.__name__)
        return "failed"
    return "stopped" if result.stopped_early else "completed"


def _said(err: BaseException) -> str:
    """What an error says, on one line (gradio.Error keeps its text in .message; its str() is a repr)."""
    text = getattr(err, "message", None)
    return " ".join(str(text if isinstance(text, str) else err).split()) or err.__class__.__name__


def not_started_message(err: BaseException) -> str:
    """ZeroGPU's refusal in plain words: what it said, and that nothing was lost. `spaces` raises gradio.Error with
    a title ("ZeroGPU quota exceeded", "ZeroGPU illegal duration", "ZeroGPU queue timeout", ...) and a message."""
    title = str(getattr(err, "title", "") or "").strip()
    said = _said(err).rstrip(". ")
    quota = "quota" in f"{title} {said}".lower()
    advice = " A Hugging Face login gives a larger daily quota." if quota else ""
    return (f"Not started: ZeroGPU gave no GPU ({title + ': ' if title else ''}{said}). Nothing was trained or "
            f"lost; start it again later.{advice}")


class GpuCalls:
    """Starts each run as one GPU call in a thread of this process; the JobRunner's backend on ZeroGPU.

    decorate: `spaces.GPU` (app.py passes it on ZeroGPU; off ZeroGPU it returns the function unchanged).
    enter: runs the call inside the context of the visitor who pressed Start (app.py: their Gradio request, which
    ZeroGPU reads to charge their quota); `caller` is that request, kept in memory only."""

    def __init__(self, decorate: Callable[..., Any] | None = None,
                 enter: Callable[[Any, Callable[[], Any]], Any] | None = None) -> None:
        wrap = decorate(duration=call_duration) if decorate is not None else (lambda fn: fn)
        self.call = wrap(gpu_task)
        self.enter = enter or (lambda caller, fn: fn())

    def start(self, store: RunStore, run_id: str, config_path: Path, resume: bool, seconds: int,
              caller: Any = None) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=f"gpu-call-{run_id}", daemon=True,
                                  args=(store, run_id, str(config_path), resume, seconds, caller))
        thread.start()
        return thread

    def _run(self, store: RunStore, run_id: str, config_path: str, resume: bool, seconds: int, caller: Any) -> None:
        limit = training_time_limit(seconds)
        run = store.get(run_id)
        if run is None or run.status not in ACTIVE or run.stop_requested:
            if run is not None and run.status in ACTIVE:  # stopped while waiting in line for its call
                store.update(run_id, status="stopped", finished=time.time(),
                             error=stop_message(run.stop_reason, run.output_dir, settings.limits().run_seconds))
            return
        log.info("run %s: asking ZeroGPU for %d s of GPU (training stops by %.0f s)", run_id, seconds, limit)
        try:
            self.enter(caller, lambda: self.call(config_path, run_id, str(store.path), resume, limit, seconds))
        except Exception as err:  # noqa: BLE001 - ZeroGPU's refusal or its worker's end: the row says which
            self._ended_by(store, run_id, err, seconds)

    @staticmethod
    def _ended_by(store: RunStore, run_id: str, err: BaseException, seconds: int) -> None:
        run = store.get(run_id)
        if run is None or run.status not in ACTIVE:
            return
        if run.status == "starting":  # the call never ran (spaces.zero.client.schedule refused it): nothing trained
            store.update(run_id, status=NOT_STARTED, finished=time.time(), error=not_started_message(err))
            log.info("run %s not started: %s", run_id, err)
            return
        said = _said(err)
        store.update(run_id, status="interrupted", finished=time.time(),
                     error=f"the GPU call ended before the run did ({said}; it had {seconds} s); press Resume to "
                           "continue from the last checkpoint")
        log.warning("run %s interrupted: %s", run_id, said)
