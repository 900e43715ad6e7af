"""Benchmark: how often the quiz grader agrees with a teacher on held-out learner answers.

Usage: python bench/grading_agreement.py [--answers FILE ...] [--bank quiz/bank.yaml] [-v]
(default: the three answer sets in tests/data/, each on its own, then all together)
Every answer in the file has the key ideas a teacher ticks; the grader's "covered" is compared with each
tick. Printed: agreement over all key-idea judgements, ideas of fully right answers the grader marked
missed (and not covered), and wrong or off-topic answers credited with any idea. The last line is JSON.
`-v` lists every disagreement. Runs offline with the packaged all-MiniLM-L6-v2 in about a minute on one core.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> dict:
    from quiz.agreement import ANSWER_SETS, load_answers, measure
    from quiz.bank import default_bank, load_bank

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", nargs="*", default=[str(p) for p in ANSWER_SETS])
    parser.add_argument("--bank", default=None, help="a bank file (default: the packaged quiz/bank.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    bank = load_bank(args.bank) if args.bank else default_bank()
    everything = []
    for path in args.answers:
        answers = load_answers(path)
        everything += answers
        if len(args.answers) > 1:
            _report(f"{Path(path).name}", measure(answers, bank), args.verbose)
    result = measure(everything, bank)
    summary = _report("all sets" if len(args.answers) > 1 else Path(args.answers[0]).name, result,
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
    print(f"wrong or off-topic answers credited with any idea: {result.wrong_credited} of {result.wrong_answers} "
          f"= {result.wrong_credited_rate:.1%}")
    return result.summary()


if __name__ == "__main__":
    main()
