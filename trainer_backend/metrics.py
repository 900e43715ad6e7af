"""Accuracy and F1 through `evaluate`, with a local module for when the Hub cannot be reached."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from trainer_backend import settings

LOCAL_MODULE = Path(__file__).resolve().parent / "metric_modules" / "mrpc_local"


@functools.lru_cache(maxsize=2)
def load_metric(prefer_hub: bool = True):
    """evaluate.load('glue', 'mrpc') when the Hub is reachable, else the local module (same numbers)."""
    import evaluate

    if prefer_hub and not settings.is_offline():
        try:
            return evaluate.load("glue", "mrpc")
        except Exception:  # noqa: BLE001 - any Hub hiccup falls back to the identical local module
            pass
    return evaluate.load(str(LOCAL_MODULE))


def metric_from_hub(prefer_hub: bool = True) -> bool:
    """Whether accuracy and F1 come from the Hub's glue/mrpc module (else the packaged offline copy)."""
    return load_metric(prefer_hub).name == "glue"


def logits_to_predictions(logits: np.ndarray) -> np.ndarray:
    """(N, 2) logits -> (N,) class ids: the index of the larger score in each row."""
    return np.argmax(logits, axis=-1)


def compute_metrics(eval_preds) -> dict[str, float]:
    """What the Trainer calls after each evaluation: logits and labels in, {'accuracy', 'f1'} out."""
    logits, labels = eval_preds
    if isinstance(logits, tuple):
        logits = logits[0]
    predictions = logits_to_predictions(np.asarray(logits))
    return load_metric().compute(predictions=predictions, references=np.asarray(labels))


def confusion(predictions: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    """2x2 counts, rows = true label, columns = predicted label."""
    m = [[0, 0], [0, 0]]
    for p, t in zip(np.asarray(predictions).tolist(), np.asarray(labels).tolist()):
        m[int(t)][int(p)] += 1
    return m


@dataclass(frozen=True)
class MajorityFloor:
    """What answering the commoner label for every validation pair scores: the floor a model has to beat. The one
    place this is computed (the Train view, the Lesson and the quiz read it from here)."""

    pairs: int       # validation pairs
    positives: int   # of which labelled 1 (paraphrase)

    @property
    def share(self) -> float:
        return self.positives / self.pairs if self.pairs else 0.0

    @property
    def majority(self) -> int:
        """The label answered for every pair (1 on a tie)."""
        return 1 if self.share >= 0.5 else 0

    @property
    def accuracy(self) -> float:
        return max(self.share, 1 - self.share)

    @property
    def f1(self) -> float:
        """F1 of the paraphrase class when every pair gets the majority answer (0 when that answer is 'not')."""
        return 2 * self.share / (1 + self.share) if self.share >= 0.5 else 0.0

    def at_floor(self, accuracy: float) -> bool:
        """Within one validation pair of the floor: nothing learned beyond what the label counts give."""
        return accuracy <= self.accuracy + 1.0 / max(self.pairs, 1) + 1e-9


def floor_of_labels(labels: Iterable[int]) -> MajorityFloor:
    """The floor of a validation split, from its labels."""
    labels = [int(y) for y in labels]
    return MajorityFloor(len(labels), sum(1 for y in labels if y == 1))


def floor_of_matrix(matrix: list[list[int]] | None) -> MajorityFloor | None:
    """The floor from a 2x2 confusion matrix (rows = true labels), as every finished run stores it."""
    if not matrix or len(matrix) != 2 or not sum(map(sum, matrix)):
        return None
    return MajorityFloor(sum(map(sum, matrix)), sum(matrix[1]))
