"""The grader against a teacher: the unseen set's first look and the seen sets, as bench/grading_agreement.py
prints them, pinned."""
from __future__ import annotations

import pytest

from quiz import agreement
from quiz.bank import default_bank

KINDS_PER_QUESTION = {"full", "unusual", "short", "partial", "wrong", "offtopic"}


@pytest.fixture(scope="module")
def seen():
    return agreement.measure()


@pytest.fixture(scope="module")
def unseen():
    return agreement.measure(agreement.load_answers(agreement.UNSEEN_SET))


def test_each_seen_set_has_eight_varied_answers_per_question():
    bank = default_bank()
    items = {q.id for q in bank.questions + bank.exercises} - {"trainer_results"}  # newer than the seen sets
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


def test_the_unseen_set_has_ten_answers_per_question_half_subtly_wrong():
    bank = default_bank()
    answers = agreement.load_answers(agreement.UNSEEN_SET)
    for item in bank.questions + bank.exercises:
        mine = [a for a in answers if a.item == item.id]
        wrong = [a for a in mine if a.kind == "wrong"]
        right = [a for a in mine if a.kind in agreement.RIGHT_KINDS]
        assert len(mine) >= 10 and len(wrong) >= 5 and len(right) >= 5, item.id
        assert all(a.covered == {k.id for k in item.key_ideas} for a in right if a.kind == "full"), item.id


def test_a_wrong_answer_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nanswers:\n  - {item: dynamic_padding, kind: wrong, answer: x, covered: [per_batch]}\n")
    with pytest.raises(ValueError, match="lists covered ideas"):
        agreement.load_answers(bad)
