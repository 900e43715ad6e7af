"""Load check of the launched app: N concurrent gradio_client visitors × M `/predict` requests (errors, p50, p95),
then P idle pages open on the Train tab (its Timer ticking) with the app process's CPU use while nothing trains.

    python bench/load_predict.py                    # 100 clients × 20 requests, 50 idle pages
    python bench/load_predict.py --clients 20 --requests 5 --pages 10 --idle-seconds 20
    python bench/load_predict.py --clients 0 --idle-seconds 60      # the idle phase only

The app runs in its own process (local mode, offline) with PREDICT_MODEL_ID set to a MiniLM classifier made from the
packaged all-MiniLM-L6-v2 with a fresh 2-label head, so the server does real model work. Pages are Debian Chromium
tabs driven by Playwright. Last line: one JSON object with the figures."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.hardware import cpu_name
from bench.readme_block import replace_block

ROOT = Path(__file__).resolve().parent.parent

PAIRS = [("The shop opens at nine every morning.", "Every morning the store opens at 9."),
         ("Shares fell 12 percent on Monday.", "Shares fell 21 percent on Monday."),
         ("The minister resigned after the vote.", "After the vote, the minister stepped down."),
         ("Rain is expected over the weekend.", "The team won its third straight game.")]


def make_model(folder: Path) -> Path:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer_backend.settings import packaged_model_dir

    src = str(packaged_model_dir())
    AutoModelForSequenceClassification.from_pretrained(src, num_labels=2).save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    return folder


def start_app(model: Path, data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PREDICT_MODEL_ID": str(model), "STUDIO_DATA_DIR": str(data_dir),
           "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("SPACE_ID", None)
    code = ("import app; demo = app.build_app(); "
            f"app.launch(demo, server_port={port}, quiet=True)")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def predict_load(url: str, clients: int, requests: int) -> dict:
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    # A slow answer on a busy machine is latency (p95 shows it), not an error: the client waits up to 2 minutes.
    made = [Client(url, verbose=False, httpx_kwargs={"timeout": 120}) for _ in range(clients)]
    barrier = threading.Barrier(clients)

    def visitor(n: int) -> None:
        client = made[n]
        barrier.wait()
        for i in range(requests):
            a, b = PAIRS[(n + i) % len(PAIRS)]
            start = time.perf_counter()
            try:
                label, details = client.predict(a, b, "", api_name="/predict")
                ok = bool(label) and "confidence" in details
            except Exception as err:  # noqa: BLE001 - every failure is counted, not raised
                ok, details = False, f"{err.__class__.__name__}: {err}"
            with lock:
                latencies.append(time.perf_counter() - start)
                if not ok:
                    errors.append(str(details)[:200])

    start = time.perf_counter()
    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=20)
    return {"requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
            "p50_ms": round(statistics.median(latencies) * 1000, 1), "p95_ms": round(q[18] * 1000, 1),
            "requests_per_s": round(len(latencies) / wall, 1), "wall_s": round(wall, 1)}


PAGE_SETTLE_SECONDS = 40  # longer than an idle Train tab's poll interval (ui/train_view.IDLE_POLL_SECONDS, 30 s)


def settle(proc, window: float = 5.0, below_percent: float = 2.0, limit: float = 600.0) -> float:
    """Wait until the app spends under `below_percent` of a core over a `window`-second window (its start-up
    warm-ups are done); returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        cpu0 = sum(proc.cpu_times()[:2])
        time.sleep(window)
        if 100 * (sum(proc.cpu_times()[:2]) - cpu0) / window < below_percent:
            break
    return round(time.perf_counter() - start, 1)


PAGES_PER_HOST = 1  # Chromium keeps at most 6 connections per host; with 5 pages to a host, 2-3 of 50 never loaded
# Every page runs in one browser context, in at most two renderer processes: a context per page (a renderer each)
# did not fit 50 pages on two cores (40 opened in about 15 minutes at a load average of 50; README, Benchmarks).
# Site isolation would give every host its own renderer again, so it is switched off for the bench's browser.
IDLE_BROWSER_ARGS = ["--renderer-process-limit=2", "--disable-site-isolation-trials",
                     "--disable-features=site-per-process,IsolateOrigins",
                     "--host-resolver-rules=MAP *.idle.test 127.0.0.1"]


def page_urls(port: int, pages: int) -> list[str]:
    """One URL per page, PAGES_PER_HOST to a host name: p0.idle.test, p1.idle.test, ... all mapped to 127.0.0.1 by
    the browser (IDLE_BROWSER_ARGS), so the app stays bound to the loopback address and no page waits for a
    connection another page holds."""
    return [f"http://p{n // PAGES_PER_HOST}.idle.test:{port}/" for n in range(pages)]


def idle_pages(url: str, pages: int, seconds: float, app_pid: int) -> dict:
    """Open `pages` pages on the Train tab, one after another, then measure the app's CPU over `seconds`."""
    from urllib.parse import urlparse

    import psutil
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM, CHROMIUM_ARGS

    proc = psutil.Process(app_pid)
    settled = settle(proc)  # the start-up warm-ups (Predict's default model and its check, the quiz judge) end first
    cpu0 = sum(proc.cpu_times()[:2])
    time.sleep(seconds)
    baseline = sum(proc.cpu_times()[:2]) - cpu0  # no page open: the job dispatcher's own loop
    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + IDLE_BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        opened, failed, retried = [], 0, 0
        for n, page_url in enumerate(page_urls(urlparse(url).port, pages)):
            if n and n % 10 == 0:
                print(f"  {n} pages opened ({failed} failed)", flush=True)
            for attempt in range(2):  # a page that timed out while the machine was busy gets a second try
                page = context.new_page()
                try:
                    page.goto(page_url, wait_until="load", timeout=90_000)
                    page.get_by_role("tab", name="Train").click(timeout=90_000)
                    opened.append(page)
                    break
                except Exception:  # noqa: BLE001 - a page that never rendered is counted, not fatal
                    page.close()
                    retried += attempt == 0
                    failed += attempt == 1
        opening = time.perf_counter() - started
        time.sleep(PAGE_SETTLE_SECONDS)  # every page's load events are over; only its idle Train-tab timer remains
        visible = sum(pg.evaluate("document.visibilityState") == "visible" for pg in opened)
        cpu0 = sum(proc.cpu_times()[:2])
        time.sleep(seconds)
        busy = sum(proc.cpu_times()[:2]) - cpu0
        browser.close()
    return {"settled_after_s": settled, "pages": len(opened), "pages_that_did_not_open": failed, "seconds": seconds,
            "pages_visible": visible, "opening_s": round(opening, 1), "pages_retried": retried,
            "app_cpu_seconds_no_pages": round(baseline, 2),
            "app_cpu_percent_no_pages": round(100 * baseline / seconds, 2),
            "app_cpu_seconds": round(busy, 2), "app_cpu_percent_of_one_core": round(100 * busy / seconds, 1),
            "cpu_ms_per_page_second": round(1000 * max(0.0, busy - baseline) / (seconds * max(1, len(opened))), 2)}


START, END = "<!-- bench:idle:start -->", "<!-- bench:idle:end -->"


def idle_sentence(result: dict) -> str:
    """The README's idle figures, in words, from this bench's JSON."""
    idle = result["idle"]
    return (f"Idle, measured by `python -m bench.load_predict --clients 0 --pages {idle['pages']} --idle-seconds "
            f"{idle['seconds']:g}` on {result.get('cpu_name', 'this machine')} ({result['cpu']}, {result['cores']} cores; "
            f"load average {result.get('load_average_1min', 0):.1f} at the end): with no page open and nothing "
            f"training the app process used **{idle['app_cpu_percent_no_pages']:.2f}% of one core** (after its "
            f"start-up warm-ups, {idle['settled_after_s']:g} s); with {idle['pages']} idle pages open on the Train tab "
            f"({_how_opened(idle)}, {idle['pages_that_did_not_open']} failed to open) "
            f"**{idle['app_cpu_percent_of_one_core']:.1f}%**, {idle['cpu_ms_per_page_second']:.2f} ms of CPU per page "
            "and second.")


def _how_opened(idle: dict) -> str:
    if "pages_visible" not in idle:  # results saved before the pages shared one context
        return "each in its own browser context"
    return (f"in one browser context, opened in {idle['opening_s']:g} s, {idle['pages_visible']} of them "
            "visible, so not throttled as background tabs")


def write_readme(readme: Path, result: dict) -> None:
    replace_block(readme, START, END, idle_sentence(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--out", help="also write the JSON result to this file")
    parser.add_argument("--write", nargs=2, metavar=("README", "RESULT"),
                        help="write the idle figures of a saved RESULT into README's block, and exit")
    args = parser.parse_args()
    if args.write:
        write_readme(Path(args.write[0]), json.loads(Path(args.write[1]).read_text()))
        return
    from tests.helpers import free_port, wait_until_serving
    from trainer_backend.settings import cpu_flags

    work = Path(tempfile.mkdtemp(prefix="studio-load-"))
    model = make_model(work / "model")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = start_app(model, work / "data", port)
    try:
        if not wait_until_serving(url, app):
            raise SystemExit("the app did not start")
        load = predict_load(url, args.clients, args.requests) if args.clients else {}
        if load:
            print(f"/predict: {args.clients} clients × {args.requests}: {load}", flush=True)
        idle = idle_pages(url, args.pages, args.idle_seconds, app.pid) if args.pages else {}
        print(f"idle Train pages: {idle}", flush=True)
    finally:
        app.terminate()
        app.wait(30)
    cpu = "AVX512-BF16" if "avx512_bf16" in cpu_flags() else ("AVX2" if "avx2" in cpu_flags() else "other")
    line = json.dumps({"cpu": cpu, "cpu_name": cpu_name(), "cores": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                       "predict": load, "idle": idle})
    if args.out:
        Path(args.out).write_text(line + "\n", encoding="utf-8")
    print(line)


if __name__ == "__main__":
    main()
