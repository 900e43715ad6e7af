"""Gradio's queue, polled slowly while nothing happens: an idle app should cost (almost) no CPU.

Hand-rolled because Gradio offers no setting for it: its queue is a polling loop that sleeps a hard-coded 1 ms
when it has nothing to do (and its progress loop 10 ms), so an app with no visitor and no run woke its event
loop about 1,100 times a second and spent a few per cent of a core on it (bench/load_predict.py's idle phase
measures it). `quiet_when_idle` keeps Gradio's own values while there is work or was some in the last
`BUSY_WINDOW_S` seconds (bursts of requests are picked up as fast as before) and sleeps `IDLE_SLEEP_S` after
that, so the first request after a quiet spell waits at most that long to be picked up.
"""
from __future__ import annotations

import time

BUSY_WINDOW_S = 5.0      # after the last queued or running event, keep Gradio's fast polling this long
IDLE_SLEEP_S = 0.1       # then poll for new events 10 times a second
IDLE_PROGRESS_SLEEP_S = 0.25


def _adaptive(queue_class: type) -> type:
    """A subclass of Gradio's Queue whose two poll intervals depend on how recently it had work."""

    class QuietQueue(queue_class):
        _last_busy = 0.0

        def _busy(self) -> bool:
            now = time.monotonic()
            if len(self) or any(job is not None for job in self.active_jobs):
                self._last_busy = now
            return now - self._last_busy < BUSY_WINDOW_S

        @property
        def sleep_when_free(self) -> float:
            return self._fast_sleep if self._busy() else max(self._fast_sleep, IDLE_SLEEP_S)

        @sleep_when_free.setter
        def sleep_when_free(self, value: float) -> None:
            self._fast_sleep = value

        @property
        def progress_update_sleep_when_free(self) -> float:
            return self._fast_progress if self._busy() else max(self._fast_progress, IDLE_PROGRESS_SLEEP_S)

        @progress_update_sleep_when_free.setter
        def progress_update_sleep_when_free(self, value: float) -> None:
            self._fast_progress = value

    QuietQueue.__name__ = QuietQueue.__qualname__ = f"Quiet{queue_class.__name__}"
    return QuietQueue


def quiet_when_idle(queue) -> None:
    """Make a Gradio queue (``demo._queue``, after ``demo.queue()``) poll slowly when it has been idle a while."""
    fast_sleep = queue.__dict__.pop("sleep_when_free")
    fast_progress = queue.__dict__.pop("progress_update_sleep_when_free")
    queue.__class__ = _adaptive(type(queue))
    queue.sleep_when_free = fast_sleep
    queue.progress_update_sleep_when_free = fast_progress
