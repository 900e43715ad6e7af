"""The Lesson tab's handlers answer {name: update}: navigation names every output once (a section is called "next"
too, so sections are "section:<id>"), and the wired events answer only components among their outputs."""
from __future__ import annotations

import gradio as gr

from lesson import sections
from ui import lesson_tab
from ui.common import AppContext


def test_navigation_names_every_output_and_shows_one_section():
    shown = lesson_tab.open_section("next", None)
    assert set(shown) == {"nav", "progress", "bar", "prev", "next"} | {f"section:{i}" for i in sections.IDS}
    visible = [name for name in shown if name.startswith("section:") and shown[name].constructor_args["visible"]]
    assert visible == ["section:next"] and shown["next"].constructor_args["interactive"] is False
    assert lesson_tab.reset_progress()["nav"].constructor_args["value"] == sections.IDS[0]


def test_the_wired_navigation_answers_its_own_outputs():
    with gr.Blocks() as demo:
        lesson_tab.build(AppContext(root=None))
    wired = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "open_next"]
    assert len(wired) == 1
    answer = wired[0].fn("load", None)
    assert {c._id for c in answer} == {o._id for o in wired[0].outputs}  # every output, each once
