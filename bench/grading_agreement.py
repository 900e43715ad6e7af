"""Benchmark: how often the quiz grader agrees with a teacher on learner answers, set by set, unseen set first.

Usage: python bench/grading_agreement.py [--answers FILE ...] [--bank quiz/bank.yaml] [-v]
(default: the unseen set when it exists, then the four seen sets in tests/data/, each on its own, then the seen
sets together; the judge trained on the first three seen sets and its thresholds were chosen on the fourth)
Every answer in the file has the key ideas a teacher ticks; the grader's "covered" is compared with each
tick. Printed: agreement over all key-idea judgements, ideas of fully right answers the grader marked
missed (and not covered), fully right answers with any idea marked missed, and wrong or off-topic answers credited with any idea. The
last line is JSON (the seen sets together). `-v` lists every disagreement. Runs offline in about a minute.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> dict:
    from quiz.agreement import ANSWER_SETS, UNSEEN_SET, load_answers, measure
    from quiz.bank import default_bank, load_bank

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = ([str(UNSEEN_SET)] if UNSEEN_SET.exists() else []) + [str(p) for p in ANSWER_SETS]
    parser.add_argument("--answers", nargs="*", default=defaults)
    parser.add_argument("--bank", default=None, help="a bank file (default: the packaged quiz/bank.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    bank = load_bank(args.bank) if args.bank else default_bank()
    everything = []
    for path in args.answers:
        answers = load_answers(path)
        seen = Path(path).resolve() != UNSEEN_SET.resolve()
        everything += answers if seen else []
        if len(args.answers) > 1:
            title = Path(path).name + ("" if seen else " (UNSEEN: written after the judge was frozen)")
            _report(title, measure(answers, bank), args.verbose)
    if not everything:
        everything = answers
    result = measure(everything, bank)
    summary = _report("seen sets together" if len(args.answers) > 1 else Path(args.answers[0]).name, result,
                      args.verbose and len(args.answers) == 1)
    print(json.dumps(summary))
    return summary


def _report(title: str, result, verbose: bool) -> dict:
    if verbose:
        print("\n".join(result.disagreements))
    print(f"== {title}")
    print(f"answers: {result.answers} · key-idea judgements: {result.judgements}")
    print(f"agreement with the teacher: {result.agreed}/{result.judgements} = {result.agreement:.1%}")
    print(f"ideas of fully right answers marked missed: {result.right_missed} of {result.right_ideas} "
          f"(not marked covered: {result.right_not_covered})")
    print(f"fully right answers with any idea marked missed: {result.right_answers_marked_wrong} of "
          f"{result.right_answers}")
    print(f"wrong or off-topic answers credited with any idea: {result.wrong_credited} of {result.wrong_answers} "
          f"= {result.wrong_credited_rate:.1%}")
    return result.summary()


if __name__ == "__main__":
    main()
