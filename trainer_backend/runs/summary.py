"""What a finished run amounts to, without any plotting: its name, the majority-class floor, seed-group means."""
from __future__ import annotations

import statistics
from typing import Iterable

from trainer_backend.runs.store import Run


def run_name(run: Run) -> str:
    """A name that tells runs apart in menus and legends: label, start time and the id's last 4 characters."""
    import time as _time

    when = _time.strftime("%H:%M", _time.localtime(run.born)) if run.created else "?"
    return f"{run.label} · {when} · {run.id[-4:]}"


def majority_floor(matrix: list[list[int]] | None) -> tuple[float, float] | None:
    """(accuracy, F1) a model reaches by always answering the more common class of this validation set.

    Computed from the run's own confusion matrix (rows = true labels), so it is the floor of the data it used:
    about 0.68 / 0.81 on MRPC's validation split, 0.50 / 0.67 on a balanced sample."""
    if not matrix or len(matrix) != 2:
        return None
    negatives, positives = sum(matrix[0]), sum(matrix[1])
    total = negatives + positives
    if total == 0:
        return None
    share = positives / total
    accuracy = max(share, 1 - share)
    f1 = 2 * share / (1 + share) if share >= 0.5 else 0.0  # F1 of always saying "paraphrase" (positive class)
    return accuracy, f1


def at_floor(run: Run) -> tuple[float, float, float] | None:
    """(accuracy, floor accuracy, floor F1) when a finished run's accuracy is within one pair of the floor; None
    while it waits or trains (a resumed run's evaluation at Stop no longer describes it)."""
    if run.status in ("queued", "starting", "running"):
        return None
    floor = majority_floor(run.final_metrics.get("confusion"))
    accuracy = run.final_metrics.get("eval_accuracy")
    if floor is None or not isinstance(accuracy, (int, float)):
        return None
    pairs = sum(map(sum, run.final_metrics["confusion"]))
    return (accuracy, *floor) if accuracy <= floor[0] + 1.0 / pairs + 1e-9 else None


def group_summary(runs: Iterable[Run]) -> dict[str, tuple[float, float, int]]:
    """Final accuracy and F1 as (mean, std, n) over finished runs."""
    out = {}
    for key in ("eval_accuracy", "eval_f1"):
        vals = [r.final_metrics[key] for r in runs if key in r.final_metrics]
        if vals:
            out[key] = (statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0, len(vals))
    return out
