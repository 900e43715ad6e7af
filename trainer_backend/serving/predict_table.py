"""Batch prediction for an uploaded table of texts (one or two text columns, as the model reads them): a predictions
CSV, a preview, and metrics when labelled."""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer_backend.data import DataError, normalize_label, read_table, snippet
from trainer_backend.metrics import load_metric
from trainer_backend.serving.predictor import Predictor
from trainer_backend.tasks import PAIR_COLUMNS, TaskSpec
from web import downloads

MAX_TABLE_ROWS = 10_000
USUAL_COLUMNS = (("sentence1", "sentence", "text"), ("sentence2",))  # tried after the asked and the task's names


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
    text_columns: tuple[str, ...] = PAIR_COLUMNS  # the names the texts have in the CSV written and the preview


def text_columns(found: list[str], asked: tuple[str, str], task: TaskSpec, source: str) -> tuple[list[str], list[str]]:
    """The file's columns holding the model's one or two texts, and notes. A name the visitor typed must exist; the
    default names (sentence1/sentence2, the task's own, or none) fall back to the task's own columns, then the usual
    ones (sentence1, sentence, text for the first text; sentence2 for the second)."""
    chosen, notes = [], []
    for slot in range(len(task.text_columns)):
        wanted = (asked[slot] or "").strip()
        typed = wanted and wanted not in (PAIR_COLUMNS[slot], task.text_columns[slot])
        options = [wanted] if typed else [c for c in (wanted, task.text_columns[slot], *USUAL_COLUMNS[slot]) if c]
        hit = next((c for c in options if c in found), None)
        if hit is None:
            raise DataError(_missing(found, options[:1] if typed else options, task, slot, source))
        chosen.append(hit)
    second = (asked[1] or "").strip() or PAIR_COLUMNS[1]
    if not task.pair and second in found and second not in chosen:
        notes.append(f"This model reads one sentence, so the column {snippet(second)} was not read.")
    return chosen, notes


def _missing(found: list[str], tried: list[str], task: TaskSpec, slot: int, source: str) -> str:
    shown = ", ".join(snippet(c) for c in found[:10]) + (f" and {len(found) - 10:,} more" if len(found) > 10 else "")
    names = " or ".join(snippet(c) for c in dict.fromkeys(tried))
    reads = (f"this model compares two texts ({', '.join(task.text_columns)})" if task.pair
             else f"this model reads one text ({task.text_columns[0]})")
    which = ("the first", "the second")[slot] if task.pair else "the"
    return (f"{source}: missing column(s) {names}: {reads}. Columns found: {shown}. Name {which} text column in the "
            "column boxes.")


def label_id(value: object, task: TaskSpec, row: int) -> int:
    """A label cell as a class id: the class's name (case and _/space ignored) or its number; MRPC models also take
    the yes/no spellings training accepts."""
    text = "" if value is None else str(value).strip()
    names = {n.lower().replace("_", " "): i for i, n in enumerate(task.label_names)}
    key = text.lower().replace("_", " ")
    if key in names:
        return names[key]
    if text.lstrip("-").isdigit() and 0 <= int(text) < task.num_labels:
        return int(text)
    if task.is_mrpc:
        return normalize_label(value, row)
    raise DataError(f"row {row}: the label {snippet(text)} is not one of this model's classes "
                    f"({', '.join(task.label_names)}) nor their numbers 0–{task.num_labels - 1}.")


def scores(predicted: list[int], true: list[int], task: TaskSpec) -> tuple[dict[str, float], list[list[int]]]:
    """Metrics and the n × n confusion matrix (rows: true class, columns: predicted). Two classes: accuracy and the
    F1 of the second class, as the GLUE mrpc metric computes them; more: accuracy and macro F1 from the matrix."""
    n = task.num_labels
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (np.asarray(true, dtype=int), np.asarray(predicted, dtype=int)), 1)
    if n == 2:
        metrics = load_metric().compute(predictions=predicted, references=true)
        return {k: float(v) for k, v in metrics.items()}, matrix.tolist()
    hits = np.diag(matrix).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # a class never predicted nor present scores 0
        f1 = np.nan_to_num(2 * hits / (matrix.sum(0) + matrix.sum(1)))
    return {"accuracy": float(hits.sum() / max(matrix.sum(), 1)), "macro_f1": float(f1.mean())}, matrix.tolist()


def _read(path: Path, predictor: Predictor, s1: str, s2: str, label: str) -> tuple[list[str], dict, list[str]]:
    """(the text columns chosen, {column: values} with "label" when there is one, notes)."""
    rows = read_table(path)
    if len(rows) > MAX_TABLE_ROWS:
        raise DataError(f"{path.name} has {len(rows):,} rows; Predict handles up to {MAX_TABLE_ROWS:,} per file.")
    found = list(rows[0].keys())
    columns, notes = text_columns(found, (s1, s2), predictor.task, path.name)
    has_label = bool(label) and label in found
    out: dict[str, list] = {c: [] for c in columns} | ({"label": []} if has_label else {})
    for number, row in enumerate(rows, 2):
        values = [row.get(c) for c in columns]
        if any(v is None or not str(v).strip() for v in values):
            raise DataError(f"{path.name}, row {number}: a sentence is empty.")
        for column, value in zip(columns, values):
            out[column].append(str(value).strip())
        if has_label:
            try:
                out["label"].append(label_id(row.get(label), predictor.task, number))
            except DataError as err:
                raise DataError(f"{path.name}, {err}") from None
    return columns, out, notes


def predict_table(path: str | Path, predictor: Predictor, s1: str = "sentence1", s2: str = "sentence2",
                  label: str = "label", engine: str = "serving") -> TableReport:
    """Classify every row of a CSV/TSV/JSONL file: its one or two text columns as the model reads them (see
    text_columns), scored against the label column when there is one."""
    path = Path(path)
    columns, table, notes = _read(path, predictor, s1, s2, label)
    task, has_label = predictor.task, "label" in table
    names = task.text_columns
    inputs = list(zip(*(table[c] for c in columns)))
    start = time.perf_counter()
    results = predictor.predict_pairs(inputs, engine=engine)
    seconds = time.perf_counter() - start
    for number, result in enumerate(results, 2):
        if result.error:
            raise DataError(f"{path.name}, row {number}: {result.error}")
    labels = list(predictor.labels)
    predicted = [labels.index(r.label) for r in results]
    shown = labels[1:] if len(labels) == 2 else labels  # two classes: one probability says it all
    out_rows = []
    for i, r in enumerate(results):
        row = {name: table[c][i] for name, c in zip(names, columns)}
        if has_label:
            row["label"] = labels[table["label"][i]]
        row.update(predicted_label=r.label, **{f"probability_{k}": round(r.confidences[k], 4) for k in shown})
        if has_label:
            row["correct"] = predicted[i] == table["label"][i]
        out_rows.append(row)

    csv_path = downloads.new_file(f"{path.stem[:60]}-predictions.csv")  # the capped, pruned downloads folder
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out_rows[0]))
        writer.writeheader()
        writer.writerows(out_rows)
    metrics = matrix = None
    if has_label:
        metrics, matrix = scores(predicted, table["label"], task)
    truncated = sum(any("cut off" in n or "characters" in n for n in r.notes) for r in results)
    what = "pair(s)" if task.pair else "sentence(s)"
    notes += [f"{truncated} {what} were longer than the model reads and were truncated."] if truncated else []
    return TableReport(csv_path, out_rows, seconds, metrics, matrix, labels, notes, tuple(names))
