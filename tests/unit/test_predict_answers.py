"""The Predict tab's words: the plain verdict above an answer, and what the facts say while a faster engine is
checked in the background (issue 23.4, 23.9)."""
from __future__ import annotations

from trainer_backend import serving
from trainer_backend.serving import ModelRef
from trainer_backend.serving.predictor import PairResult
from ui.predict_answers import facts_markdown, verdict_markdown

pytest_plugins = ["tests.predict_fixtures"]


def _result(label: str, p: float) -> PairResult:
    other = "not_paraphrase" if label == "paraphrase" else "paraphrase"
    return PairResult(label=label, confidences={label: p, other: 1 - p})


def test_orders_that_disagree_are_said_first_in_plain_words():
    text = verdict_markdown(_result("paraphrase", 0.52), _result("not_paraphrase", 0.99))
    assert "swapping the sentences flips its answer" in text
    assert "paraphrase 52%" in text and "not paraphrase 99%" in text


def test_a_near_coin_toss_is_unsure_and_a_firm_answer_both_ways_is_not():
    assert "unsure" in verdict_markdown(_result("paraphrase", 0.55), _result("paraphrase", 0.56))
    assert verdict_markdown(_result("paraphrase", 0.9), _result("paraphrase", 0.88)) == ""


def test_the_first_load_answers_with_pytorch_and_the_faster_engine_is_checked_behind(tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("PREDICT_FASTPATH", "fp32")
    predictor = serving.load_for_serving(ModelRef(str(tiny_checkpoint), "tiny run", "chosen"))
    try:
        assert predictor.engine == "pytorch"
        if predictor.checking:
            assert "being checked in the background" in facts_markdown(predictor)
        assert predictor.predict_pairs([("a b c", "a b d")])[0].label  # answers while the check runs
    finally:
        assert predictor.wait_for_engine(300)
    assert not predictor.checking and predictor.serving is not None
    facts = facts_markdown(predictor)
    assert "being checked" not in facts and "Engine details" in facts
    if predictor.fast is not None:
        assert "faster copy of the model** that gives the same answer on" in facts


def test_int8_with_close_calls_in_fp32_says_in_plain_words_what_it_does():
    from types import SimpleNamespace

    from trainer_backend.serving import engine_onnx, fastpath
    from ui.predict_answers import _engine_lines

    def lines(name: str) -> str:
        check = fastpath.Check(name, 1.0, 0.8, 0.8, 408, True, pairs_per_s=200.0, single_ms=6.0)
        info = fastpath.Serving(name, fastpath.Route.CHECKED, [check], "the run's validation split", 3.0)
        return _engine_lines(SimpleNamespace(use_bf16=False, serving=info, checking=False, fast=object()))[0]
    said = lines(engine_onnx.CHECKED.name)
    assert "same answer on 100.0% of the 408 validation pairs" in said
    assert "not clearly sure about are answered again by the full-precision copy" in said
    assert "not clearly sure" not in lines(engine_onnx.FP32.name)
