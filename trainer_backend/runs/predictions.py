"""What a run answered for each validation example, kept with the run: the mistakes table and the paired comparison.

Taken once, at the end of training, from the `Trainer.predict` pass that evaluate() already makes (no extra pass):
per example its index in the validation split, the true label, the predicted label and the model's confidence
(the softmax probability of the predicted class), with the pair's sentences cut to TEXT_CHARS each so the Train
tab can show them. Bounded: at most MAX_ROWS examples per run (the validation split may itself be capped by
Limits.eval_samples on a Space). Kept in the run store's `predictions` table (migration 4); the run's `info` holds
`predictions`: how many examples were evaluated and kept, and a fingerprint of the whole validation split (texts
and labels in order), which decides whether two runs evaluated the same examples.

The texts may come from a visitor's upload: read them only for a viewer who owns the run (ui/train_mistakes.py).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from trainer_backend.runs.store import RunStore

MAX_ROWS = 5000     # validation examples kept per run (MRPC has 408; MNLI's 9,815 would be cut to the first 5,000)
TEXT_CHARS = 300    # characters kept of each sentence (MRPC's longest is about 220)
INFO_KEY = "predictions"


@dataclass(frozen=True)
class Prediction:
    """One validation example as the run answered it."""

    index: int          # position in the run's validation split (after its cap)
    label: int          # the true label
    predicted: int      # the class the model chose (argmax of the logits)
    confidence: float   # softmax probability of the chosen class, 0.5 … 1 for two classes
    sentence1: str = ""
    sentence2: str = ""

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so large logits do not overflow."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _cut(text: Any) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS - 1] + "…"


def evaluation_order(trainer: Any, dataset: Any) -> list[int]:
    """Which example of `dataset` each row of trainer.predict(dataset) belongs to.

    Not always the dataset's order: with group_by_length (this app's default) transformers evaluates through a
    LengthGroupedSampler too, seeded afresh from the run's seed on every call, so asking the Trainer for that
    sampler again gives the very order its predict pass used. (A `Trainer` method, no public equivalent; the
    labels check in `from_logits` catches any disagreement.)"""
    sampler = trainer._get_eval_sampler(dataset)
    return list(iter(sampler)) if sampler is not None else list(range(len(dataset)))


class OrderError(ValueError):
    """The predictions cannot be matched to their examples: better none than wrong ones."""


def from_logits(logits: Any, labels: Any, validation: Any = None, limit: int = MAX_ROWS,
                order: list[int] | None = None) -> list[Prediction]:
    """Predictions from Trainer.predict's logits and label_ids, with the texts of `validation` (the untokenized
    split: sentence1/sentence2 columns) when given; the examples with index below `limit`. `order[i]` is the
    example that prediction row i belongs to (see evaluation_order); it is checked against the labels."""
    if isinstance(logits, tuple):
        logits = logits[0]
    logits, labels = np.asarray(logits), np.asarray(labels)
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        if len(order) != len(labels) or len(set(order.tolist())) != len(order):
            raise OrderError(f"{len(labels)} predictions for an order of {len(order)} examples")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        logits, labels = logits[inverse], labels[inverse]
        if validation is not None and labels.tolist() != [int(x) for x in validation["label"]]:
            raise OrderError("the predictions' labels do not follow the validation split's")
    logits, labels = logits[:limit], labels[:limit]
    probs = softmax(logits)
    predicted = probs.argmax(axis=-1)
    n = len(labels)
    first = validation["sentence1"][:n] if validation is not None else [""] * n
    second = validation["sentence2"][:n] if validation is not None and _paired(validation) else [""] * n
    return [Prediction(i, int(labels[i]), int(predicted[i]), float(probs[i, predicted[i]]), _cut(first[i]),
                       _cut(second[i])) for i in range(n)]


def _paired(validation: Any) -> bool:
    """Whether the split holds sentence pairs (a single-sentence task has no sentence2 column)."""
    names = getattr(validation, "column_names", None)
    return "sentence2" in (names if names is not None else validation)


def fingerprint(validation: Any) -> str:
    """A short hash of the validation split's texts and labels, in order: equal for two runs exactly when they
    evaluated the same examples at the same indices (a single sentence hashes with an empty second one)."""
    digest = hashlib.sha256()
    second = validation["sentence2"] if _paired(validation) else [""] * len(validation["label"])
    for s1, s2, label in zip(validation["sentence1"], second, validation["label"]):
        digest.update(f"{s1}\x1f{s2}\x1f{int(label)}\x1e".encode("utf-8", "replace"))
    return digest.hexdigest()[:16]


def save(store: RunStore, run_id: str, rows: list[Prediction], evaluated: int, print_: str,
         dataset: str | None = None) -> None:
    """Replace the run's stored predictions (a resumed run evaluates again) and record what they cover."""
    with store.transaction() as con:
        con.execute("DELETE FROM predictions WHERE run_id = ?", (run_id,))
        con.executemany(
            "INSERT INTO predictions (run_id, idx, label, predicted, confidence, sentence1, sentence2) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, p.index, p.label, p.predicted, p.confidence, p.sentence1, p.sentence2) for p in rows])
    store.merge_info(run_id, **{INFO_KEY: {"evaluated": int(evaluated), "kept": len(rows), "fingerprint": print_,
                                           "dataset": dataset}})


def clear(store: RunStore, run_id: str) -> None:
    """Forget a run's predictions (it trains again: they would describe a model that no longer is)."""
    with store.transaction() as con:
        con.execute("DELETE FROM predictions WHERE run_id = ?", (run_id,))
    run = store.get(run_id)
    if run is not None and INFO_KEY in run.info:
        store.update(run_id, info={k: v for k, v in run.info.items() if k != INFO_KEY})


def load(store: RunStore, run_id: str) -> list[Prediction]:
    """The run's stored predictions, by index ([] when it has none)."""
    with store._connect() as con:  # a read: no write lock (the store's own short connection)
        rows = con.execute("SELECT idx, label, predicted, confidence, sentence1, sentence2 FROM predictions "
                           "WHERE run_id = ? ORDER BY idx", (run_id,)).fetchall()
    return [Prediction(r["idx"], r["label"], r["predicted"], r["confidence"], r["sentence1"] or "",
                       r["sentence2"] or "") for r in rows]


def mistakes(rows: Iterable[Prediction], cell: tuple[int, int] | None = None) -> list[Prediction]:
    """The examples the run got wrong (or, for a cell (true, predicted) of the confusion matrix, those in it),
    the most confident first (ties: by index)."""
    if cell is None:
        chosen = [p for p in rows if not p.correct]
    else:
        chosen = [p for p in rows if (p.label, p.predicted) == tuple(cell)]
    return sorted(chosen, key=lambda p: (-p.confidence, p.index))


def meta(info: dict[str, Any]) -> dict[str, Any] | None:
    """What a run's stored predictions cover (see save), or None when it has none."""
    value = info.get(INFO_KEY)
    return value if isinstance(value, dict) else None


def mismatch(info_a: dict[str, Any], info_b: dict[str, Any]) -> str | None:
    """Why two runs' stored predictions cannot be paired example by example, as a code the UI words
    ('none_a'/'none_b': a run kept none; 'dataset': other data sources; 'count': a different number evaluated;
    'examples': same source, other examples); None when they cover the same examples at the same indices."""
    a, b = meta(info_a), meta(info_b)
    if a is None:
        return "none_a"
    if b is None:
        return "none_b"
    if a.get("dataset") != b.get("dataset"):
        return "dataset"
    if a.get("evaluated") != b.get("evaluated"):
        return "count"
    if a.get("fingerprint") != b.get("fingerprint"):
        return "examples"
    return None
