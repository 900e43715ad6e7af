"""Fixtures for the Predict and Hub tests: a tiny checkpoint trained by the real CLI, and a fake Hub cache."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
