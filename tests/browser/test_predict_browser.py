"""Predict in a real browser: paste a pair, see the label bars; pasted HTML stays text."""
from __future__ import annotations

import os

import pytest

from tests.helpers import type_texts

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def default_model(tiny_checkpoint):
    old = os.environ.get("PREDICT_MODEL_ID")
    os.environ["PREDICT_MODEL_ID"] = str(tiny_checkpoint)
    yield
    if old is None:
        os.environ.pop("PREDICT_MODEL_ID", None)
    else:
        os.environ["PREDICT_MODEL_ID"] = old


def test_paste_a_pair_and_see_the_label_bars(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    type_texts(page, "<img src=x onerror=alert(1)> The ferry leaves at noon.", "At midday the ferry departs.")
    page.locator("#predict-button").click()
    label = page.locator("#predict-label")
    label.locator("[data-testid='paraphrase-confidence-set'] meter").wait_for(timeout=60_000)
    assert label.locator("[data-testid='not_paraphrase-confidence-set'] meter").count() == 1
    assert label.locator("[data-testid='label-output-value']").inner_text() in {"paraphrase", "not_paraphrase"}
    assert "%" in label.locator("[data-testid='paraphrase-confidence-set'] dd").inner_text()
    details = page.locator("#predict-details")
    assert "confidence" in details.inner_text() and " ms " in details.inner_text()
    page.get_by_text("Swap check:").wait_for(timeout=30_000)
    assert dialogs == []  # the pasted <img onerror> never ran


def test_an_empty_sentence_is_explained_on_the_page(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-s2 textarea").fill("Only the second sentence is here.")
    page.locator("#predict-button").click()
    page.locator("#predict-details").get_by_text("Sentence 1 is empty").wait_for(timeout=60_000)


def test_load_shows_the_model_facts_and_offers_a_zip(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    page.locator("#predict-load").click()
    facts = page.locator("#predict-facts")
    facts.get_by_text("Loaded:").wait_for(timeout=60_000)
    text = facts.inner_text()
    assert "validation: accuracy" in text and "learning_rate" in text and "pairs.tsv" in text
    page.get_by_role("button", name="Download this model (zip)").click()
    page.locator("#predict-zip").get_by_text(".zip").first.wait_for(timeout=60_000)


def test_a_file_with_html_is_shown_as_text(page, app_url, tmp_path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    path = tmp_path / "pairs.csv"
    path.write_text('sentence1,sentence2,label\n"<img src=x onerror=alert(2)>Cats sleep.",Cats nap.,1\n'
                    "Dogs bark.,<b>Birds</b> sing.,0\n", encoding="utf-8")
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    page.get_by_role("tab", name="A file of pairs").click()
    page.locator("#predict-upload input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Predict the file").click()
    page.get_by_text("2 pairs").wait_for(timeout=60_000)
    preview = page.locator("#predict-preview")
    preview.get_by_text("Cats sleep.", exact=False).first.wait_for(state="attached", timeout=30_000)
    assert "<img src=x onerror=alert(2)>" in preview.text_content()  # shown as text ...
    assert preview.locator("img[src=x], b").count() == 0  # ... never turned into elements
    assert dialogs == []


def test_explain_colours_the_words_of_both_sentences(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    type_texts(page, "<img src=x onerror=alert(3)> Profit rose 12 percent.", "Profit rose 21 percent.")
    page.locator("#predict-explain-button").click()
    view = page.locator("#predict-explain")
    view.get_by_text("How to read it").wait_for(timeout=60_000)
    words = view.locator("span.xw")
    assert words.count() == 11  # 7 + 4 whitespace-separated words, each its own coloured span
    assert "rgba(" in words.nth(1).get_attribute("style")
    assert "<img src=x onerror=alert(3)>" in view.inner_text() and view.locator("img").count() == 0
    assert "took" in view.inner_text() and dialogs == []


def test_compare_shows_both_answers(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    type_texts(page, "The ferry leaves at noon.", "At midday the ferry departs.")
    page.locator("#predict-compare-button").click()
    table = page.locator("#predict-compare")
    table.get_by_text("PyTorch fp32").wait_for(timeout=60_000)
    assert table.locator("tr").count() == 3 and " ms" in table.inner_text()


LAPTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(params=[LAPTOP, PHONE], ids=["1366", "390"])
def predict_page(browser, app_url, request):
    """The Predict tab in a fresh browser context at a laptop's and a phone's size."""
    context = browser.new_context(viewport=request.param)
    page = context.new_page()
    page.goto(app_url)
    page.get_by_role("tab", name="Predict").click()
    yield page
    context.close()


def test_a_new_pair_leaves_no_answer_of_the_old_one(predict_page):
    """Issue 23.3: predict pair A, type pair B, press Explain: nothing about A (label, details, swap check, verdict)
    stays above B's explanation."""
    page = predict_page
    type_texts(page, "The ferry leaves at noon.", "At midday the ferry departs.")
    page.locator("#predict-button").click()
    label = page.locator("#predict-label [data-testid='label-output-value']")
    label.wait_for(timeout=60_000)
    page.get_by_text("Swap check:").wait_for(timeout=30_000)
    type_texts(page, "Profit rose 12 percent.", "Profit rose 21 percent.")
    page.locator("#predict-explain-button").click()
    page.locator("#predict-explain").get_by_text("How to read it").wait_for(timeout=60_000)
    # hidden in the page the moment the text changed (no server call that could land after a new answer)
    assert label.is_hidden(), "the label of the old pair is still shown"
    assert page.locator("#predict-details").is_hidden() and page.locator("#predict-verdict").is_hidden()
    assert page.get_by_text("Swap check:").is_hidden()
    # and Predict on the new pair shows its own answer, whatever the timing of the typing's events
    page.locator("#predict-button").click()
    page.get_by_text("Swap check:").wait_for(timeout=60_000)
    assert label.is_visible() and page.locator("#predict-explain").get_by_text("How to read it").is_visible()


def test_an_unsure_answer_says_so_above_the_label(predict_page):
    """Issue 23.9: when the model is unsure (orders disagree, or close to 50%) the warning heads the answer."""
    page = predict_page
    # the tiny 3-step checkpoint answers every pair near 50%: it is unsure of all of them
    type_texts(page, "Dogs bark at night.", "The stock market closed higher on Friday.")
    page.locator("#predict-button").click()
    verdict = page.locator("#predict-verdict")
    verdict.get_by_text("The model is unsure").wait_for(timeout=60_000)
    assert verdict.bounding_box()["y"] < page.locator("#predict-label").bounding_box()["y"]
