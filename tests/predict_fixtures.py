"""Fixtures for the Predict and Hub tests: a tiny checkpoint trained by the real CLI, and a fake Hub cache."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trainer_backend.tasks import TaskSpec

ROOT = Path(__file__).resolve().parent.parent
HUB_ID = "studio-tests/tiny-bert-finetuned-mrpc"
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"
_PLACES = ["the harbour", "the old library", "the night market", "the hill station", "the river port",
           "the mountain school", "the city hall", "the train depot", "the glass factory", "the flower farm"]
_PEOPLE = ["The mayor", "A nurse", "The new coach", "Two students", "A local baker"]


def pair_rows() -> list[tuple[str, str, int]]:
    """Forty invented pairs, half rewordings (1) and half unrelated statements (0)."""
    rows = []
    for i, place in enumerate(_PLACES):
        who = _PEOPLE[i % len(_PEOPLE)]
        rows.append((f"{who} visited {place} on Monday.", f"On Monday, {who.lower()} went to {place}.", 1))
        rows.append((f"{who} praised {place} in a speech.", f"In a speech, {who.lower()} spoke well of {place}.", 1))
        rows.append((f"{who} visited {place} on Monday.", f"Prices at {place} rose sharply last year.", 0))
        rows.append((f"Rain closed {place} for a day.", f"{who} opened a bakery near {place}.", 0))
    return rows


def write_pairs(path: Path, with_label: bool = True, sep: str = "\t") -> Path:
    header = ["sentence1", "sentence2"] + (["label"] if with_label else [])
    lines = [sep.join(header)] + [sep.join([a, b] + ([str(y)] if with_label else [])) for a, b, y in pair_rows()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model_dir, tmp_path_factory) -> Path:
    """A 2-layer BERT fine-tuned for 3 steps through `python -m trainer_backend` (a real studio run folder)."""
    folder = tmp_path_factory.mktemp("tiny-ckpt")
    data = write_pairs(folder / "pairs.tsv")
    out = folder / "run"
    cmd = [sys.executable, "-m", "trainer_backend", "--model_name_or_path", str(tiny_model_dir),
           "--dataset", str(data), "--output_dir", str(out), "--max_steps", "3",
           "--per_device_train_batch_size", "8", "--max_length", "64", "--eval_strategy", "no",
           "--logging_steps", "1", "--precision", "fp32", "--learning_rate", "1e-3", "--head_lr_factor", "1"]
    env = {**os.environ, "STUDIO_FORCE_CPU": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"CLI training failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert (out / "model.safetensors").is_file() and (out / "studio_run.json").is_file()
    return out


@pytest.fixture(scope="session")
def hub_cache(tiny_checkpoint, tmp_path_factory) -> Path:
    """A Hugging Face cache folder holding tiny_checkpoint as HUB_ID (models--org--name/snapshots/<hash>)."""
    cache = tmp_path_factory.mktemp("hf-cache")
    repo = cache / ("models--" + HUB_ID.replace("/", "--"))
    snapshot = repo / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True)
    for item in tiny_checkpoint.iterdir():
        if item.is_file() and item.name != "training_args.bin":
            shutil.copy2(item, snapshot / item.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SNAPSHOT)
    return cache


@pytest.fixture()
def use_hub_cache(hub_cache, monkeypatch) -> Path:
    """Point the real from_pretrained resolution at hub_cache, offline."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return hub_cache


# --- checkpoints of other tasks: a three-class pair model and a single-sentence model ------------------------------
THREE_CLASS = TaskSpec("file", ("premise", "hypothesis"), ("entailment", "neutral", "contradiction"))
SINGLE = TaskSpec("glue/sst2", ("sentence",), ("negative", "positive"))
_CUES = {THREE_CLASS: ("yes yes yes", "maybe maybe maybe", "no no no"), SINGLE: ("awful awful awful", "lovely lovely lovely")}


def task_rows(spec: TaskSpec, n: int, seed: int = 0) -> list[tuple[tuple[str, ...], int]]:
    """n learnable examples of `spec`: random words, the class carried by a cue at the start of the last text (as
    helpers.write_learnable_pairs does for pairs), classes in turn."""
    import random

    from tests.helpers import LEARNABLE_WORDS

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        y = i % spec.num_labels
        last = f"{_CUES[spec][y]} " + " ".join(rng.choices(LEARNABLE_WORDS, k=3))
        texts = (" ".join(rng.choices(LEARNABLE_WORDS, k=4)), last) if spec.pair else (last,)
        rows.append((texts, y))
    return rows


def write_task_file(path: Path, spec: TaskSpec, n: int = 30, seed: int = 1, label_names: bool = True) -> Path:
    """A CSV of `spec`'s examples with its own column names and a label column (class names, or ids)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*spec.text_columns, "label"])
        for texts, y in task_rows(spec, n, seed):
            writer.writerow([*texts, spec.label_names[y] if label_names else y])
    return path


def train_task_checkpoint(base: Path, out: Path, spec: TaskSpec, steps: int = 60) -> Path:
    """The tiny BERT fine-tuned on task_rows for a few dozen steps (a plain loop: the Trainer's task support is
    another branch's work), stamped with `spec` (tasks.stamp) and saved as a checkpoint folder."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, BertForSequenceClassification

    from trainer_backend.tasks import stamp

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    config = AutoConfig.from_pretrained(str(base))
    stamp(config, spec)
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(str(base), config=config)
    rows = task_rows(spec, 96)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    for step in range(steps):
        batch = [rows[(step * 16 + k) % len(rows)] for k in range(16)]
        columns = list(zip(*(texts for texts, _ in batch)))
        enc = tokenizer(*columns, padding=True, return_tensors="pt")
        loss = model(**enc, labels=torch.tensor([y for _, y in batch])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def three_class_checkpoint(tiny_model_dir, tmp_path_factory) -> Path:
    """A three-class pair model (premise/hypothesis → entailment, neutral, contradiction) that learned its cue."""
    return train_task_checkpoint(tiny_model_dir, tmp_path_factory.mktemp("three-class"), THREE_CLASS)


@pytest.fixture(scope="session")
def single_checkpoint(tiny_model_dir, tmp_path_factory) -> Path:
    """A single-sentence two-class model (SST-2-like: sentence → negative, positive) that learned its cue."""
    return train_task_checkpoint(tiny_model_dir, tmp_path_factory.mktemp("single"), SINGLE)


@pytest.fixture()
def pytorch_only(monkeypatch) -> None:
    """PyTorch answers (the gate has its own tests): no engine check competing for the CPU in the background."""
    monkeypatch.setenv("PREDICT_FASTPATH", "off")


# --- the fast path's tests (test_fastpath.py, test_close_calls.py) ------------------------------------------
PREDICT_PAIRS = [(a, b) for a, b, _ in pair_rows()[:12]] + [("Short.", "A much longer second sentence, to pad a batch.")]


def load_in_mode(folder: Path, monkeypatch, mode: str):
    """The tiny run loaded as the app loads it, with PREDICT_FASTPATH=mode (its engine check runs before return)."""
    from trainer_backend import serving

    monkeypatch.setenv("PREDICT_FASTPATH", mode)
    return serving.load_predictor(serving.ModelRef(str(folder), "tiny run", "chosen"))


def gate_pairs(n: int):
    """n made-up validation pairs labelled 0, 1, 0, 1, ... (for the gate without a model)."""
    from trainer_backend.serving import fastpath

    return fastpath.GatePairs([f"a{i}" for i in range(n)], [f"b{i}" for i in range(n)], [i % 2 for i in range(n)],
                              "test pairs")


def flipping_scorer(flip: set[int]):
    """PyTorch answers = the labels; the candidate flips the answers at the indices in `flip`."""
    def score(firsts, seconds, engine):
        rows = []
        for i in range(len(firsts)):
            y = i % 2 if engine == "pytorch-fp32" or i not in flip else 1 - i % 2
            rows.append([0.2, 0.8] if y else [0.8, 0.2])
        return rows
    return score
