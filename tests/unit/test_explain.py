"""Explain: Integrated Gradients completeness, words that reassemble both sentences, refusals, safe HTML."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.predict_fixtures")
from trainer_backend import serving
from trainer_backend.serving import (
    InferenceError,
    ModelRef,
    explain,
)

pytest_plugins = ["tests.predict_fixtures"]
pytestmark = pytest.mark.slow  # uses the CLI-trained checkpoint
PAIRS = [
    ("The company's profit rose 12 percent in the third quarter.",
     "The company's profit rose 21 percent in the third quarter."),
    ("Dr. O'Neil (aged 61) said: “no comment” — twice!", "Naïve café-goers paid $3.50/cup, e.g. at 9:30am."),
    ("Short.", "A much longer second sentence that goes on, and on, and on for a while."),
]


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint):
    return serving.load_predictor(ModelRef(str(tiny_checkpoint), "tiny run", "chosen"))


@pytest.mark.parametrize("first, second", PAIRS)
def test_scores_add_up_to_the_logit_change(predictor, first, second):
    """Completeness: sum of attributions = F(input) - F(baseline), up to IG's approximation error."""
    expl = explain.explain_pair(predictor, first, second)
    change = expl.logit - expl.baseline_logit
    assert expl.total == pytest.approx(change, abs=0.02 * abs(change) + 1e-3)
    assert expl.delta == pytest.approx(expl.total - change, abs=1e-4)  # captum's own delta says the same


@pytest.mark.parametrize("first, second", PAIRS + [("Tea\x00 is\u200b  ready.", "  The tea\tis ready. ")])
def test_words_reassemble_both_sentences(predictor, first, second):
    expl = explain.explain_pair(predictor, first, second)
    clean1, _ = serving.clean_sentence(first, "Sentence 1")
    clean2, _ = serving.clean_sentence(second, "Sentence 2")
    assert " ".join(w.word for w in expl.sentence1) == clean1
    assert " ".join(w.word for w in expl.sentence2) == clean2
    assert all(w.tokens for w in expl.sentence1 + expl.sentence2)  # every word got its word pieces
    assert expl.tokens == len(predictor.tokenizer(clean1, clean2)["input_ids"])


def test_label_matches_predict_and_near_misses_are_marked(predictor):
    first, second = PAIRS[0]
    expl = explain.explain_pair(predictor, first, second)
    answer = predictor.predict_pairs([(first, second)], engine="pytorch-fp32")[0]
    assert expl.label == answer.label
    assert expl.probability == pytest.approx(answer.confidences[answer.label], abs=1e-4)
    assert [w.word for w in expl.sentence1 if w.differs] == ["12"]
    assert [w.word for w in expl.sentence2 if w.differs] == ["21"]
    assert expl.seconds > 0 and expl.steps == explain.STEPS
    data = expl.to_json()
    assert data["method"].startswith("Integrated Gradients") and data["sentence1"][4] == {
        "word": "12", "score": pytest.approx(expl.sentence1[4].score), "tokens": ["12"], "differs": True}


def test_inputs_beyond_the_predict_cap_are_refused(predictor):
    with pytest.raises(InferenceError, match="reads at most 64"):
        explain.explain_pair(predictor, "many words here " * 30, "and a second sentence")
    with pytest.raises(InferenceError, match="2,000-character cap"):
        explain.explain_pair(predictor, "x" * 2001, "y")
    with pytest.raises(InferenceError, match="Sentence 2 is empty"):
        explain.explain_pair(predictor, "One.", " \x00 ")


def test_html_shows_both_sentences_escaped_with_a_legend(predictor):
    expl = explain.explain_pair(predictor, "<script>alert(1)</script> rose 12", "<b>bold</b> rose 21")
    page = explain.to_html(expl)
    assert "<script>" not in page and "<b>bold" not in page and "&lt;script&gt;" in page
    assert "Sentence 1:" in page and "Sentence 2:" in page
    assert "towards" in page and "against" in page and "How to read it" in page and "took" in page
    assert page.count('class="xw"') == len(expl.sentence1) + len(expl.sentence2)
