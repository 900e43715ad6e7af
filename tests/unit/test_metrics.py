"""The offline metric module gives exactly the numbers of the reference implementation GLUE's mrpc metric uses."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from trainer_backend import metrics


def test_offline_uses_local_module():
    assert metrics.load_metric().name == "glue_local"
    assert metrics.metric_from_hub() is False


def test_hand_computed_case():
    # preds 1,1,0,0 vs labels 1,0,1,0: tp=1 fp=1 fn=1 -> f1 = 2/4
    out = metrics.load_metric().compute(predictions=[1, 1, 0, 0], references=[1, 0, 1, 0])
    assert out == {"accuracy": 0.5, "f1": 0.5}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60))
def test_agrees_with_sklearn_reference(pairs):
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    out = metrics.load_metric().compute(predictions=preds, references=refs)
    assert out["accuracy"] == pytest.approx(accuracy_score(refs, preds))
    assert out["f1"] == pytest.approx(f1_score(refs, preds, zero_division=0.0))


def test_compute_metrics_argmaxes_logits():
    logits = np.array([[2.0, -1.0], [0.1, 0.3], [-3.0, 4.0], [0.5, 0.4]])
    labels = np.array([0, 1, 0, 0])
    out = metrics.compute_metrics((logits, labels))
    assert out["accuracy"] == 0.75 and out["f1"] == pytest.approx(2 / 3)


def test_logits_to_predictions_shape():
    preds = metrics.logits_to_predictions(np.zeros((408, 2)) + [0, 1])
    assert preds.shape == (408,) and set(preds.tolist()) == {1}


def test_confusion_counts():
    assert metrics.confusion(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])) == [[1, 1], [1, 1]]
