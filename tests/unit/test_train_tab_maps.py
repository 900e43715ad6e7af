"""The Train tab's handlers answer {name: update}; the tab maps each name to one of the event's outputs. Each wired
event is called here through the Blocks, as Gradio calls it, and must answer only components among its outputs."""
from __future__ import annotations

import gradio as gr
import pytest

from tests.helpers import train_and_predict_page
from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.store import RunStore
from ui import train_view as v
from ui.services import Services


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    svc = Services(JobRunner(RunStore(tmp_path / "r.sqlite"), autostart=False))
    demo = train_and_predict_page(svc)
    return demo, svc


def _wired(demo, name: str) -> tuple:
    """(the function Gradio calls, the ids of its outputs) of the event whose handler is `name`."""
    found = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name]
    assert found, name
    return found[0].fn, {o._id for o in found[0].outputs}


def _answers_its_outputs(answer: dict, outputs: set) -> set:
    assert isinstance(answer, dict) and answer
    assert all(isinstance(k, gr.components.Component) for k in answer), "answered by name, not mapped"
    ids = {k._id for k in answer}
    assert ids <= outputs
    return ids


def test_the_menus_after_load_and_after_start_are_mapped(app):
    demo, svc = app
    run_id = svc.store.create({"seed": 3}, label="mine", status="completed")
    fn, outputs = _wired(demo, "select_run_on_load")
    answer = fn(None)
    assert _answers_its_outputs(answer, outputs) == outputs  # both menus
    menu = next(u for u in answer.values() if u.constructor_args.get("value") == run_id)
    assert (run_id in [c[1] for c in menu.constructor_args["choices"]])
    fn, outputs = _wired(demo, "after_start")
    assert _answers_its_outputs(fn("▶ started", run_id, None, None), outputs) == outputs  # menus and the timer
    assert set(v.after_start(svc, "", run_id, None)) == {"menu", "compare", "timer"}


def test_a_refused_upload_sends_only_its_message(app, tmp_path):
    demo, _ = app
    fn, outputs = _wired(demo, "save_upload")
    bad = tmp_path / "pairs.exe"
    bad.write_text("x")
    answer = fn(str(bad), None)
    assert len(_answers_its_outputs(answer, outputs)) == 1  # the data menu is left as it was
    assert "Upload a" in next(iter(answer.values()))
    good = tmp_path / "pairs.csv"
    good.write_text("sentence1,sentence2,label\na,b,1\n")
    answer = fn(str(good), None)
    assert _answers_its_outputs(answer, outputs) == outputs
    assert any(str(u).startswith("upload:pairs-") for u in answer.values())


def test_download_answers_file_then_message_for_the_api(app):
    demo, _ = app
    fn, outputs = _wired(demo, "download_checkpoint")
    answer = fn(None, None)  # no run chosen
    assert _answers_its_outputs(answer, outputs) == outputs
    dep = next(d for d in demo.get_config_file()["dependencies"] if d.get("api_name") == "download_checkpoint")
    ordered = [answer[c] for o in dep["outputs"] for c in answer if c._id == o]
    assert ordered[0] is None and ordered[1].startswith("❌ Choose a finished run")  # (file, message), as before


def test_the_mistakes_section_is_mapped(app):
    demo, svc = app
    run_id = svc.store.create({"seed": 3}, label="mine", status="completed")
    wired = [f for f in demo.fns.values()
             if "train-mistakes-table" in {getattr(o, "elem_id", None) for o in f.outputs}]
    assert len(wired) == 4  # the viewed run, the overlay, the cell menu, the run's end
    for f in wired:
        outputs = {o._id for o in f.outputs}
        assert _answers_its_outputs(f.fn(run_id, [], "all", None), outputs) == outputs


def test_a_tick_with_nothing_new_sends_a_skip_that_gradio_accepts(app):
    demo, svc = app
    run_id = svc.store.create({"seed": 3}, label="mine", status="completed")
    tick = next(f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "refresh"
                and len(f.outputs) == len(v.VIEW_OUTPUTS))
    first = tick.fn(run_id, [], "", None)
    signature = next(u for c, u in first.items() if c in tick.outputs and isinstance(c, gr.State))
    again = tick.fn(run_id, [], signature, None)
    assert again == gr.skip()  # an empty {} fails Gradio's check of the outputs' count on every idle tick
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: an earlier test may have left this one's loop running
        pool.submit(asyncio.run, demo.postprocess_data(tick, again, None)).result()  # raises on what Gradio refuses
