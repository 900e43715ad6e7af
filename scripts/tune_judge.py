"""Choose the judge's thresholds (quiz/grading.py COVER, UNSURE and VETO) on tuning sets, from its probabilities.

Usage: python scripts/tune_judge.py [--sets FILE ...] [--adapter DIR] [--json OUT]
(default: the tuning sets of quiz/judge_data.py, which the judge never trained on: since the sixth judge's second
thresholds, the set written after the fifth-judge candidate and the sixth judge's two unseen sets, pooled)
Each answer is read once, so every key idea's P(states), P(contradicts) and any misconception veto is recorded;
then every (COVER, VETO) on a grid is scored as the bench scores it (agreement, wrong answers credited, right ideas
not covered). The rule: UNSURE is the highest value (at most COVER / 2) that marks no idea of a right answer missed
on the tuning sets; (COVER, VETO) is the pair with the best agreement among those crediting at most 5% of the wrong
answers (half the target) and leaving every model answer of the bank covering all its own ideas (when no pair meets
both, the model answers stay whole and the fewest wrong answers credited decides); ties go to the higher COVER,
then the weaker veto (none at 1.01).

The rule's history. Fixed before the third judge was trained, it kept half of the 10% target as a margin (at most
5% credited) and had no model-answer condition; the third judge then credited 5% on its tuning sets and 29% on its
first look, so the margin did not protect it. For the fourth judge, after seeing its tuning sweep and before its
first-look set was written, the margin was dropped and the model-answer condition added: on its single tuning set
of 55 wrong answers the 5% margin (2 answers) chose COVER 0.85, which showed 45 of 167 right ideas as "compare with
our answer" there, 53 ideas of the bank's own good sample answers, and left a model answer short of its own idea.
The sixth judge's first thresholds came from that rule (COVER 0.5, UNSURE 0.016, no veto, chosen on one set of 55
wrong answers): its first look met the 10% target (4 of 55 credited) and a second unseen set, written right after,
did not (11 of 55): aimed at the target itself, on one set, the rule misses it about as often as it meets it. So
the margin is back, now on a pool large enough to hold it: every set the judge never trained on (the fifth
candidate's set and the sixth judge's two unseen sets, 165 wrong answers), at most 5% credited there. With one set
of 55, 5% was 2 answers and chose COVER 0.85; on 165 it is 8.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GRID = [round(0.05 * i, 2) for i in range(2, 20)]
VETO_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]   # 1.01: no veto
MAX_WRONG_CREDITED = 0.05   # half the 10% target, on every set the judge never trained on, pooled (see the history)
RULE = ("UNSURE: the highest value (at most COVER / 2) that marks no idea of a right answer missed; (COVER, VETO): "
        f"the best agreement among the grid values that credit at most {MAX_WRONG_CREDITED:.0%} of the wrong answers "
        "and leave every model answer covering all its own ideas")


def probabilities(paths, adapter: str | None = None) -> list[dict]:
    """For every answer of the sets: kind, teacher ticks, and per idea (P(states), P(contradicts), vetoed); then
    every model answer of the bank (set "model answers", kind "model", every idea ticked)."""
    from quiz import grading, judge
    from quiz.agreement import load_answers
    from quiz.bank import default_bank

    bank = default_bank()
    the_judge = judge.load(adapter) if adapter else judge.load()

    def row(item, text: str, name: str, kind: str, ticked) -> dict:
        reading = grading.read(item, text[:grading.MAX_CHARS], the_judge)
        return {"set": name, "item": item.id, "kind": kind, "teacher": sorted(ticked),
                "ideas": {k.id: [s.states, s.contradicts, veto is not None, s.unsupported]
                          for k, s, veto in zip(item.key_ideas, reading.scores, reading.vetoes)}}

    rows = [row(bank.item(a.item), a.text, Path(path).name, a.kind, a.covered)
            for path in paths for a in load_answers(path)]
    return rows + [row(q, q.model_answer, "model answers", "model", [k.id for k in q.key_ideas])
                   for q in bank.questions + bank.exercises]


def _status(idea: list, cover: float, unsure: float, veto: float) -> str:
    """The grader's own decision (quiz.grading.decide) for one recorded idea [P(states), P(contradicts), vetoed,
    unsupported] at these thresholds."""
    from quiz import grading
    from quiz.judge import IdeaScore

    p, contra, vetoed, unsupported = idea
    return grading.decide(IdeaScore(p, contra, 0, unsupported=unsupported), vetoed, cover, unsure, veto)[0]


def model_answers_covered(rows, cover: float, veto: float) -> bool:
    """Every model answer covers all its own ideas at these thresholds."""
    from quiz.grading import COVERED

    return all(_status(idea, cover, 0.0, veto) == COVERED
               for r in rows if r["kind"] == "model" for idea in r["ideas"].values())


def score(rows, cover: float, unsure: float, veto: float) -> dict:
    """The bench's figures for these thresholds."""
    from quiz.agreement import RIGHT_KINDS, WRONG_KINDS
    from quiz.grading import COVERED, MISSED

    agreed = judgements = wrong = wrong_credited = right_missed = right_not_covered = right_ideas = 0
    for r in (r for r in rows if r["kind"] != "model"):  # the model answers only constrain the choice
        credited_any = False
        for idea, recorded in r["ideas"].items():
            status = _status(recorded, cover, unsure, veto)
            covered, missed = status == COVERED, status == MISSED
            teacher = idea in r["teacher"]
            judgements += 1
            agreed += covered == teacher
            credited_any |= covered
            if teacher and r["kind"] in RIGHT_KINDS:
                right_ideas += 1
                right_missed += missed
                right_not_covered += not covered
        if r["kind"] in WRONG_KINDS:
            wrong += 1
            wrong_credited += credited_any
    return {"cover": cover, "unsure": unsure, "veto": veto, "agreement": round(agreed / judgements, 4),
            "wrong_credited": wrong_credited, "wrong": wrong, "right_missed": right_missed,
            "right_not_covered": right_not_covered, "right_ideas": right_ideas}


def choose(rows) -> tuple[dict, list[dict]]:
    """The thresholds by the rule in the module docstring, and the whole sweep."""
    from quiz.agreement import RIGHT_KINDS

    right_ps = sorted(p for r in rows if r["kind"] in RIGHT_KINDS
                      for idea, (p, _, vetoed, _u) in r["ideas"].items() if idea in r["teacher"] and not vetoed)
    sweep = []
    for cover in GRID:
        unsure = round(cover / 2, 3)
        if right_ps:
            unsure = min(unsure, max(0.01, round(right_ps[0] - 0.005, 3)))
        sweep += [score(rows, cover, unsure, veto) for veto in VETO_GRID]
    whole = [s for s in sweep if model_answers_covered(rows, s["cover"], s["veto"])]
    if not whole:  # said, not silent: no thresholds keep every model answer whole for this judge
        print("warning: at no (COVER, VETO) on the grid does every model answer cover its own ideas")
        whole = [{**s, "model_answers_whole": False} for s in sweep]
    ok = [s for s in whole if s["wrong_credited"] <= MAX_WRONG_CREDITED * s["wrong"]]
    if not ok:  # none meets both: the model answers stay whole, and the fewest wrong answers credited
        fewest = min(s["wrong_credited"] for s in whole)
        ok = [s for s in whole if s["wrong_credited"] == fewest]
    best = max(ok, key=lambda s: (s["agreement"], s["cover"], s["veto"]))
    return best, sweep


def main(argv=None) -> dict:
    from quiz.judge_data import TUNE_SETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=[str(p) for p in TUNE_SETS])
    parser.add_argument("--adapter", default=None, help="an adapter folder (default: the shipped one)")
    parser.add_argument("--json", default=None, help="also write the sweep and the choice here")
    parser.add_argument("--rows", default=None, help="also write every probability here")
    args = parser.parse_args(argv)
    rows = probabilities(args.sets, args.adapter)
    best, sweep = choose(rows)
    for s in sweep:
        if s["veto"] in (best["veto"], 1.01):
            print(json.dumps(s))
    print("chosen:", json.dumps(best))
    if args.json:
        sets = [Path(p).name for p in args.sets]
        Path(args.json).write_text(json.dumps({"sets": sets, "rule": RULE, "chosen": best, "sweep": sweep}, indent=1)
                                   + "\n", encoding="utf-8")
    if args.rows:
        Path(args.rows).write_text(json.dumps(rows) + "\n", encoding="utf-8")
    return best


if __name__ == "__main__":
    main()
