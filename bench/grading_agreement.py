"""Benchmark: how often the quiz grader agrees with a teacher on held-out learner answers.

Usage: python bench/grading_agreement.py [--answers tests/data/grading_answers.yaml] [--bank quiz/bank.yaml] [-v]
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
    from quiz.agreement import ANSWERS_FILE, load_answers, measure
    from quiz.bank import default_bank, load_bank

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", default=str(ANSWERS_FILE))
    parser.add_argument("--bank", default=None, help="a bank file (default: the packaged quiz/bank.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    result = measure(load_answers(args.answers), load_bank(args.bank) if args.bank else default_bank())
    if args.verbose:
        print("\n".join(result.disagreements))
    print(f"answers: {result.answers} · key-idea judgements: {result.judgements}")
    print(f"agreement with the teacher: {result.agreed}/{result.judgements} = {result.agreement:.1%}")
    print(f"ideas of fully right answers marked missed: {result.right_missed} of {result.right_ideas} "
          f"(not marked covered: {result.right_not_covered})")
    print(f"wrong or off-topic answers credited with any idea: {result.wrong_credited} of {result.wrong_answers} "
          f"= {result.wrong_credited_rate:.1%}")
    summary = result.summary()
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
