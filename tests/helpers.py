"""Helpers shared by the test suites: tiny models, launched apps, browsers."""
from __future__ import annotations

import socket
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_tiny_model(folder: Path) -> Path:
    """Save a 2-layer, 64-wide BertForPreTraining-like encoder + tokenizer so tests train in seconds."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from trainer_backend.settings import packaged_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=128, max_position_embeddings=256)
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


LEARNABLE_WORDS = ("river", "table", "green", "music", "window", "garden", "letter", "market", "winter", "silver",
                   "doctor", "island", "bridge", "pencil", "coffee", "forest", "planet", "camera", "summer", "engine")


def write_learnable_pairs(path: Path, n_train: int = 160, n_validation: int = 40, seed: int = 0) -> Path:
    """A CSV (with a split column) that the tiny random 2-layer BERT learns in a few dozen steps.

    Both sentences are random words; the label is carried by one word at the start of sentence 2 ("yes" for a
    paraphrase, "no" otherwise), balanced in both splits. A smoke test can therefore assert a real accuracy: a
    broken label mapping, head, collator or metric leaves it at chance (0.5), not above 0.9."""
    import csv
    import random

    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence1", "sentence2", "label", "split"])
        for split, n in (("train", n_train), ("validation", n_validation)):
            for i in range(n):
                label = i % 2
                first = " ".join(rng.choices(LEARNABLE_WORDS, k=3))
                second = ("yes yes yes " if label else "no no no ") + " ".join(rng.choices(LEARNABLE_WORDS, k=3))
                writer.writerow([first, second, label, split])
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app():
    """Launch the full app in this process on a free port; returns (demo, url)."""
    import app as app_module

    demo = app_module.build_app()
    _, url, _ = app_module.launch(demo, prevent_thread_lock=True, server_port=free_port(), quiet=True)
    return demo, url


def wait_until_serving(url: str, proc=None, timeout: float = 240) -> bool:
    """Poll `url`config until the app answers (True); False on timeout or when `proc` has exited."""
    import time

    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if httpx.get(url + "config", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def end_run_process(run_id: str) -> None:
    """End a test's training run by the pid the run store recorded (runs outlive the app by design)."""
    import os
    import signal

    from trainer_backend.runs.processes import process_matches
    from trainer_backend.runs.store import RunStore

    run = RunStore().get(run_id)
    if run is not None and run.pid and process_matches(run.pid, run.pid_start, run.id):
        try:
            os.kill(run.pid, signal.SIGKILL)
        except OSError:
            pass


def wait_run(runner, run_id: str, until, timeout: float = 180, tick: bool = False, pause: float = 0.5):
    """Drive a JobRunner (its dispatch, or its whole background tick with the watchdog) until `until(run)`."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        runner.tick() if tick else runner.dispatch()
        run = runner.store.get(run_id)
        if until(run):
            return run
        time.sleep(pause)
    raise AssertionError(f"timed out; run is {runner.store.get(run_id)}")


def train_and_predict_page(services):
    """The Train and Predict tabs in one Blocks, wired as app.py wires them (cross-tab links, page-load chain),
    without launching it: for tests that read the events' config or call their functions."""
    import gradio as gr

    from ui import predict_tab, train_tab
    from ui.common import AppContext, viewer_box, visitor_state

    ctx = AppContext(services=services)
    with gr.Blocks() as demo:
        ctx.root = demo
        ctx.visitor, ctx.viewer = visitor_state(), viewer_box()
        with gr.Tabs() as tabs:
            ctx.tabs = tabs
            with gr.Tab("Train", id="train"):
                train_tab.build(ctx)
            with gr.Tab("Predict", id="predict"):
                predict_tab.build(ctx)
        ctx.wire()
        ctx.load_viewer()
    return demo


CLASS_WORDS = ("yes", "no", "maybe", "never", "always")


def write_learnable_classes(path: Path, classes: tuple[str, ...] = ("red", "green", "blue"), pair: bool = False,
                            n_train: int = 180, n_validation: int = 45, seed: int = 0) -> Path:
    """A CSV (split column) of single texts or pairs with one class word per label (up to five classes), named
    by `classes`, balanced in both splits: the tiny model learns it within a few dozen steps, like
    write_learnable_pairs. Columns: text (and context for pairs), category, split."""
    import csv
    import random

    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["context", "text", "category", "split"] if pair else ["text", "category", "split"])
        for split, n in (("train", n_train), ("validation", n_validation)):
            for i in range(n):
                k = i % len(classes)
                text = f"{CLASS_WORDS[k]} {CLASS_WORDS[k]} " + " ".join(rng.choices(LEARNABLE_WORDS, k=4))
                row = [text, classes[k], split]
                writer.writerow([" ".join(rng.choices(LEARNABLE_WORDS, k=3)), *row] if pair else row)
    return path


def type_texts(page, first: str, second: str | None = None) -> None:
    """Type Predict's sentence(s). Nothing to wait for: the typing hides the old answers in the page itself
    (ui/predict_handlers.STALE_JS), with no server call that could land after the next answer."""
    page.locator("#predict-s1 textarea").fill(first)
    if second is not None:
        page.locator("#predict-s2 textarea").fill(second)
