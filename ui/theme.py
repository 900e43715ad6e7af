"""Look and feel: theme, CSS and the page head shared by every tab."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber")
_CSS_FILE = Path(__file__).resolve().parent.parent / "assets" / "style.css"
CSS = _CSS_FILE.read_text(encoding="utf-8") if _CSS_FILE.exists() else ""
HEAD = ""
