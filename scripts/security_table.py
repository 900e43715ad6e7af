"""Prints the README's Security tables from the code: the hostile inputs the Space suite tests, and the quotas."""
from __future__ import annotations

import importlib
import os
from dataclasses import asdict
from pathlib import Path

from trainer_backend import settings
from web import limits as web_limits

ENV = {  # field -> (variable, what it bounds)
    "runs_per_visitor": ("STUDIO_RUNS_PER_VISITOR", "runs one visitor may have queued or running"),
    "queue_size": ("STUDIO_QUEUE_SIZE", "runs waiting, all visitors together (Resume included)"),
    "run_seconds": ("STUDIO_RUN_SECONDS", "wall time of one run from its process start, loading and evaluation "
                    "included; then it is stopped (s)"),
    "min_eval_steps": ("STUDIO_MIN_EVAL_STEPS", "fewest steps between evaluations/checkpoints"),
    "upload_bytes": ("STUDIO_UPLOAD_MB", "one uploaded file (Gradio refuses it before reading)"),
    "uploads_per_visitor": ("STUDIO_UPLOADS_PER_VISITOR", "data files kept per visitor (oldest dropped)"),
    "gradio_queue": ("STUDIO_GRADIO_QUEUE", "requests waiting in Gradio's queue"),
    "hub_model_bytes": ("STUDIO_HUB_MODEL_MB", "every file a Hub model load fetches (Train, Lesson, Predict), "
                        "checked at the commit then downloaded"),
    "hub_dataset_bytes": ("STUDIO_HUB_DATASET_MB", "the data files of a Hub dataset, checked at the commit then "
                          "downloaded"),
    "runs_disk_bytes": ("STUDIO_RUNS_DISK_MB", "all run folders; oldest finished runs pruned beyond it"),
    "run_max_age_days": ("STUDIO_RUN_MAX_AGE_DAYS", "finished runs older than this are pruned (0 = never)"),
    "lesson_chars": ("STUDIO_LESSON_CHARS", "characters per sentence in the Lesson demos"),
    "downloads_bytes": ("STUDIO_DOWNLOADS_MB", "zips and CSVs prepared for download"),
    "downloads_age_seconds": ("STUDIO_DOWNLOADS_SECONDS", "how long a prepared download is kept (s)"),
    "hf_cache_bytes": ("STUDIO_HF_CACHE_MB", "Hugging Face model/dataset caches and Predict's fast-path exports; "
                       "least recently used pruned beyond it, never what a run or Predict uses (0 = never)"),
    "stop_grace_seconds": ("STUDIO_STOP_GRACE_SECONDS", "a stopped or timed-out run's grace before it is killed (s)"),
    "step_tokens": ("STUDIO_STEP_TOKENS", "batch × accumulation × max tokens of one optimizer step (0 = no cap)"),
    "eval_samples": ("STUDIO_EVAL_SAMPLES", "validation pairs one run evaluates (0 = no cap)"),
    "runs_per_address": ("STUDIO_RUNS_PER_ADDRESS", "runs one client address may have queued or running (0 = no cap)"),
    "uploads_per_address": ("STUDIO_UPLOADS_PER_ADDRESS", "uploads from one client address per hour (0 = no cap)"),
    "uploads_bytes": ("STUDIO_UPLOADS_DISK_MB", "all visitors' uploads; oldest pruned beyond it"),
    "upload_max_age_days": ("STUDIO_UPLOAD_MAX_AGE_DAYS", "uploads older than this are pruned (0 = never)"),
}

ZEROGPU_ENV = {  # settings.ZeroGPUSettings field -> (variable, what it bounds); read only on a ZeroGPU Space
    "max_seconds": ("STUDIO_ZEROGPU_MAX_SECONDS", "ZeroGPU only: the longest GPU call a run may ask for; a run whose "
                    "estimate × margin + headroom is longer is refused before it is queued (s)"),
    "margin": ("STUDIO_ZEROGPU_MARGIN", "ZeroGPU only: the factor on a run's estimate in the duration it asks for"),
    "headroom_seconds": ("STUDIO_ZEROGPU_HEADROOM_SECONDS", "ZeroGPU only: seconds added to that for loading, the "
                         "final evaluation and saving; training stops with a checkpoint before them (s)"),
}


def _show(name: str, value: float) -> str:
    if name.endswith("_bytes"):
        return f"{value / 1024 / 1024:,.0f} MB"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value}"


SPACE_TESTS = Path(__file__).resolve().parent.parent / "tests" / "space"


def hostile_rows() -> list[tuple[str, str, str]]:
    """Every module's HOSTILE rows, test_space_security first (its 39 rows keep their numbers), then the
    other tests/space/test_space_*.py modules by file name."""
    names = sorted(p.stem for p in SPACE_TESTS.glob("test_space_*.py"))
    names.sort(key=lambda name: name != "test_space_security")
    rows: list[tuple[str, str, str]] = []
    for name in names:
        rows.extend(getattr(importlib.import_module(f"tests.space.{name}"), "HOSTILE", []))
    return rows


def main() -> None:
    print("| # | hostile input | where | what the visitor gets |\n|---|---|---|---|")
    for number, (value, where, answer) in enumerate(hostile_rows(), 1):
        print(f"| {number} | `{value}` | {where} | {answer!s} |".replace("`<", "`&lt;"))
    variables = {v for v, _ in ENV.values()} | {v for v, _ in ZEROGPU_ENV.values()}
    for key in [k for k in os.environ if k in variables or k == "SPACE_ID"]:
        os.environ.pop(key)
    local = {**asdict(settings.limits()), **asdict(web_limits.limits())}
    local_zero = settings.zero_gpu_settings()
    os.environ["SPACE_ID"] = "owner/space"
    space = {**asdict(settings.limits()), **asdict(web_limits.limits())}
    space_zero = settings.zero_gpu_settings()
    assert set(space) == set(ENV), "every limit has its row"
    print("\n| variable | what it bounds | on a Space | locally |\n|---|---|---|---|")
    for name, (variable, doc) in ENV.items():  # the table's order: ENV's
        print(f"| `{variable}` | {doc} | {_show(name, space[name])} | {_show(name, local[name])} |")
    for name, (variable, doc) in ZEROGPU_ENV.items():
        print(f"| `{variable}` | {doc} | {_show(name, getattr(space_zero, name))} | "
              f"{_show(name, getattr(local_zero, name))} |")


if __name__ == "__main__":
    main()
