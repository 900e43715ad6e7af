"""The scores of a run through `evaluate`'s `glue` metric (accuracy, F1, Matthews correlation as its config for the
task says), with local modules for when the Hub cannot be reached; the confusion matrix and the majority floor."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from trainer_backend import settings
from trainer_backend.tasks import TaskSpec, metric_config

LOCAL_GLUE = Path(__file__).resolve().parent / "metric_modules" / "glue_local"


@functools.lru_cache(maxsize=16)
def load_glue_metric(config: str = "mrpc", prefer_hub: bool = True):
    """evaluate.load('glue', config) when the Hub is reachable, else the local twin glue_local (same numbers, a
    test checks them against scikit-learn)."""
    import evaluate

    if prefer_hub and not settings.is_offline():
        try:
            return evaluate.load("glue", config)
        except Exception:  # noqa: BLE001 - any Hub hiccup falls back to the identical local module
            pass
    return evaluate.load(str(LOCAL_GLUE), config)


def load_metric(prefer_hub: bool = True):
    """MRPC's metric, accuracy and F1: evaluate.load('glue', 'mrpc'), or offline its local twin."""
    return load_glue_metric("mrpc", prefer_hub)


def metric_from_hub(prefer_hub: bool = True, config: str = "mrpc") -> bool:
    """Whether the task's scores come from the Hub's `glue` module (else the packaged offline twin)."""
    return load_glue_metric(config, prefer_hub).name == "glue"


def metrics_for(task: TaskSpec):
    """The compute_metrics the Trainer calls for `task`: the `glue` config that scores it (tasks.metric_config), plus
    accuracy where that config leaves it out (CoLA's Matthews correlation alone): every run is read against its
    majority floor, which is an accuracy."""
    config = metric_config(task)
    if config == "mrpc":
        return compute_metrics

    def compute(eval_preds) -> dict[str, float]:
        logits, labels = eval_preds
        if isinstance(logits, tuple):
            logits = logits[0]
        predictions, labels = logits_to_predictions(np.asarray(logits)), np.asarray(labels)
        scores = load_glue_metric(config).compute(predictions=predictions, references=labels)
        return {"accuracy": float((predictions == labels).mean()), **scores}

    return compute


def logits_to_predictions(logits: np.ndarray) -> np.ndarray:
    """(N, classes) logits -> (N,) class ids: the index of the largest score in each row."""
    return np.argmax(logits, axis=-1)


def compute_metrics(eval_preds) -> dict[str, float]:
    """What the Trainer calls after each evaluation: logits and labels in, {'accuracy', 'f1'} out."""
    logits, labels = eval_preds
    if isinstance(logits, tuple):
        logits = logits[0]
    predictions = logits_to_predictions(np.asarray(logits))
    return load_metric().compute(predictions=predictions, references=np.asarray(labels))


def confusion(predictions: np.ndarray, labels: np.ndarray, num_labels: int = 2) -> list[list[int]]:
    """n x n counts (n = num_labels, or more when the ids ask for it), rows = true label, columns = predicted."""
    predictions, labels = np.asarray(predictions).tolist(), np.asarray(labels).tolist()
    n = max([num_labels - 1, *map(int, predictions), *map(int, labels)]) + 1
    m = [[0] * n for _ in range(n)]
    for p, t in zip(predictions, labels):
        m[int(t)][int(p)] += 1
    return m


@dataclass(frozen=True)
class MajorityFloor:
    """What answering the commonest label for every validation example scores: the floor a model has to beat. The
    one place this is computed (the Train view, the Lesson and the quiz read it from here). Two classes need only
    the count of class 1; more classes give every class's count."""

    pairs: int       # validation examples
    positives: int   # of which labelled 1 (paraphrase, for MRPC)
    counts: tuple[int, ...] = ()  # per class, in id order (empty: two classes, from pairs and positives)

    @property
    def class_counts(self) -> tuple[int, ...]:
        return self.counts or (self.pairs - self.positives, self.positives)

    @property
    def share(self) -> float:
        return self.positives / self.pairs if self.pairs else 0.0

    @property
    def majority(self) -> int:
        """The label answered for every example (the higher id on a tie: 1 for two balanced classes)."""
        counts = self.class_counts
        return max(range(len(counts)), key=lambda i: (counts[i], i))

    @property
    def accuracy(self) -> float:
        return max(self.class_counts) / self.pairs if self.pairs else 0.0

    @property
    def f1(self) -> float:
        """F1 of class 1 when every example gets the majority answer (0 when that answer is another class)."""
        return 2 * self.share / (1 + self.share) if self.majority == 1 else 0.0

    def at_floor(self, accuracy: float) -> bool:
        """Within one validation pair of the floor: nothing learned beyond what the label counts give."""
        return accuracy <= self.accuracy + 1.0 / max(self.pairs, 1) + 1e-9


def floor_of_labels(labels: Iterable[int], num_labels: int = 2) -> MajorityFloor:
    """The floor of a validation split, from its labels."""
    labels = [int(y) for y in labels]
    n = max([num_labels - 1, *labels]) + 1
    counts = tuple(labels.count(i) for i in range(n))
    return MajorityFloor(len(labels), counts[1], counts if n > 2 else ())


def floor_of_matrix(matrix: list[list[int]] | None) -> MajorityFloor | None:
    """The floor from an n x n confusion matrix (rows = true labels), as every finished run stores it."""
    if not matrix or len(matrix) < 2 or any(len(row) != len(matrix) for row in matrix) or not sum(map(sum, matrix)):
        return None
    counts = tuple(sum(row) for row in matrix)
    return MajorityFloor(sum(counts), counts[1], counts if len(counts) > 2 else ())
