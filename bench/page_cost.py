"""What the open Train tab costs while a run trains, and how long the first /predict of a new checkpoint takes.

    python -m bench.page_cost                      # this tree
    python -m bench.page_cost --root /path/to/other/tree --seconds 30   # the same measure of another tree

Launches the app (offline, its own data folder) from --root, starts a Quick-look-sized run of the packaged MiniLM on
the bundled sample through the /start_training API, opens the Train tab in headless Debian Chromium (Playwright) at
1366x900 and measures, over --seconds while the run trains: CPU of the browser's processes, of the app process
(the training child excluded) and of the training process, each in % of one core. Then it asks /predict about one
pair with a checkpoint the app has never loaded (a fresh 2-label MiniLM folder) and times the answer.
Last line: one JSON object with the figures."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _cpu(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            total += sum(p.cpu_times()[:2])
        except Exception:  # noqa: BLE001 - a process that ended counts no more
            pass
    return total


def main() -> None:
    import psutil
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    from bench.load_predict import make_model
    from tests.helpers import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_serving

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(HERE), help="the app tree to launch (default: this one)")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="studio-page-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "STUDIO_DATA_DIR": str(work / "data"), "PREDICT_WARM": "0",
           "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("SPACE_ID", None)
    code = f"import app; demo = app.build_app(); app.launch(demo, server_port={port}, quiet=True)"
    app = subprocess.Popen([sys.executable, "-c", code], cwd=args.root, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    out: dict = {"root": args.root, "seconds": args.seconds}
    try:
        if not wait_until_serving(url, app):
            raise SystemExit("the app did not start")
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
        settings = {"model_name_or_path": "packaged", "dataset": "sample", "max_steps": 5000,
                    "per_device_train_batch_size": 8, "eval_strategy": "steps", "eval_steps": 0.25}
        message, run_id = client.predict(settings, "42", "Quick look", None, api_name="/start_training")
        deadline = time.time() + 300
        status = {}
        while time.time() < deadline:
            status = client.predict(run_id, None, api_name="/run_status")
            if status["status"] == "running" and status["step"] > 0:
                break
            time.sleep(2)
        app_proc = psutil.Process(app.pid)
        trainers = [c for c in app_proc.children(recursive=True) if "trainer_backend" in " ".join(c.cmdline())]
        me = psutil.Process()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            page.goto(url, wait_until="load", timeout=120_000)
            page.get_by_role("tab", name="Train", exact=True).click(timeout=120_000)
            time.sleep(8)  # the page settles on the running run
            chrome = [c for c in me.children(recursive=True) if "chrom" in c.name().lower()]
            before = (_cpu(chrome), sum(app_proc.cpu_times()[:2]), _cpu(trainers))
            time.sleep(args.seconds)
            after = (_cpu(chrome), sum(app_proc.cpu_times()[:2]), _cpu(trainers))
            browser.close()
        names = ("browser", "app", "training")
        out.update({f"{n}_cpu_percent": round(100 * (a - b) / args.seconds, 1) for n, a, b in zip(names, after, before)})
        out["steps_seen"] = client.predict(run_id, None, api_name="/run_status")["step"] - status.get("step", 0)
        client.predict(run_id, None, api_name="/stop_training")
        for proc in trainers:  # runs outlive the app by design: the one this bench started ends here
            proc.kill()
        time.sleep(2)
        model = make_model(work / "fresh-model")
        start = time.perf_counter()
        label, details = client.predict("The shop opens at nine.", "The store opens at 9.", str(model),
                                        api_name="/predict")
        out["first_predict_s"] = round(time.perf_counter() - start, 2)
        out["first_predict_ok"] = bool(label)
    finally:
        app.terminate()
        app.wait(30)
    out["cores"] = os.cpu_count()
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
