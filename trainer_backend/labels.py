"""Label columns: which classes a data source names, and each row's class id.

Split from data.py (which maps sources to texts and splits): the rules for reading labels are the longest part of
loading, and the one most changed when a new kind of label comes along (issue 22 added n classes and names).
"""
from __future__ import annotations

import re
from collections import Counter

from datasets import DatasetDict

from trainer_backend import settings
from trainer_backend.errors import DataError, snippet
from trainer_backend.tasks import MRPC_LABELS

_TRUE = {"1", "1.0", "yes", "y", "true", "t", "paraphrase", "equivalent", "positive", "same"}
_FALSE = {"0", "0.0", "no", "n", "false", "f", "not_paraphrase", "not paraphrase", "not-paraphrase",
          "not_equivalent", "negative", "different"}


def normalize_label(value: object, row: int | str = "?") -> int:
    """Map 0/1, yes/no, true/false, paraphrase/not_paraphrase … to 0 or 1; anything else is an error."""
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise DataError(f"Row {row}: label {snippet(value)} is not binary. Use 0/1, yes/no, true/false or "
                    "paraphrase/not_paraphrase.")


_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")


def _whole(text: str) -> int | None:
    return int(float(text)) if _WHOLE.fullmatch(text) else None


def _binary_word(text: str) -> bool:
    return text.lower() in _TRUE or text.lower() in _FALSE


def classes_of(values: list, numbers: list[int], pair: bool, source: str) -> tuple[tuple[str, ...], list[int]]:
    """(class names in id order, each row's id) for a label column read from text, as the data names its classes.

    Pairs labelled the way the studio always read them (0/1, yes/no, paraphrase/not_paraphrase …) keep MRPC's
    names. Otherwise whole numbers are classes in numeric order, anything else names in alphabetical order. A value
    seen once is a bad row, not a class: it could be learned from or checked against, never both."""
    texts = ["" if v is None else str(int(v) if isinstance(v, bool) else v).strip() for v in values]
    counts = Counter(texts)
    common = {t for t, c in counts.items() if c > 1}
    if pair and common and all(_binary_word(t) for t in common):
        return MRPC_LABELS, [normalize_label(v, n) for v, n in zip(values, numbers)]
    for text, number in zip(texts, numbers):
        if not text:
            raise DataError(f"{source}, row {number}: the label is empty.")
    limit = settings.limits().max_classes
    if len(counts) > limit:
        raise DataError(f"{source}: the label column holds {len(counts):,} different values; this app trains at most "
                        f"{limit} classes. Is it the right column?")
    if len(counts) < 2:
        raise DataError(f"{source}: every label is {snippet(texts[0])}; a classifier needs at least two classes.")
    whole = {t: _whole(t) for t in counts}
    if None in whole.values() and any(v is not None for v in whole.values()):
        words = sum(c for t, c in counts.items() if whole[t] is None) >= len(texts) / 2
        odd = next(i for i, t in enumerate(texts) if (whole[t] is None) != words)
        kind, others = ("a number", "words") if words else ("a word", "numbers")
        raise DataError(f"Row {numbers[odd]}: label {snippet(values[odd])} is {kind} where the other labels are "
                        f"{others}; use class names or numbers throughout, not both.")
    once = next((i for i, t in enumerate(texts) if counts[t] == 1), None)
    if once is not None:
        raise DataError(f"Row {numbers[once]}: label {snippet(values[once])} appears only once; a class needs rows to "
                        "learn from and rows to check against. Correct the label or drop the row.")
    names = sorted(counts, key=lambda t: (whole[t], t) if whole[t] is not None else (0, t))
    ids = {t: i for i, t in enumerate(names)}
    return tuple(names), [ids[t] for t in texts]


def known_ids(values: list, numbers: list[int], names: tuple[str, ...], source: str) -> list[int]:
    """Label ids of data whose classes are already known (a named GLUE task, a ClassLabel): each must be one."""
    out = []
    for value, number in zip(values, numbers):
        text = str(value).strip() if value is not None else ""
        index = _whole(text) if text else None
        if index is None and text in names:
            index = names.index(text)
        if index is None or not 0 <= index < len(names):
            raise DataError(f"{source}, row {number}: label {snippet(value)} is none of the classes "
                            f"{', '.join(names)} (or their ids 0 to {len(names) - 1}).")
        out.append(index)
    return out


def check_classes(dd: DatasetDict, source: str) -> None:
    """Training must see at least two classes and every class validation asks about; enough rows for both."""
    names = dd["train"].features["label"].names
    seen = set(dd["train"]["label"])
    if len(seen) < 2:
        only = seen.pop() if seen else 0
        if tuple(names) == MRPC_LABELS:
            raise DataError(f"{source}: the training split has only label {only}; both 0 and 1 are needed.")
        raise DataError(f"{source}: the training split holds one class only ({snippet(names[only])}); a classifier "
                        "needs at least two.")
    unseen = sorted(set(dd["validation"]["label"]) - seen)
    if unseen:
        raise DataError(f"{source}: class {snippet(names[unseen[0]])} is in the validation split but never in "
                        "training, so the model could never answer it. Move some of its rows to training.")
    if len(dd["train"]) < 4 or len(dd["validation"]) < 2:
        raise DataError(f"{source}: too few pairs to train and validate ({len(dd['train'])} / {len(dd['validation'])}).")
