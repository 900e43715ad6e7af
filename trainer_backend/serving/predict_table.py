"""Batch prediction for an uploaded table of pairs: a predictions CSV, a preview, and metrics when labelled."""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from trainer_backend.data import DataError, read_table, rows_to_pairs
from trainer_backend.metrics import confusion, load_metric
from trainer_backend.serving.predictor import Predictor
from web import downloads

MAX_TABLE_ROWS = 10_000


@dataclass
class TableReport:
    """Predictions for an uploaded table: the CSV written, a preview, and metrics when labels were given."""

    csv_path: Path
    rows: list[dict]
    seconds: float
    metrics: dict[str, float] | None
    confusion: list[list[int]] | None
    labels: list[str]
    notes: list[str]


def predict_table(path: str | Path, predictor: Predictor, s1: str = "sentence1", s2: str = "sentence2",
                  label: str = "label", engine: str = "serving") -> TableReport:
    """Classify every pair of a CSV/TSV/JSONL file (same parsing and column mapping as training)."""
    path = Path(path)
    rows = read_table(path)
    if len(rows) > MAX_TABLE_ROWS:
        raise DataError(f"{path.name} has {len(rows):,} rows; Predict handles up to {MAX_TABLE_ROWS:,} per file.")
    has_label = bool(label) and label in rows[0]
    pairs = rows_to_pairs(rows, s1, s2, label if has_label else "label", path.name, require_label=has_label)
    start = time.perf_counter()
    results = predictor.predict_pairs(list(zip(pairs["sentence1"], pairs["sentence2"])), engine=engine)
    seconds = time.perf_counter() - start
    for number, result in enumerate(results, 2):
        if result.error:
            raise DataError(f"{path.name}, row {number}: {result.error}")
    positive = predictor.labels[1]
    predicted = [int(r.label == positive) for r in results]
    out_rows = []
    for i, r in enumerate(results):
        row = {"sentence1": pairs["sentence1"][i], "sentence2": pairs["sentence2"][i]}
        if has_label:
            row["label"] = predictor.labels[pairs["label"][i]]
        row.update(predicted_label=r.label, **{f"probability_{positive}": round(r.confidences[positive], 4)})
        if has_label:
            row["correct"] = predicted[i] == pairs["label"][i]
        out_rows.append(row)

    csv_path = downloads.new_file(f"{path.stem[:60]}-predictions.csv")  # the capped, pruned downloads folder
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out_rows[0]))
        writer.writeheader()
        writer.writerows(out_rows)
    metrics = matrix = None
    if has_label:
        metrics = {k: float(v) for k, v in load_metric().compute(predictions=predicted,
                                                                  references=pairs["label"]).items()}
        matrix = confusion(predicted, pairs["label"])
    truncated = sum(any("cut off" in n or "characters" in n for n in r.notes) for r in results)
    notes = [f"{truncated} pair(s) were longer than the model reads and were truncated."] if truncated else []
    return TableReport(csv_path, out_rows, seconds, metrics, matrix, list(predictor.labels), notes)
