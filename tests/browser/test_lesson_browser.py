"""Lesson tab in Chromium: deep links, the stepper, progress remembered across reloads, Try it opens Train."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow
TIMEOUT = 20_000


def test_deep_link_stepper_and_remembered_progress(page, app_url):
    from playwright.sync_api import expect

    page.goto(f"{app_url}?section=padding")
    expect(page.locator("#lesson-padding")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#lesson-load")).to_be_hidden()
    expect(page.locator("#lesson-nav input[value='padding']")).to_be_checked()

    page.locator("#lesson-next").click()
    expect(page.locator("#lesson-model")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#lesson-padding")).to_be_hidden()
    page.wait_for_function("() => location.search.includes('section=model')", timeout=TIMEOUT)

    page.locator("#lesson-nav label", has_text="compute_metrics").click()
    expect(page.locator("#lesson-metrics")).to_be_visible(timeout=TIMEOUT)
    page.locator("#lesson-prev").click()
    expect(page.locator("#lesson-predict")).to_be_visible(timeout=TIMEOUT)

    page.goto(app_url)                                    # no deep link: resume where this browser left off
    expect(page.locator("#lesson-predict")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".lesson-progress")).to_contain_text("4 of 12", timeout=TIMEOUT)
    expect(page.locator("#lesson-nav label", has_text="Dynamic padding")).to_contain_text("✓")
    expect(page.locator("#lesson-nav label", has_text="TrainingArguments")).not_to_contain_text("✓")


def test_try_it_opens_train_with_the_preset(page, app_url):
    from playwright.sync_api import expect

    page.goto(f"{app_url}?section=model")
    expect(page.locator("#lesson-model")).to_be_visible(timeout=TIMEOUT)
    page.locator("#lesson-model").get_by_role("button", name="Try it").click()
    expect(page.locator("#train-preset input")).to_have_value("Seed spread (3 seeds)", timeout=TIMEOUT)
