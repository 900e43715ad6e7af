"""Quiz & Flashcards in headless Chromium: keyboard flip and grade survive a reload; gated reveal; print view."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from quiz.bank import default_bank

CARDS = len(default_bank().cards)  # the bank decides how many cards there are

pytestmark = pytest.mark.slow


def _open_flashcards(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Quiz", exact=True).click()
    page.get_by_role("tab", name="Flashcards", exact=True).click()
    card = page.locator("#fc-card .fc-card")
    expect(card).to_be_visible(timeout=20_000)
    return card


def test_flip_with_keyboard_grade_reload_and_progress_is_kept(page, app_url):
    card = _open_flashcards(page, app_url)
    stats = page.locator("#fc-stats")
    expect(stats).to_contain_text(f"0 of {CARDS} learned")
    expect(card).to_contain_text(f"Card 1 of {CARDS}")
    expect(page.locator("#fc-grade-3")).to_be_disabled()

    page.keyboard.press("Space")
    expect(card).to_have_attribute("data-flipped", "1")
    expect(page.locator("#fc-card .fc-back")).to_be_visible()
    expect(page.locator("#fc-grade-3")).to_be_enabled()

    page.keyboard.press("3")  # Good
    expect(stats).to_contain_text(f"1 of {CARDS} learned")
    expect(stats).to_contain_text("1 review")
    expect(card).to_contain_text(f"Card 2 of {CARDS}")
    expect(card).to_have_attribute("data-flipped", "0")

    page.keyboard.press("Space")
    page.keyboard.press("1")  # Again: not learned, back within a minute
    expect(stats).to_contain_text("2 reviews")
    expect(card).to_contain_text(f"Card 3 of {CARDS}")

    page.reload()
    card = _open_flashcards(page, app_url)
    expect(stats).to_contain_text(f"1 of {CARDS} learned")
    expect(stats).to_contain_text("2 reviews")
    expect(card).to_contain_text(f"Card 3 of {CARDS}")  # new cards first; the lapsed card 2 is due in a minute

    page.get_by_role("button", name="Reset progress").click()
    page.locator("#fc-reset-yes").click()
    expect(stats).to_contain_text(f"0 of {CARDS} learned")


def test_keys_do_nothing_while_typing(page, app_url):
    card = _open_flashcards(page, app_url)
    page.evaluate("""() => { const i = document.createElement('textarea'); i.id = 'scratch';
                              document.querySelector('#fc-stats').after(i); }""")
    page.locator("#scratch").click()
    page.keyboard.type(" 3 1 ")
    expect(page.locator("#scratch")).to_have_value(" 3 1 ")
    page.wait_for_timeout(500)
    expect(card).to_have_attribute("data-flipped", "0")
    page.locator("#fc-card .fc-card").click()  # a click flips too
    expect(card).to_have_attribute("data-flipped", "1")


def test_reveal_opens_only_after_an_attempt_and_self_grades_persist(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Quiz", exact=True).click()
    reveal = page.get_by_role("button", name="Reveal").first
    expect(reveal).to_be_disabled(timeout=20_000)
    page.get_by_label("Your answer").first.click()
    page.keyboard.type("It pads per batch.")
    expect(reveal).to_be_enabled()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    expect(reveal).to_be_disabled()
    page.get_by_label("I don't know yet: show me").first.check()
    expect(reveal).to_be_enabled()
    reveal.click()
    expect(page.get_by_text("Key ideas to look for")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="◐ Partly").first.click()
    summary = page.locator("#quiz-summary")
    expect(summary).to_contain_text("◐ 1 partly")
    expect(page.locator("#quiz-picker")).to_contain_text("◐ 1. Dynamic padding")
    expect(page.get_by_text("Key ideas to look for")).to_be_visible()  # grading keeps the reveal open

    page.reload()
    page.get_by_role("tab", name="Quiz", exact=True).click()
    expect(page.locator("#quiz-summary")).to_contain_text("◐ 1 partly", timeout=20_000)


def test_print_view_lays_out_one_card_side_per_page(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Quiz", exact=True).click()
    page.get_by_role("tab", name="Print & Anki").click()
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="Open print view").click()
    page.wait_for_function("() => window.__printed === 1")
    assert page.locator("#fc-print-root .fc-print-side").count() == 2 * CARDS
    page.emulate_media(media="print")
    expect(page.locator("#fc-print-root")).to_be_visible()
    expect(page.locator("gradio-app")).to_be_hidden()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 2 * CARDS
    page.emulate_media(media="screen")
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    expect(page.locator("gradio-app")).to_be_visible()


def test_exercise_button_opens_train_with_the_matching_preset(page, app_url):
    from trainer_backend.presets import SEED_SPREAD

    page.goto(app_url)
    page.get_by_role("tab", name="Quiz", exact=True).click()
    page.get_by_role("tab", name="Exercises").click()
    page.get_by_role("button", name="See it happen: train with several seeds").click()
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true", timeout=20_000)
    expect(page.get_by_label("Preset", exact=True)).to_have_value(SEED_SPREAD)


def test_part_b_reads_the_visitors_own_seed_runs(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Quiz", exact=True).click()
    page.get_by_role("tab", name="Exercises").click()
    page.get_by_text("Your own seed-spread runs, read against the noise").click()
    page.locator("#quiz-seed-spread").click()
    expect(page.locator("#quiz-seed-spread-report")).to_contain_text("0.25 points", timeout=20_000)
    expect(page.locator("#quiz-seed-spread-report")).to_contain_text("1.7 points")
