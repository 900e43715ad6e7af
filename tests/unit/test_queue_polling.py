"""The Gradio queue polls fast while it has work (or had some a moment ago) and slowly once idle."""
from __future__ import annotations

import gradio as gr

from ui import queue_polling


def _queue():
    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    return demo._queue


def test_gradio_still_hard_codes_fast_polling():
    """If Gradio ever made this configurable or event-driven, this module should go: the test says when."""
    q = _queue()
    assert q.sleep_when_free <= 0.01 and q.progress_update_sleep_when_free <= 0.01


def test_idle_queue_polls_slowly_and_busy_queue_fast(monkeypatch):
    q = _queue()
    fast, fast_progress = q.sleep_when_free, q.progress_update_sleep_when_free
    queue_polling.quiet_when_idle(q)
    assert isinstance(q, type(_queue()))  # still Gradio's Queue: every other behaviour unchanged
    assert q.sleep_when_free == queue_polling.IDLE_SLEEP_S  # nothing ever ran: idle
    assert q.progress_update_sleep_when_free == queue_polling.IDLE_PROGRESS_SLEEP_S

    q.active_jobs = [None, ["an event"]]  # a job running: Gradio's own fast values
    assert q.sleep_when_free == fast and q.progress_update_sleep_when_free == fast_progress

    q.active_jobs = [None, None]  # it finished a moment ago: still fast (bursts are picked up at once)
    assert q.sleep_when_free == fast

    now = queue_polling.time.monotonic()
    monkeypatch.setattr(queue_polling.time, "monotonic", lambda: now + queue_polling.BUSY_WINDOW_S + 1)
    assert q.sleep_when_free == queue_polling.IDLE_SLEEP_S  # quiet for the whole window: slow again



def test_gradio_rebuilds_its_monitoring_summary_every_thousand_events_not_every_event(monkeypatch):
    from trainer_backend import settings

    records = [{"function": "f", "status": "success", "process_time": 0.01}] * 50
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    plain = _queue()
    plain.events_recorded = 1
    assert plain.compute_analytics_summary(records)["functions"]  # Gradio's default: rebuilt after one event
    settings.prepare_process()   # what app.py does when it builds its services, before the queue is made
    q = _queue()
    assert q.ANAYLTICS_CACHE_FREQUENCY == settings.GRADIO_ANALYTICS_EVERY  # (Gradio's spelling)
    q.events_recorded = settings.GRADIO_ANALYTICS_EVERY - 1
    assert q.compute_analytics_summary(records) == {"functions": {}}   # not yet: the cached (empty) summary
    q.events_recorded = settings.GRADIO_ANALYTICS_EVERY
    assert q.compute_analytics_summary(records)["functions"]["f"]["total_requests"] == 50
    monkeypatch.setenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", "7")   # the owner's value wins
    settings.prepare_process()
    assert _queue().ANAYLTICS_CACHE_FREQUENCY == 7
