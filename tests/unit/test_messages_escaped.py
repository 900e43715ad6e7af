"""Text a visitor controls (a Hub checkpoint's studio_run.json, a settings file, a model name) is shown inert:
Markdown outputs escape it for Markdown and HTML, error toasts (which Gradio renders as HTML) escape it as HTML."""
from __future__ import annotations

import json
import shutil

import pytest

from trainer_backend import serving
from trainer_backend.serving import ModelRef

pytest.register_assert_rewrite("tests.predict_fixtures")
pytest_plugins = ["tests.predict_fixtures"]

HOSTILE = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) `code`"


def _inert(markdown: str) -> bool:
    return "<img" not in markdown and "**bold**" not in markdown and "](javascript" not in markdown


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_predict_facts_escape_a_checkpoints_own_run_summary(tiny_checkpoint, tmp_path):
    from ui import predict_tab

    folder = tmp_path / "hostile-checkpoint"
    shutil.copytree(tiny_checkpoint, folder)
    summary = json.loads((folder / "studio_run.json").read_text())
    summary.update(base_model=HOSTILE, data=HOSTILE, created=HOSTILE)
    summary.setdefault("metrics", {})[HOSTILE] = 0.5
    (folder / "studio_run.json").write_text(json.dumps(summary))
    facts = predict_tab.facts_markdown(serving.load_predictor(ModelRef(str(folder), HOSTILE, "chosen")))
    assert _inert(facts), facts
    assert "\\*\\*bold\\*\\*" in facts and "&lt;img" in facts  # shown, literally


def test_a_settings_error_quoting_the_visitor_is_escaped(tmp_path):
    from trainer_backend.runs.jobs import JobRunner
    from trainer_backend.runs.store import RunStore
    from ui import train_handlers
    from ui.services import Services

    svc = Services(JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False))
    message, run_id = train_handlers.start_training(svc, {"precision": HOSTILE}, "1", "custom")
    assert run_id is None and message.startswith("❌") and _inert(message), message


def test_error_toasts_escape_html():
    from ui.common import error_toast

    toast = error_toast(f"No model named {HOSTILE}")
    assert "<img" not in toast.message and "&lt;img" in toast.message


def test_toasts_are_plain_text_without_markdown_markers():
    """Issue 23.8: a toast does not render Markdown, so **bold** and `code` would show as typed."""
    from trainer_backend.serving import NO_MODEL_MESSAGE
    from ui.common import error_toast

    for message in (NO_MODEL_MESSAGE, "Open the **Train** tab and set `PREDICT_MODEL_ID`."):
        shown = error_toast(message).message
        assert "**" not in shown and "`" not in shown and "Train" in shown, shown
