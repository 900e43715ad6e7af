"""Predict follows the model in a real browser: a single-sentence model hides the second box (and the swap check),
a pair model brings them back, and a single-sentence mistake sent from Train is explained as one sentence."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.helpers import type_texts
from tests.predict_fixtures import SINGLE, task_rows

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("pytorch_only")]



def _choose(page, model: str) -> None:
    box = page.locator("#predict-model input")
    box.fill(model)
    box.press("Enter")


def test_the_second_box_hides_for_a_single_sentence_model(page, app_url, single_checkpoint, three_class_checkpoint):
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    second, swap = page.locator("#predict-s2 textarea"), page.locator("#predict-swap")
    second.wait_for(state="visible", timeout=60_000)
    _choose(page, str(single_checkpoint))
    page.locator("#predict-task").get_by_text("reads one sentence").wait_for(timeout=60_000)
    # the task line and the boxes' visibility may come in separate updates: wait for both, do not sample once
    second.wait_for(state="hidden", timeout=30_000)
    swap.wait_for(state="hidden", timeout=30_000)
    type_texts(page, "lovely lovely lovely garden")
    page.locator("#predict-button").click()
    label = page.locator("#predict-label")
    label.locator("[data-testid='positive-confidence-set'] meter").wait_for(timeout=60_000)
    assert label.locator("[data-testid='negative-confidence-set'] meter").count() == 1
    page.locator("#predict-explain-button").click()
    view = page.locator("#predict-explain")
    view.get_by_text("How to read it").wait_for(timeout=60_000)
    assert view.locator("span.xw").count() == 4 and "Sentence 2" not in view.inner_text()

    _choose(page, str(three_class_checkpoint))  # a pair model again: two boxes, named by its task
    page.locator("#predict-task").get_by_text("one of 3 classes").wait_for(timeout=60_000)
    second.wait_for(state="visible", timeout=30_000)
    assert "premise, hypothesis" in page.locator("#predict-task").inner_text()


def test_a_single_sentence_mistake_is_explained_in_predict(page, app_url, single_checkpoint):
    import shutil

    from tests.browser.seed_runs import open_mistakes, write_run
    from trainer_backend.runs import predictions
    from trainer_backend.runs.store import RunStore

    store = RunStore()
    run_id = write_run(store, "Single sentences", (0.6, 0.7, 0.8), [[30, 10], [6, 34]])
    rows = [predictions.Prediction(i, y, 1 - y if i < 3 else y, 0.9 - i / 100, texts[0], "")
            for i, (texts, y) in enumerate(task_rows(SINGLE, 12, seed=5))]
    predictions.save(store, run_id, rows, len(rows), "single-test", "sample")
    shutil.copytree(single_checkpoint, store.get(run_id).output_dir, dirs_exist_ok=True)
    first = predictions.mistakes(predictions.load(store, run_id))[0]

    open_mistakes(page, app_url, run_id)
    cell = page.locator("#train-mistakes-table").get_by_text(str(round(first.confidence, 3)), exact=True)
    cell.filter(visible=True).first.click()
    page.locator("#predict-s1 textarea").wait_for(state="visible", timeout=30_000)
    assert page.locator("#predict-s1 textarea").input_value() == first.sentence1
    page.locator("#predict-explain .studio-explain").first.wait_for(timeout=120_000)
    page.locator("#predict-s2 textarea").wait_for(state="hidden", timeout=30_000)
    view = page.locator("#predict-explain")
    assert "Sentence:" in view.inner_text() and view.locator("span.xw").count() == len(first.sentence1.split())
