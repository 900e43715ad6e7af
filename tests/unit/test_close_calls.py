"""Predict's int8 engine with close calls answered again in fp32: which rows it sends to fp32, how it measures int8's
moves once per checkpoint, and how the gate's search goes on past it (engine_onnx.CheckedBackend)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.predict_fixtures import PREDICT_PAIRS, flipping_scorer, gate_pairs, load_in_mode
from trainer_backend.serving import engine, engine_onnx, engines, fastpath

pytest_plugins = ["tests.predict_fixtures"]


class _Fixed:
    """A backend that returns given logits for the rows it is sent (by their first token id) and keeps what it got."""

    def __init__(self, by_id: dict[int, list[float]], path=None) -> None:
        self.by_id, self.path, self.bytes, self.seen = by_id, path, 0, []

    def logits(self, arrays: dict) -> np.ndarray:
        self.seen.append({k: np.array(v) for k, v in arrays.items()})
        return np.array([self.by_id[int(row[0])] for row in arrays["input_ids"]], dtype=np.float32)


def _rows(lengths: list[int]) -> dict:
    """Right-padded rows whose first token id is the row's index."""
    width = max(lengths)
    ids = np.zeros((len(lengths), width), np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n], mask[i, :n] = i, 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def test_close_calls_and_only_they_are_answered_again_in_fp32():
    fast = _Fixed({0: [0.0, 0.1], 1: [0.0, 3.0], 2: [2.0, 0.0], 3: [0.4, -0.3]})
    exact = _Fixed({0: [1.0, 0.0], 3: [-1.0, 1.0]})
    backend = engine_onnx.CheckedBackend(fast, exact, single_shift=9.0, batch_shift=0.5, calibrated_on=128)
    got = backend.logits(_rows([3, 9, 5, 4]))
    # batch bound 1.5 x 0.5 = 0.75: rows 0 (margin 0.1) and 3 (0.7) are close calls, 1 (3.0) and 2 (2.0) are not
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 3.0], [2.0, 0.0], [-1.0, 1.0]])
    (sent,) = exact.seen
    assert sent["input_ids"][:, 0].tolist() == [0, 3] and sent["input_ids"].shape[1] == 4  # padding trimmed to 4
    assert (backend.rows, backend.rechecked) == (4, 2)
    # one row alone: the single-pair bound (1.5 x 9.0) applies, so even a margin of 3 is a close call
    assert backend.close_calls(np.array([[0.0, 3.0]])).tolist() == [0]
    assert backend.close_calls(np.array([[0.0, 3.0], [1.0, 1.5]])).tolist() == [1]  # two rows: the batch bound
    # three classes: the margin is the top logit less the runner-up, not less the smallest
    three = engine_onnx.CheckedBackend(fast, exact, single_shift=1.0, batch_shift=1.0, calibrated_on=8)
    assert three.close_calls(np.array([[5.0, 4.0, -9.0], [5.0, 1.0, 0.0]])).tolist() == [0]
    assert "1.5x the largest int8 shift on 8 validation pairs" in three.detail


def test_the_shift_is_how_far_the_gap_between_classes_moved():
    def softmax(logits):
        e = np.exp(np.array(logits) - np.max(logits))
        return (e / e.sum()).tolist()
    np.testing.assert_allclose(engine_onnx.shift([softmax([0.0, 1.0])], [softmax([0.0, 0.0])]), [1.0], atol=1e-9)
    # a constant added to every logit moves nothing; three classes: the largest gap change between any two
    np.testing.assert_allclose(engine_onnx.shift([softmax([5.0, 5.0, 5.0])], [softmax([0.0, 0.0, 0.0])]), [0.0],
                               atol=1e-9)
    np.testing.assert_allclose(engine_onnx.shift([softmax([0.5, 0.0, -1.0])], [softmax([0.0, 0.0, 0.0])]), [1.5],
                               atol=1e-9)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_int8_with_close_calls_in_fp32_is_calibrated_once_and_keeps_both_files(tiny_checkpoint, monkeypatch,
                                                                              tmp_path):
    predictor = load_in_mode(tiny_checkpoint, monkeypatch, "off")
    pairs = fastpath.validation_pairs(None, None)

    def score(firsts, seconds, engine):
        return predictor.probabilities(firsts, seconds, engine=engine)[0]

    def ctx(scorer):
        return engine.BuildContext(predictor.model, predictor.tokenizer, tmp_path, 1, pairs, scorer, lambda f, d: None)
    backend = engines.open_engine("onnx-int8-checked", ctx(score))
    saved = json.loads((tmp_path / "checked.json").read_text())
    assert saved["pairs"] == min(len(pairs), engine_onnx.SENSITIVITY_PAIRS) == backend.calibrated_on
    assert saved["single"] == backend.single_shift >= 0 and saved["batch"] == backend.batch_shift >= 0
    assert sorted(p.name for p in engine.files(backend)) == ["model-fp32.onnx",
                                                            f"model-int8-v{engine.GATE_VERSION}.onnx"]
    assert engine.disk_bytes(backend) == sum(p.stat().st_size for p in engine.files(backend))

    def no_scoring(*args):
        raise AssertionError("the bounds are remembered per checkpoint")
    again = engines.open_engine("onnx-int8-checked", ctx(no_scoring))
    assert (again.single_shift, again.batch_shift) == (backend.single_shift, backend.batch_shift)
    # every row a close call: exactly the fp32 model's answers; none: exactly dynamic int8's
    firsts, seconds = [a for a, _ in PREDICT_PAIRS], [b for _, b in PREDICT_PAIRS]
    fp32 = engine_onnx.OrtBackend(tmp_path / "model-fp32.onnx", "onnx-fp32", 1)
    int8 = engine_onnx.OrtBackend(tmp_path / f"model-int8-v{engine.GATE_VERSION}.onnx", "onnx-int8", 1)
    again.single_shift = again.batch_shift = np.inf
    np.testing.assert_array_equal(predictor.probabilities(firsts, seconds, engine=again)[0],
                                  predictor.probabilities(firsts, seconds, engine=fp32)[0])
    again.single_shift = again.batch_shift = -1.0
    np.testing.assert_array_equal(predictor.probabilities(firsts, seconds, engine=again)[0],
                                  predictor.probabilities(firsts, seconds, engine=int8)[0])
    assert again.rechecked == len(PREDICT_PAIRS) and again.rows == 2 * len(PREDICT_PAIRS)
    # too few validation examples to measure int8's moves: the engine is not built (the gate records why)
    few = fastpath.GatePairs(pairs.firsts[:8], pairs.seconds[:8], pairs.labels[:8], "eight pairs")
    with pytest.raises(ValueError, match="too few to measure"):
        engines.open_engine("onnx-int8-checked", engine.BuildContext(predictor.model, predictor.tokenizer,
                                                                     tmp_path / "few", 1, few, score,
                                                                     lambda f, d: None))


def test_a_pass_that_does_not_settle_leaves_the_next_engines_checked(tmp_path):
    """int8 with close calls in fp32 passes but may be slower than fp32: the search goes on until an engine that
    settles passes, and no further."""
    import contextlib
    from types import SimpleNamespace

    from trainer_backend.serving.engine import EngineSpec

    def spec(name: str, settles: bool = True) -> EngineSpec:
        return EngineSpec(name, name.title(), name, lambda ctx: SimpleNamespace(engine=name, detail="", path=None,
                                                                                bytes=0),
                          frozenset({"settle-test"}), settles=settles)
    ctx = engine.BuildContext(None, None, tmp_path, 1, gate_pairs(20), flipping_scorer(set()), lambda f, d: None)
    with contextlib.ExitStack() as stack:
        for s in (spec("loose", settles=False), spec("firm"), spec("never")):
            stack.enter_context(engines.registered(s))
        checks = fastpath._Gate(ctx).run(engines.candidates("settle-test"), [])
    assert [(c.engine, c.passed) for c in checks] == [("loose", True), ("firm", True)]
