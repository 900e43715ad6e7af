"""Compare: one pair or one file through two engines or models, side by side."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from tests.predict_fixtures import write_pairs
from trainer_backend import serving
from trainer_backend.serving import (
    ModelRef,
    compare,
)

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = pytest.mark.slow  # uses the CLI-trained checkpoint


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint):
    return serving.load_predictor(ModelRef(str(tiny_checkpoint), "tiny run", "chosen"))


def test_fast_path_against_plain_pytorch_on_one_pair(predictor):
    a, b = compare.compare_pair(predictor, predictor, "The ferry leaves at noon.", "At midday the ferry departs.",
                                "pytorch-fp32")
    assert b.engine == "PyTorch fp32" and a.engine == compare.engine_title(predictor, "serving")
    assert a.label in predictor.labels and b.label in predictor.labels
    assert a.ms > 0 and b.ms > 0 and a.error is None
    assert sum(b.confidences.values()) == pytest.approx(1.0, abs=1e-5)
    assert set(a.to_json()) == {"model", "engine", "label", "confidences", "ms", "error"}


def test_a_bad_pair_is_an_error_on_both_sides(predictor):
    a, b = compare.compare_pair(predictor, predictor, "", "x", "pytorch")
    assert "Sentence 1 is empty" in a.error and "Sentence 1 is empty" in b.error and a.label is None


def test_a_file_through_both(predictor, tmp_path):
    result = compare.compare_table(write_pairs(tmp_path / "pairs.tsv"), predictor, predictor,
                                   second_engine="pytorch-fp32")
    assert result.rows == 40 and 0 <= result.same_answers <= 40
    assert set(result.first.metrics) == set(result.second.metrics) == {"accuracy", "f1"}
    if predictor.engine == "onnx-fp32":
        assert result.same_answers == 40
