"""The grader against a teacher: the unseen sets' first looks (pooled, they count), the sets that measured earlier
versions, the three tuning sets, the sets trained on, as bench/grading_agreement.py prints them, pinned; the README's
table is the bench's."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from quiz import agreement
from quiz.bank import default_bank

KINDS_PER_QUESTION = {"full", "unusual", "short", "partial", "wrong", "offtopic"}
ROOT = Path(__file__).resolve().parents[2]

# bench/results/grading_firstlook10.txt and 11.txt: each measured once, after the grader (the sixth judge, thresholds
# chosen on three pooled sets with a margin, the question fix, a veto that gives way to a judge near certain, a "not"
# inside a match) was frozen and committed (fea832c) and the set was committed; sets 10 and 11 pooled decide, as
# decided before set 11 was read. Targets: >= 90% agreement, no right answer marked wrong, <= 1 in 10 subtly wrong
# answers credited. Change these only with a new grader AND a new unseen set. Pooled: 725/780 = 92.9%, 0 of 110,
# 6 of 110: all met. The sixth judge's earlier looks: set 6 (first thresholds) 357, 0, 4 (all met); set 7 350, 1, 11
# (all missed); set 8 (these thresholds) 361, 1, 2; set 9 (the question fix) 366, 1, 5.
FIRST_LOOK = {"answers": 110, "judgements": 390, "agreed": 360, "right_answers": 55,
              "right_answers_marked_wrong": 0, "right_ideas": 165, "right_missed": 0,
              "right_not_covered": 15, "wrong_answers": 55, "wrong_credited": 3}
ELEVENTH = {"answers": 110, "judgements": 390, "agreed": 365, "right_answers": 55,
            "right_answers_marked_wrong": 0, "right_ideas": 167, "right_missed": 0,
            "right_not_covered": 12, "wrong_answers": 55, "wrong_credited": 3}
# The first look at the question fix (366/390, 1 of 55, 5 of 55); the veto override came from it, so it is seen.
NINTH = {"answers": 110, "judgements": 390, "agreed": 365, "right_answers_marked_wrong": 0, "wrong_answers": 55,
         "wrong_credited": 5}
# The first look at these thresholds (361/390, 1 of 55, 2 of 55); the question fix came from it, so it is seen.
EIGHTH = {"answers": 110, "judgements": 390, "agreed": 365, "right_answers_marked_wrong": 0, "wrong_answers": 55,
          "wrong_credited": 2}
# The three sets the thresholds were chosen on, pooled (never trained on).
TUNING = {agreement.FIFTH_LOOK_SET: {"answers": 110, "judgements": 390, "agreed": 360,
                                     "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 1},
          agreement.SIXTH_LOOK_SET: {"answers": 110, "judgements": 390, "agreed": 363,
                                     "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 3},
          agreement.SEVENTH_SET: {"answers": 110, "judgements": 390, "agreed": 361,
                                  "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 4}}
# The first to fourth judges' first-look sets (their first looks: 334, 318, 341 and 348 of 390): trained on since.
TRAINED = {agreement.UNSEEN_SET: {"answers": 110, "judgements": 390, "agreed": 370,
                                  "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 0},
           agreement.SECOND_LOOK_SET: {"answers": 110, "judgements": 390, "agreed": 376,
                                       "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 0},
           agreement.THIRD_LOOK_SET: {"answers": 110, "judgements": 390, "agreed": 371,
                                      "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 1},
           agreement.FOURTH_LOOK_SET: {"answers": 110, "judgements": 390, "agreed": 370,
                                       "right_answers_marked_wrong": 0, "wrong_answers": 55, "wrong_credited": 3}}
# The four seen sets together: all trained the sixth judge.
SEEN = {"answers": 314, "judgements": 1091, "agreed": 994, "right_missed": 0, "wrong_answers": 114,
        "wrong_credited": 1}
LOOK_SETS = [agreement.UNSEEN_SET, agreement.SECOND_LOOK_SET, agreement.THIRD_LOOK_SET, agreement.FOURTH_LOOK_SET,
             agreement.FIFTH_LOOK_SET, agreement.SIXTH_LOOK_SET, agreement.SEVENTH_SET, agreement.EIGHTH_LOOK_SET,
             agreement.NINTH_LOOK_SET]


def _bench():
    spec = importlib.util.spec_from_file_location("grading_agreement", ROOT / "bench" / "grading_agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def by_set():
    bank = default_bank()
    paths = [*agreement.UNSEEN_SETS, *reversed(LOOK_SETS), *agreement.ANSWER_SETS]  # as the bench prints them
    return {p: agreement.measure(agreement.load_answers(p), bank) for p in paths}


def _pooled(by_set) -> agreement.Agreement:
    return agreement.pooled(by_set[path] for path in agreement.UNSEEN_SETS)


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


@pytest.mark.parametrize("path", [*LOOK_SETS, *agreement.UNSEEN_SETS],
                         ids=["unseen", *(f"firstlook{i}" for i in range(2, 12))])
def test_each_unseen_set_has_ten_answers_per_question_half_subtly_wrong(path):
    bank = default_bank()
    answers = agreement.load_answers(path)
    for item in bank.questions + bank.exercises:
        mine = [a for a in answers if a.item == item.id]
        wrong = [a for a in mine if a.kind == "wrong"]
        right = [a for a in mine if a.kind in agreement.RIGHT_KINDS]
        assert len(mine) >= 10 and len(wrong) >= 5 and len(right) >= 5, item.id
        assert {a.kind for a in right} == set(agreement.RIGHT_KINDS), item.id  # full, unusual and short
        ideas = {k.id for k in item.key_ideas}
        assert all(a.covered == ideas for a in right if a.kind == "full"), item.id
        assert all(a.covered and a.covered <= ideas for a in right), item.id


def test_the_unseen_sets_share_no_answer():
    sets = [*LOOK_SETS, *agreement.UNSEEN_SETS]
    # (a one-line call such as `np.argmax(logits, axis=-1)` is how anyone writes it: the third and fourth sets' short
    # answers to logits_to_labels are that same line, written independently)
    # The fifth set's short compute_metrics answer came out word for word as the third set's (two helpers, the same
    # terse line); the third set trained the fifth-judge candidate, so that one answer of its first look was not
    # new to it (bench/results/grading_firstlook5.txt says so). The sixth set has that line a third time (its
    # first look is also reported without its ten near copies of earlier answers: grading_firstlook6.txt). Listed
    # here so that no other repeat slips in.
    # Sets 10 and 11, by two helpers, both answer logits_to_labels in the same short line.
    coincidences = {'Gets (logits, labels); returns a dict like {"accuracy": ..., "f1": ...}.',
                    "np.argmax(logits, axis=-1) — one 0/1 label per pair."}
    texts = [{a.text for a in agreement.load_answers(p) if len(a.text) >= 40} - coincidences for p in sets]
    assert all(not texts[i] & texts[j] for i in range(len(texts)) for j in range(i + 1, len(texts)))


def test_a_wrong_answer_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nanswers:\n  - {item: dynamic_padding, kind: wrong, answer: x, covered: [per_batch]}\n")
    with pytest.raises(ValueError, match="lists covered ideas"):
        agreement.load_answers(bad)


def _pinned(result, expected: dict) -> None:
    got = {k: getattr(result, k) for k in expected}
    assert got == expected


def test_the_first_looks_are_pinned_and_pooled_they_meet_the_targets(by_set):
    _pinned(by_set[agreement.FIRST_LOOK_SET], FIRST_LOOK)
    _pinned(by_set[agreement.ELEVENTH_SET], ELEVENTH)
    pooled = _pooled(by_set)
    assert (pooled.agreed, pooled.judgements) == (725, 780) and pooled.agreed / pooled.judgements >= 0.90
    assert pooled.right_answers_marked_wrong == 0 and pooled.wrong_credited / pooled.wrong_answers <= 0.10


def test_the_set_the_veto_override_came_from_is_pinned(by_set):
    _pinned(by_set[agreement.NINTH_LOOK_SET], NINTH)


@pytest.mark.parametrize("path", list(TUNING), ids=["firstlook5", "firstlook6", "firstlook7"])
def test_the_tuning_sets_figures_are_pinned(by_set, path):
    _pinned(by_set[path], TUNING[path])


def test_the_set_that_first_measured_these_thresholds_is_pinned(by_set):
    _pinned(by_set[agreement.EIGHTH_LOOK_SET], EIGHTH)


@pytest.mark.parametrize("path", list(TRAINED), ids=["unseen", "firstlook2", "firstlook3", "firstlook4"])
def test_the_earlier_first_look_sets_figures_are_pinned(by_set, path):
    _pinned(by_set[path], TRAINED[path])


def test_the_seen_figures_are_pinned(by_set):
    _pinned(agreement.pooled(by_set[path] for path in agreement.ANSWER_SETS), SEEN)


def test_pooled_figures_equal_measuring_the_sets_together(by_set):
    together = agreement.measure([a for p in agreement.UNSEEN_SETS for a in agreement.load_answers(p)])
    assert _pooled(by_set) == together  # every count, by_kind and the disagreements in order


def test_the_readme_table_is_the_bench_s_own(by_set):
    bench = _bench()
    rows = [(bench.POOLED, _pooled(by_set).summary()), *((str(p), r.summary()) for p, r in by_set.items())]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(re.escape(bench.START) + r"\n(.*?)\n *" + re.escape(bench.END), readme, re.S)
    assert block and block.group(1) == bench.table(rows)
    assert block.group(1).index("first look") < block.group(1).index("thresholds chosen on it")


def test_bench_prints_the_first_look_set_first_and_writes_the_table(capsys, tmp_path):
    bench = _bench()
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n", encoding="utf-8")
    summary = bench.main(["--answers", str(agreement.FIRST_LOOK_SET), str(agreement.UNSEEN_SET),
                          "--write", str(readme)])
    out = capsys.readouterr().out
    assert out.index("grading_answers_firstlook10.yaml (UNSEEN") < out.index("== grading_answers_unseen.yaml")
    assert f"agreement with the teacher: {FIRST_LOOK['agreed']}/{FIRST_LOOK['judgements']}" in out
    assert summary["agreed"] == TRAINED[agreement.UNSEEN_SET]["agreed"]  # the JSON line leaves the newest set out
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert f"({FIRST_LOOK['agreed']}/{FIRST_LOOK['judgements']})" in text


def test_the_feedback_footer_quotes_the_first_looks(by_set):
    from quiz import render

    first = _pooled(by_set)
    assert f"On {first.answers} learner answers written after it was frozen" in render.HOW_IT_CHECKS
    assert f"{first.agreed} of {first.judgements} key-idea judgements (first look)" in render.HOW_IT_CHECKS
    assert f"{first.wrong_credited} of {first.wrong_answers} fluent, subtly wrong answers" in render.HOW_IT_CHECKS
    assert not any(sym in render.HOW_IT_CHECKS for sym in "✓◐○{}")
