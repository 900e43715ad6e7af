"""The Quiz tab (placeholder until its issue lands)."""
from __future__ import annotations

import gradio as gr

from ui.common import AppContext


def build(ctx: AppContext | None = None) -> None:
    """Create the tab's components inside the current Blocks."""
    gr.Markdown("This tab is coming soon.")


if __name__ == "__main__":
    with gr.Blocks() as demo:
        build(AppContext())
    demo.launch()
