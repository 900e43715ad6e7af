"""Offline twin of evaluate's glue/mrpc metric: accuracy and binary F1 (positive class = paraphrase)."""
import datasets
import evaluate
import numpy as np

_DESCRIPTION = "Accuracy and F1 for MRPC, computed exactly as the GLUE 'mrpc' metric does, without the Hub."
_KWARGS = """
Args:
    predictions: predicted labels (0 or 1).
    references: true labels (0 or 1).
Returns:
    accuracy: share of predictions equal to the references.
    f1: harmonic mean of precision and recall for label 1 (0.0 when undefined).
"""


def _f1(predictions: np.ndarray, references: np.ndarray) -> float:
    tp = int(np.sum((predictions == 1) & (references == 1)))
    fp = int(np.sum((predictions == 1) & (references == 0)))
    fn = int(np.sum((predictions == 0) & (references == 1)))
    denominator = 2 * tp + fp + fn
    return 0.0 if denominator == 0 else 2 * tp / denominator


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class MrpcLocal(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        p, r = np.asarray(predictions), np.asarray(references)
        return {"accuracy": float((p == r).mean()), "f1": float(_f1(p, r))}
