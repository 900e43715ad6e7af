"""Accuracy and F1 through `evaluate`, with a local module for when the Hub cannot be reached."""
from __future__ import annotations

import functools
from pathlib import Path

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


def metric_source(prefer_hub: bool = True) -> str:
    metric = load_metric(prefer_hub)
    return "evaluate 'glue/mrpc' (Hub)" if metric.name == "glue" else "local evaluate module (offline copy)"


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
