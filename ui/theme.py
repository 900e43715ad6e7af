"""Look and feel: theme, CSS and the page head shared by every tab."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ui.predict_handlers import STALE_CSS

THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="amber")
_CSS_FILE = Path(__file__).resolve().parent.parent / "assets" / "style.css"
CSS = _CSS_FILE.read_text(encoding="utf-8") if _CSS_FILE.exists() else ""
# Gradio scopes `css` inside its container, so rules for the page frame itself go in the head, unscoped:
# on a phone the page's 32 px side padding shrinks to 8 px, which is what lets all four tabs fit in 390 px.
# Predict's answers about a pair hidden while the boxes hold another (ui/predict_handlers.STALE_JS) sit on <body>.
# The script keeps the run in view after Start and Resume (issues 13 and 23: "the run is in view").
HEAD = """<style>
@media (max-width: 640px) {
  gradio-app .main.fillable, gradio-app .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
""" + STALE_CSS + """
</style>
<script>
// After Start or Resume, bring the run's progress line into view when it is off-screen (it heads the Train tab, so
// it is only off-screen when the page was scrolled down, say to the history); otherwise nothing moves.
document.addEventListener("click", (event) => {
  if (!event.target.closest || !event.target.closest("#train-start, #train-resume")) return;
  setTimeout(() => {
    const progress = document.getElementById("train-progress");
    if (!progress) return;
    const box = progress.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 60) progress.scrollIntoView({block: "center", behavior: "smooth"});
  }, 400);
}, true);
</script>"""
