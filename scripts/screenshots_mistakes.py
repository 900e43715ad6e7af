"""README screenshot of the Train tab's mistakes table and paired comparison: the app offline on a fresh run store
with two finished runs on the bundled sample (their per-example predictions written as a run keeps them), headless
Chromium at 1366×900.

    python -m scripts.screenshots_mistakes [--out assets/screenshots]      # from the repository root
"""
from __future__ import annotations

import sys
from pathlib import Path

from scripts.screenshots import LAPTOP, TIMEOUT, _save, _scroll_to, output_folder


def take(url: str, out: Path, a: str, b: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=LAPTOP).new_page()
        page.goto(url)
        page.get_by_role("tab", name="Train", exact=True).click()
        picker = page.locator("#train-view-run input")
        picker.wait_for(timeout=TIMEOUT)
        picker.fill(b)
        picker.press("Enter")
        page.wait_for_timeout(1500)
        overlay = page.get_by_label("Overlay runs (e.g. several seeds)")
        overlay.click()
        page.get_by_role("option", name=a[-4:]).first.click()
        page.keyboard.press("Escape")
        page.locator("#train-mistakes").get_by_text("Mistakes of this run").first.click()
        page.locator("#train-paired").get_by_text("exact McNemar").first.wait_for(timeout=TIMEOUT)
        page.wait_for_timeout(1000)
        _scroll_to(page, "#train-mistakes", -10)
        _save(page, out / "train-mistakes-1366.png", scale=0.6)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    out = output_folder(argv, __doc__.splitlines()[0])
    from tests.browser.seed_runs import write_runs_with_predictions
    from tests.helpers import launch_app

    a, b = write_runs_with_predictions()
    demo, url = launch_app()
    try:
        take(url, out, a, b)
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
