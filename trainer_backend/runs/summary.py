"""What a finished run amounts to, without any plotting: its name, the majority-class floor, seed-group means."""
from __future__ import annotations

import statistics
from typing import Iterable

from trainer_backend.metrics import floor_of_matrix
from trainer_backend.runs.store import Run


def run_name(run: Run) -> str:
    """A name that tells runs apart in menus and legends: label, start time and the id's last 4 characters."""
    import time as _time

    when = _time.strftime("%H:%M", _time.localtime(run.born)) if run.created else "?"
    return f"{run.label} · {when} · {run.id[-4:]}"


def majority_floor(matrix: list[list[int]] | None) -> tuple[float, float] | None:
    """(accuracy, F1) of always answering the more common class of the validation set a run was scored on, from
    its own confusion matrix (so it is the floor of the data it used); see metrics.MajorityFloor."""
    floor = floor_of_matrix(matrix)
    return (floor.accuracy, floor.f1) if floor else None


def at_floor(run: Run) -> tuple[float, float, float] | None:
    """(accuracy, floor accuracy, floor F1) when a finished run's accuracy is within one pair of the floor; None
    while it waits or trains (a resumed run's evaluation at Stop no longer describes it)."""
    if run.status in ("queued", "starting", "running"):
        return None
    floor = floor_of_matrix(run.final_metrics.get("confusion"))
    accuracy = run.final_metrics.get("eval_accuracy")
    if floor is None or not isinstance(accuracy, (int, float)):
        return None
    return (accuracy, floor.accuracy, floor.f1) if floor.at_floor(accuracy) else None


def group_summary(runs: Iterable[Run]) -> dict[str, tuple[float, float, int]]:
    """Final accuracy and F1 as (mean, std, n) over finished runs."""
    out = {}
    for key in ("eval_accuracy", "eval_f1"):
        vals = [r.final_metrics[key] for r in runs if key in r.final_metrics]
        if vals:
            out[key] = (statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0, len(vals))
    return out
