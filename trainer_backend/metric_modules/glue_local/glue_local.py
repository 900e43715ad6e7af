"""Offline twin of evaluate's `glue` metric for the classification tasks: the same config names and the same numbers
(accuracy; accuracy and F1 of class 1 for mrpc/qqp; Matthews correlation for cola). STS-B, a regression, is not here."""
import datasets
import evaluate
import numpy as np

_DESCRIPTION = "GLUE's classification scores computed as the `glue` metric computes them, without the Hub."
_KWARGS = """
Args:
    predictions: predicted class ids.
    references: true class ids.
Returns:
    accuracy (every config but cola), f1 (mrpc, qqp: class 1 is the positive one), matthews_correlation (cola).
"""
ACCURACY_ONLY = ("sst2", "mnli", "mnli_mismatched", "mnli_matched", "qnli", "rte", "wnli", "hans")


def _f1(p: np.ndarray, r: np.ndarray) -> float:
    tp = int(np.sum((p == 1) & (r == 1)))
    fp = int(np.sum((p == 1) & (r != 1)))
    fn = int(np.sum((p != 1) & (r == 1)))
    return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _matthews(p: np.ndarray, r: np.ndarray) -> float:
    """Matthews correlation from the confusion counts (its multi-class form, which is the usual one for two
    classes); 0 when either side holds a single class, as scikit-learn returns it."""
    classes = np.union1d(p, r)
    index = {c: i for i, c in enumerate(classes.tolist())}
    m = np.zeros((len(classes), len(classes)), dtype=np.float64)
    for t, q in zip(r.tolist(), p.tolist()):
        m[index[t], index[q]] += 1
    true, predicted, correct, n = m.sum(axis=1), m.sum(axis=0), np.trace(m), m.sum()
    denominator = np.sqrt((n * n - predicted @ predicted) * (n * n - true @ true))
    return 0.0 if denominator == 0 else float((correct * n - predicted @ true) / denominator)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class GlueLocal(evaluate.Metric):
    def _info(self):
        if self.config_name not in ("mrpc", "qqp", "cola", *ACCURACY_ONLY):
            raise KeyError(f"glue_local has no config {self.config_name!r}: use one of mrpc, qqp, cola, "
                           + ", ".join(ACCURACY_ONLY))
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        p, r = np.asarray(predictions), np.asarray(references)
        if self.config_name == "cola":
            return {"matthews_correlation": _matthews(p, r)}
        accuracy = float((p == r).mean())
        if self.config_name in ("mrpc", "qqp"):
            return {"accuracy": accuracy, "f1": float(_f1(p, r))}
        return {"accuracy": accuracy}
