"""README screenshot of the Train tab's mistakes table and paired comparison: the app offline on a fresh run store
with two finished runs on the bundled sample (their per-example predictions written as a run keeps them), headless
Chromium at 1366×900.

    python scripts/screenshots_mistakes.py [--out assets/screenshots]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.screenshots import LAPTOP, TIMEOUT, _save, _scroll_to, _setup_environment  # noqa: E402


def seed_runs() -> tuple[str, str]:
    """Two 'seed' runs on the sample's 80 validation pairs, wrong on different (overlapping) pairs."""
    from tests.browser.seed_runs import write_run
    from trainer_backend.data import load_data
    from trainer_backend.runs import predictions
    from trainer_backend.runs.store import RunStore

    validation = load_data("sample").dataset["validation"]
    labels = [int(x) for x in validation["label"]]
    store, ids = RunStore(), []
    rng = random.Random(3)
    wrong_sets = [set(rng.sample(range(80), 16))]
    wrong_sets.append(set(list(wrong_sets[0])[:6]) | set(rng.sample(sorted(set(range(80)) - wrong_sets[0]), 5)))
    for seed, wrong in zip((1, 2), wrong_sets):
        matrix = [[0, 0], [0, 0]]
        rows = []
        for i, label in enumerate(labels):
            predicted = 1 - label if i in wrong else label
            matrix[label][predicted] += 1
            rows.append(predictions.Prediction(i, label, predicted, round(rng.uniform(0.52, 0.99), 3),
                                               validation["sentence1"][i], validation["sentence2"][i]))
        acc = (matrix[0][0] + matrix[1][1]) / 80
        run_id = write_run(store, "Seed recipe", (acc - 0.1, acc - 0.03, acc), matrix, seed=seed, loss_to=0.35)
        predictions.save(store, run_id, rows, 80, predictions.fingerprint(validation), "sample")
        store.update(run_id, config={**store.get(run_id).config, "dataset": "sample"})
        ids.append(run_id)
    return ids[0], ids[1]


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "assets" / "screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    _setup_environment()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from tests.helpers import launch_app

    a, b = seed_runs()
    demo, url = launch_app()
    try:
        take(url, out, a, b)
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
