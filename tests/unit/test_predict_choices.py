"""Predict never silently defaults to a run at the majority floor; its file preview shows the answer first."""
from __future__ import annotations

import pytest

from trainer_backend import serving
from trainer_backend.runs.store import RunStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("PREDICT_MODEL_ID", raising=False)
    return RunStore(tmp_path / "r.sqlite")


def _run(store, tmp_path, name, confusion, accuracy, created):
    run_id = store.create({}, label=name, status="completed", output_root=tmp_path / "runs")
    folder = tmp_path / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x")
    store.update(run_id, created=created, final_metrics={"eval_accuracy": accuracy, "confusion": confusion})
    return run_id


def test_the_default_skips_runs_at_the_floor_and_says_so(store, tmp_path):
    good = _run(store, tmp_path, "learned", [[30, 10], [8, 32]], 0.775, created=1)
    _run(store, tmp_path, "at chance", [[0, 40], [0, 40]], 0.5, created=2)  # newer, but answers one label
    ref = serving.default_model(store)
    assert ref.spec.endswith(good) and ref.source == "run-skipped"


def test_only_floor_runs_are_still_offered_with_a_warning(store, tmp_path):
    _run(store, tmp_path, "at chance", [[0, 40], [0, 40]], 0.5, created=2)
    assert serving.default_model(store).source == "run-at-floor"


def test_preview_puts_the_answer_first_and_cuts_long_sentences():
    from ui.predict_tab import preview_frame

    rows = [{"sentence1": "a" * 200, "sentence2": "b", "label": "paraphrase", "predicted_label": "paraphrase",
             "probability_paraphrase": 0.9, "correct": True}]
    frame = preview_frame(rows)
    assert list(frame.columns)[:4] == ["predicted_label", "probability_paraphrase", "label", "correct"]
    assert len(frame["sentence1"][0]) == 80 and frame["sentence1"][0].endswith("…")


def test_the_predict_zip_is_refused_on_a_space(monkeypatch):
    import gradio as gr

    from ui.predict_tab import zip_model

    monkeypatch.setenv("SPACE_ID", "o/s")
    with pytest.raises(gr.Error, match="Train tab"):
        zip_model("")


def test_two_runs_of_one_preset_have_different_titles(store, tmp_path):
    a = _run(store, tmp_path, "Quick look", [[30, 10], [8, 32]], 0.775, created=1)
    b = _run(store, tmp_path, "Quick look", [[30, 10], [8, 32]], 0.775, created=2)
    titles = dict((v, t) for t, v in serving.model_choices(store))
    assert titles[f"run:{a}"] != titles[f"run:{b}"] and a[-4:] in titles[f"run:{a}"]
