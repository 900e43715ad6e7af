"""What every serving engine is: the Engine protocol (name, titles, which modes include it, how it is opened), the
Backend it opens (logits, memory, size on disk), and what opening one is given. Concrete engines live in their own
modules (engine_onnx, engine_openvino, engine_bf16); engines.py is the registry the gate and the UI read."""
from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from trainer_backend import settings

KEEP_EXPORTS = 4           # checkpoints whose engine files are kept on disk (least recently used go first)
GATE_VERSION = 10  # bump when the export or quantization recipe or the gate's record changes
PYTORCH = "pytorch"        # the plain model: always there, never in the registry
PYTORCH_FP32 = "pytorch-fp32"  # the reference every engine is checked against

# (firsts, seconds or None, engine) -> probability rows (one per class); engine is "pytorch-fp32" or a Backend
Scorer = Callable[[Sequence[str], Sequence[str] | None, object], list[list[float]]]
Progress = Callable[[float, str], None]


@dataclass
class GatePairs:
    """Validation examples an engine is checked (and, for the mixed model, ranked) on, and where they came from.

    seconds: None for a single-sentence model; labels: None when the examples carry no labels that fit the model's
    classes (then only agreement with PyTorch is checked)."""

    firsts: list[str]
    seconds: list[str] | None
    labels: list[int] | None
    source: str

    def __len__(self) -> int:
        return len(self.firsts)

    def head(self, n: int) -> tuple[list[str], list[str] | None]:
        """The first n examples as (firsts, seconds), what a Scorer takes."""
        return self.firsts[:n], None if self.seconds is None else self.seconds[:n]

    def one(self, i: int) -> tuple[list[str], list[str] | None]:
        """Example i alone, as a Scorer takes it."""
        return [self.firsts[i]], None if self.seconds is None else [self.seconds[i]]


class Backend(Protocol):
    """An opened engine for one checkpoint: padded int64 rows in, float32 logits out."""

    engine: str          # the registry name of the engine that made it
    detail: str          # what is particular about this one (shown beside the title), or ""
    path: Path | None    # its file on disk, if it has one (an engine reading several also has `paths`: all of them)
    bytes: int           # memory it holds

    def logits(self, arrays: dict) -> np.ndarray: ...


def files(backend: Backend) -> tuple[Path, ...]:
    """Every file a backend reads (none for one that lives in memory only)."""
    return tuple(p for p in getattr(backend, "paths", (backend.path,)) if p is not None)


def disk_bytes(backend: Backend) -> int:
    """The size of a backend's files on disk (0 for one that lives in memory only)."""
    return sum(p.stat().st_size for p in files(backend) if p.is_file())


@dataclass
class BuildContext:
    """What opening an engine for one checkpoint may use: the PyTorch model and tokenizer, the folder its files
    live in, the threads to use, and (for engines that calibrate) the validation pairs and a scorer."""

    model: object
    tokenizer: object
    folder: Path
    threads: int
    pairs: GatePairs
    score: Scorer
    progress: Progress


class Engine(Protocol):
    """One way to answer Predict besides plain PyTorch. Adding one: a module that defines it, one line in
    engines.ENGINES."""

    name: str                  # stored in gate records and bench results: never rename
    title: str                 # what the facts panel and Compare call it
    short: str                 # what the README's bench tables call it
    modes: frozenset[str]      # PREDICT_FASTPATH modes that check it; empty: only where the CPU computes bf16
    native_bf16: bool          # checked only on CPUs with native bf16 (and then in every mode but off)
    settles: bool              # a pass ends the search for candidates (False: the next ones are checked too)

    def open(self, ctx: BuildContext) -> Backend: ...


@dataclass(frozen=True)
class EngineSpec:
    """An Engine made of plain values and an opening function (how the built-in engines are written)."""

    name: str
    title: str
    short: str
    opener: Callable[[BuildContext], Backend]
    modes: frozenset[str] = frozenset()
    native_bf16: bool = False
    settles: bool = True

    def open(self, ctx: BuildContext) -> Backend:
        return self.opener(ctx)


def torch_logits(model, rows: dict, device: str = "cpu", context=None) -> np.ndarray:
    """One padded batch through a PyTorch classifier (no gradients; `context`: e.g. an autocast), float32 logits.
    The Predictor's own PyTorch paths and the bf16 copy both answer through this."""
    import torch

    inputs = {k: torch.as_tensor(v, dtype=torch.long, device=device) for k, v in rows.items()}
    with torch.inference_mode(), (context or contextlib.nullcontext()):
        return model(**inputs).logits.float().cpu().numpy()


def weights_digest(model) -> str:
    """A content hash of the weights: a retrained or re-downloaded checkpoint gets new engine files."""
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def remembered(path: Path, key: dict) -> dict | None:
    """A JSON record kept beside a checkpoint's engine files ({"key": ..., ...}), if it was made the same way (`key`)
    as now; None when it is missing, unreadable or stale."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) and saved.get("key") == key else None


def export_dir(digest: str) -> Path:
    return settings.data_dir() / "fastpath" / digest


def prune_exports(keep: Path) -> None:
    """Keep the KEEP_EXPORTS most recently used checkpoints' engine files on disk."""
    folders = sorted((p for p in keep.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[KEEP_EXPORTS:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
