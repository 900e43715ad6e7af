"""README screenshots: launches the app offline on a fresh run store holding one run that learned and one that stayed
at the majority-class floor, drives headless Chromium at 1366×900 and 390×844, and saves small PNGs.

    python scripts/screenshots.py [--out assets/screenshots]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAPTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
TIMEOUT = 60_000


def _setup_environment() -> None:
    """Offline, and a run store of its own: the screenshots never show (or touch) the user's runs."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ["STUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix="studio-screenshots-")


def _save(page, path: Path, scale: float = 1.0, colors: int = 128) -> None:
    """A viewport screenshot, scaled and reduced to a palette so each PNG stays well under 100 KB."""
    from PIL import Image

    raw = path.with_suffix(".raw.png")
    page.screenshot(path=str(raw))
    image = Image.open(raw).convert("RGB")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    raw.unlink()
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} KB")


def _scroll_to(page, selector: str, offset: int = 0) -> None:
    page.evaluate("([s, o]) => { const e = document.querySelector(s); if (e) { e.scrollIntoView({block: 'start'});"
                  " window.scrollBy(0, o); } }", [selector, offset])
    page.wait_for_timeout(600)


def _show_run(page, run_id: str) -> None:
    picker = page.locator("#train-view-run input")
    picker.wait_for(timeout=TIMEOUT)
    picker.fill(run_id)
    picker.press("Enter")
    page.locator("#train-progress").get_by_text("floor").first.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(1500)


def take(url: str, out: Path, floor_run: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        page = browser.new_context(viewport=LAPTOP).new_page()
        page.goto(f"{url}?section=predict")
        section = page.locator("#lesson-predict")
        section.get_by_role("button", name="Run the model").click()
        section.get_by_text("match the labels").wait_for(timeout=TIMEOUT)
        _scroll_to(page, "#lesson-predict .lesson-demo", -20)
        _save(page, out / "lesson-logits-1366.png", scale=0.6)

        page.goto(f"{url}?section=evaluate")
        source = page.locator("#lesson-evaluate").get_by_label("Curves of")
        source.click()
        page.get_by_role("option", name=floor_run[-4:]).first.click()
        page.locator("#lesson-evaluate").get_by_text("at the majority-class floor").wait_for(timeout=TIMEOUT)
        _scroll_to(page, "#lesson-evaluate .lesson-demo", -20)
        _save(page, out / "lesson-curves-at-floor-1366.png", scale=0.6)

        page.goto(url)
        page.get_by_role("tab", name="Train", exact=True).click()
        _show_run(page, floor_run)
        _save(page, out / "train-at-floor-1366.png", scale=0.6)
        page.context.close()

        phone = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
        phone.goto(f"{url}?section=load")
        phone.locator("#lesson-load .block.lesson-floor").get_by_text("validation pairs").wait_for(timeout=TIMEOUT)
        phone.wait_for_timeout(800)
        _save(phone, out / "lesson-390.png", scale=0.75)

        phone.get_by_role("tab", name="Quiz", exact=True).click()
        phone.get_by_role("tab", name="Flashcards", exact=True).click()
        phone.locator("#fc-card .fc-card").wait_for(timeout=TIMEOUT)
        phone.locator("#fc-flip").click()
        phone.locator("#fc-grade-3").click()  # on to card 2: the DataCollatorWithPadding card
        phone.locator("#fc-card .fc-card[data-flipped='0']").wait_for(timeout=TIMEOUT)
        phone.locator("#fc-flip").click()
        phone.locator("#fc-card .fc-card[data-flipped='1']").wait_for(timeout=TIMEOUT)
        _scroll_to(phone, "#quiz-subtabs", -8)
        _save(phone, out / "flashcards-390.png", scale=0.75)

        phone.get_by_role("tab", name="Train", exact=True).click()
        _show_run(phone, floor_run)
        _scroll_to(phone, "#train-progress", -8)
        _save(phone, out / "train-at-floor-390.png", scale=0.75)
        browser.close()


def output_folder(argv: list[str] | None, description: str) -> Path:
    """The --out folder (created) of a screenshot script, after the offline environment is set up."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=str(ROOT / "assets" / "screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    _setup_environment()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out


def main(argv: list[str] | None = None) -> int:
    out = output_folder(argv, __doc__.splitlines()[0])

    from tests.browser.seed_runs import write_floor_run, write_good_run
    from tests.helpers import launch_app

    write_good_run()
    floor_run = write_floor_run()
    demo, url = launch_app()
    try:
        take(url, out, floor_run)
    finally:
        demo.close()
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    print(f"total {total // 1024} KB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
