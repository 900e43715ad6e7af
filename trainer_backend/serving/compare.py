"""Compare: the same pair or file through two models (or one model's fast path and plain PyTorch) side by side."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from trainer_backend.serving import engines
from trainer_backend.serving.predict_table import TableReport, predict_table
from trainer_backend.serving.predictor import Predictor


@dataclass
class Side:
    """One model's answer to the pair, how long it took and which engine gave it."""

    model: str
    engine: str
    label: str | None
    confidences: dict[str, float]
    ms: float
    error: str | None = None

    def to_json(self) -> dict:
        return {"model": self.model, "engine": self.engine, "label": self.label,
                "confidences": {k: round(v, 4) for k, v in self.confidences.items()}, "ms": round(self.ms, 1),
                "error": self.error}


def engine_title(predictor: Predictor, engine: str, pairs: int = 1) -> str:
    """What answered (or answers) a request of `pairs` pairs, in words."""
    if engine == "serving":
        engine = predictor.engine_name(pairs)
    if engine == "pytorch" and predictor.use_bf16:
        return "PyTorch (bf16 autocast)"
    return engines.title(engine)


def answer(predictor: Predictor, sentence1: object, sentence2: object, engine: str = "serving",
           repeats: int = 3) -> Side:
    """The pair through one model; latency is the best of `repeats` calls (the first may warm caches)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = predictor.predict_pairs([(sentence1, sentence2)], engine=engine)[0]
        best = min(best, time.perf_counter() - start)
        if result.error:
            break
    return Side(predictor.ref.title, engine_title(predictor, engine), result.label, result.confidences,
                best * 1000, result.error)


def compare_pair(first: Predictor, second: Predictor, sentence1: object, sentence2: object,
                 second_engine: str = "serving") -> tuple[Side, Side]:
    """Both answers; with the same predictor and second_engine="pytorch-fp32" this is fast path vs plain."""
    return answer(first, sentence1, sentence2), answer(second, sentence1, sentence2, second_engine)


@dataclass
class TableComparison:
    """Both models' reports on one file and how often they gave the same answer."""

    first: TableReport
    second: TableReport
    same_answers: int

    @property
    def rows(self) -> int:
        return len(self.first.rows)


def compare_table(path: str | Path, first: Predictor, second: Predictor, s1: str = "sentence1",
                  s2: str = "sentence2", label: str = "label", second_engine: str = "serving") -> TableComparison:
    """Every pair of a file through both models (same parsing as predict_table)."""
    a = predict_table(path, first, s1, s2, label)
    b = predict_table(path, second, s1, s2, label, engine=second_engine)
    same = sum(x["predicted_label"] == y["predicted_label"] for x, y in zip(a.rows, b.rows))
    return TableComparison(a, b, same)
