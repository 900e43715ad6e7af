"""The grader against a teacher on 314 learner answers: the figures bench/grading_agreement.py prints, pinned."""
from __future__ import annotations

import pytest

from quiz import agreement
from quiz.bank import default_bank

KINDS_PER_QUESTION = {"full", "unusual", "short", "partial", "wrong", "offtopic"}


@pytest.fixture(scope="module")
def result():
    return agreement.measure()


def test_each_set_has_eight_varied_answers_per_question():
    bank = default_bank()
    items = {q.id for q in bank.questions + bank.exercises}
    for path in agreement.ANSWER_SETS:
        answers = agreement.load_answers(path)
        # the second and third sets predate Part A
        expected = items - {"part_a_end_to_end"} if path in agreement.ANSWER_SETS[1:3] else items
        assert {a.item for a in answers} == expected, path.name
        for item in expected:
            mine = [a for a in answers if a.item == item]
            assert len(mine) >= 8, (path.name, item)
            assert {a.kind for a in mine} == KINDS_PER_QUESTION, (path.name, item)
            ideas = {k.id for k in bank.item(item).key_ideas}
            assert all(a.covered <= ideas for a in mine), (path.name, item)


def test_figures_are_pinned_at_their_measured_values(result):
    # Measured with `python bench/grading_agreement.py` (all sets). Change these only with a new measurement.
    assert (result.answers, result.judgements, result.agreed) == (314, 1091, 1082)
    assert result.agreement >= 0.90
    assert (result.right_ideas, result.right_missed, result.right_not_covered) == (418, 0, 5)
    assert (result.wrong_answers, result.wrong_credited) == (114, 1)
    assert result.wrong_credited_rate <= 1 / 7


def test_the_known_misses_are_partly_never_missed(result):
    # Wording no pattern knows ("how fast it learns", "built-in default") is shown as partly, for the learner
    # to compare, not as missed.
    assert len(result.disagreements) == 9
    assert all("grader partly" in d or "teacher ✗" in d for d in result.disagreements)


def test_bench_prints_the_same_figures(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "grading_agreement.py"
    spec = importlib.util.spec_from_file_location("grading_agreement", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--answers", str(agreement.ANSWER_SETS[2])])
    assert summary["agreed"] == 244 and summary["judgements"] == 248 and summary["wrong_credited"] == 0
    assert "agreement with the teacher: 244/248" in capsys.readouterr().out


def test_a_wrong_answer_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nanswers:\n  - {item: dynamic_padding, kind: wrong, answer: x, covered: [per_batch]}\n")
    with pytest.raises(ValueError, match="lists covered ideas"):
        agreement.load_answers(bad)


def test_the_feedback_footer_quotes_the_measured_figures(result):
    from quiz import render

    assert f"{result.answers} learner answers" in render.HOW_IT_CHECKS
    assert f"{result.agreed} of {result.judgements} key-idea judgements" in render.HOW_IT_CHECKS
    assert "249 of 280" in render.HOW_IT_CHECKS   # the newest set, measured once before it informed any change
    assert not any(sym in render.HOW_IT_CHECKS for sym in "✓◐○")
