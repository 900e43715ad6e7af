"""The mistakes table in headless Chromium: a clicked row is explained in Predict with the run's model."""
import pytest

pytestmark = pytest.mark.slow


def test_a_clicked_mistake_is_explained_in_predict(page, app_url, tiny_model_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from tests.browser.seed_runs import open_mistakes, write_runs_with_predictions
    from trainer_backend.runs import predictions
    from trainer_backend.runs.store import RunStore

    store = RunStore()
    a, b = write_runs_with_predictions(store)
    run = store.get(b)  # give run B a real (tiny) checkpoint, so Predict can load and explain with it
    AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir), num_labels=2).save_pretrained(
        run.output_dir)
    AutoTokenizer.from_pretrained(str(tiny_model_dir)).save_pretrained(run.output_dir)
    first = predictions.mistakes(predictions.load(store, b))[0]

    open_mistakes(page, app_url, b)
    table = page.locator("#train-mistakes-table")
    cell = table.get_by_text(str(round(first.confidence, 3)), exact=True).filter(visible=True).first
    cell.wait_for(timeout=30_000)
    cell.click()  # the most confident mistake is the first row
    page.locator("#predict-s1 textarea").wait_for(state="visible", timeout=30_000)
    assert page.locator("#predict-s1 textarea").input_value() == first.sentence1
    assert page.locator("#predict-s2 textarea").input_value() == first.sentence2
    page.locator("#predict-explain .studio-explain").first.wait_for(timeout=120_000)
    shown = page.locator("#predict-explain").inner_text()
    assert shown.strip() and "failed" not in shown.lower() and "⚠" not in shown, shown[:300]
