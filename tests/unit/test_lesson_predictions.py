"""Logits, metrics and head-swap demos on the tiny model: shapes, agreement with a hand count."""
from __future__ import annotations

import numpy as np
import pytest

from lesson import predictions


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from trainer_backend.modeling import load_for_classification

    return load_for_classification(str(tiny_model_dir))


def test_run_logits_shapes(tiny):
    s1 = ["A cat sat.", "Stocks fell sharply.", "He left early."]
    s2 = ["A cat was sitting.", "Shares dropped a lot.", "She arrived late."]
    logits = predictions.run_logits(tiny.model.eval(), tiny.tokenizer, s1, s2)
    assert logits.shape == (3, 2)
    from trainer_backend.metrics import logits_to_predictions

    assert logits_to_predictions(logits).shape == (3,)


def test_logits_demo_shapes(tiny_model_dir):
    result = predictions.logits_demo(str(tiny_model_dir), n=5, data_spec="sample")
    assert result.logits.shape == (5, 2)
    assert result.predictions.shape == (5,)
    assert result.labels.shape == (5,)
    assert np.array_equal(result.predictions, result.logits.argmax(axis=1))
    rows = result.rows()
    assert len(rows) == 5 and rows[0][5] in {"✓", "✗"}
    assert predictions.LOGITS_HEADERS[:6] == ["#", "logit 0", "logit 1", "argmax", "label", "right?"]  # numbers first
    assert rows[0][6] == result.sentence1[0]
    assert set(result.to_dict()) == {"logits", "labels"}
    with pytest.raises(ValueError):
        predictions.logits_demo(str(tiny_model_dir), n=0, data_spec="sample")


def test_metrics_demo_matches_hand_count():
    logits = [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]]   # predictions 1 0 1 0 1
    labels = [1, 0, 0, 1, 1]
    result = predictions.metrics_demo(logits, labels)
    # TP 2, FP 1, FN 1, TN 1 -> accuracy 3/5, precision 2/3, recall 2/3, F1 2/3
    assert result.matrix == [[1, 1], [1, 2]]
    assert result.returned["accuracy"] == pytest.approx(0.6)
    assert result.returned["f1"] == pytest.approx(2 / 3)
    assert result.by_hand["accuracy"] == pytest.approx(result.returned["accuracy"])
    assert result.by_hand["f1"] == pytest.approx(result.returned["f1"])
    assert "compute_metrics" in result.markdown()
    with pytest.raises(ValueError):
        predictions.metrics_demo([[1.0, 2.0, 3.0]], [1])


def test_head_swap_demo_on_a_bare_encoder(tiny_model_dir):
    swap = predictions.head_swap_demo(str(tiny_model_dir))
    names = [row[0] for row in swap.rows]
    assert "classifier.weight" in names and "classifier.bias" in names
    weight = next(row for row in swap.rows if row[0] == "classifier.weight")
    assert weight[1] == "newly initialised" and weight[2] == "2 × 64"
    assert "Newly initialised" in swap.explanation


def test_weight_meanings():
    assert "masked" in predictions.weight_meaning("cls.predictions.decoder.weight")
    assert "followed" in predictions.weight_meaning("cls.seq_relationship.bias")
    assert "768 × 2" in predictions.weight_meaning("classifier.weight", 768)


def test_model_spec_is_checked(tmp_path):
    assert predictions.checked_model_spec(None) == "auto"
    assert predictions.checked_model_spec("bert-base-uncased") == "bert-base-uncased"
    assert predictions.checked_model_spec("google/bert_uncased_L-4_H-256_A-4").startswith("google/")
    for bad in ["/etc", str(tmp_path), "../secrets", "a/b/c"]:
        with pytest.raises(ValueError):
            predictions.checked_model_spec(bad)
