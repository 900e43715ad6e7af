"""Benchmark: how often the quiz grader agrees with a teacher on learner answers, set by set, unseen set first.

Usage: python bench/grading_agreement.py [--answers FILE ...] [--bank quiz/bank.yaml] [-v] [--write README.md]
(default: the unseen sets (written after the grader as it ships was frozen) pooled, then each of them, then the
sets written after earlier graders, newest first (seen since: the ninth led to the veto override, the eighth to a
pattern fix, the sixth judge chose its thresholds on the fifth to seventh and trained on the others), then the four
seen sets in tests/data/ (trained on), each on its own, then every set but the unseen ones together)
Every answer in the file has the key ideas a teacher ticks; the grader's "covered" is compared with each
tick. Printed: agreement over all key-idea judgements, ideas of fully right answers the grader marked
missed (and not covered), fully right answers with any idea marked missed, and wrong or off-topic answers credited with any idea. The
last line is JSON (the sets other than the unseen ones, together). `-v` lists every disagreement. `--write README.md`
replaces the README's grader table (between its markers) with these figures, so it is never typed by hand.
Runs offline in about a minute.
"""
from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
START, END = "<!-- bench:grading:start -->", "<!-- bench:grading:end -->"


POOLED = "unseen sets pooled"  # the table row of the unseen sets together


def role(path: str | Path) -> str:
    """What a set is to the current judge: "unseen", "tuning" or "seen" (trained on, or read since)."""
    from quiz.agreement import UNSEEN_SETS
    from quiz.judge_data import TUNE_SETS

    resolved = Path(path).resolve()
    if str(path) == POOLED or resolved in {p.resolve() for p in UNSEEN_SETS}:
        return "unseen"
    return "tuning" if resolved in {p.resolve() for p in TUNE_SETS} else "seen"


def main(argv: list[str] | None = None) -> dict:
    from quiz import agreement as sets
    from quiz.agreement import load_answers, measure, pooled
    from quiz.bank import default_bank, load_bank

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    earlier = (*sets.UNSEEN_SETS, sets.NINTH_LOOK_SET, sets.EIGHTH_LOOK_SET, sets.SEVENTH_SET, sets.SIXTH_LOOK_SET, sets.FIFTH_LOOK_SET,
               sets.FOURTH_LOOK_SET, sets.THIRD_LOOK_SET, sets.SECOND_LOOK_SET, sets.UNSEEN_SET)
    defaults = [str(p) for p in earlier if p.exists()] + [str(p) for p in sets.ANSWER_SETS]
    parser.add_argument("--answers", nargs="*", default=defaults)
    parser.add_argument("--bank", default=None, help="a bank file (default: the packaged quiz/bank.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    parser.add_argument("--write", default=None, help="a README whose grader table is replaced by these figures")
    args = parser.parse_args(argv)
    bank = load_bank(args.bank) if args.bank else default_bank()
    seen, unseen, rows = [], [], []
    for path in args.answers:
        kind = role(path)
        measured = measure(load_answers(path), bank)
        (unseen if kind == "unseen" else seen).append(measured)
        if len(args.answers) > 1:
            title = Path(path).name + {"unseen": " (UNSEEN: written after the judge was frozen)",
                                       "tuning": " (written after an earlier judge; thresholds chosen on it)",
                                       "seen": ""}[kind]
            rows.append((path, _report(title, measured, args.verbose)))
    if len(unseen) > 1:  # more than one unseen set: pooled, they count
        rows.insert(0, (POOLED, _report(f"{POOLED} (the figure that counts)", pooled(unseen), False)))
    result = pooled(seen or unseen[-1:])   # each set graded once; with only unseen sets, the last one
    summary = _report("seen sets together" if len(args.answers) > 1 else Path(args.answers[0]).name, result,
                      args.verbose and len(args.answers) == 1)
    if args.write:
        write_table(Path(args.write), table(rows))
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


_LABELS = {
    POOLED: "**unseen: sets 10 and 11 pooled (the figure that counts)**",
    "grading_answers_firstlook10.yaml": "unseen: set 10, the first look at the grader as it ships",
    "grading_answers_firstlook11.yaml": "unseen: set 11, written by a second helper, the grader unchanged",
    "grading_answers_firstlook9.yaml": "the first look at the question fix (the veto override came from it since)",
    "grading_answers_firstlook8.yaml": "the first look at these thresholds (a pattern fix came from it since)",
    "grading_answers_firstlook7.yaml": "the sixth judge's second unseen set (thresholds chosen on it since)",
    "grading_answers_firstlook6.yaml": "the sixth judge's first-look set (thresholds chosen on it since)",
    "grading_answers_firstlook5.yaml": "the set written after the fifth candidate (thresholds chosen on it since)",
    "grading_answers_firstlook4.yaml": "the fourth judge's first-look set (trained on since)",
    "grading_answers_firstlook3.yaml": "the third judge's first-look set (trained on since)",
    "grading_answers_firstlook2.yaml": "the second judge's first-look set (trained on since)",
    "grading_answers_unseen.yaml": "the first judge's first-look set (trained on since)",
    "grading_answers.yaml": "seen: set 1 (trained on)",
    "grading_answers_holdout.yaml": "seen: set 2 (trained on)",
    "grading_answers_fresh.yaml": "seen: set 3 (trained on)",
    "grading_answers_final.yaml": "seen: set 4 (trained on)",
}


def table(rows: list[tuple[str, dict]]) -> str:
    """The README's grader table: one row per set, in the order measured (indented: it sits in a list item)."""
    lines = ["| answer set | agreement on key ideas | right answers with an idea marked missed "
             "| wrong answers credited with an idea |", "|---|---|---|---|"]
    for path, s in rows:
        name = Path(path).name
        bold = "**" if path == POOLED else ""
        rate = s["wrong_credited"] / s["wrong_answers"] if s["wrong_answers"] else 0.0
        lines.append(
            f"| {_LABELS.get(name, name)} | {bold}{s['agreed'] / s['judgements']:.1%} ({s['agreed']}/{s['judgements']}){bold} "
            f"| {bold}{s['right_answers_marked_wrong']} of {s['right_answers']}{bold} ({s['right_missed']} of "
            f"{s['right_ideas']} ideas; {s['right_not_covered'] - s['right_missed']} shown ◐) "
            f"| {bold}{s['wrong_credited']} of {s['wrong_answers']} ({rate:.0%}){bold} |")
    return "\n".join("  " + line for line in lines)


def write_table(readme: Path, markdown: str) -> None:
    """Replace the block between the grader markers of `readme` with `markdown`."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} block")
    block = f"{START}\n{markdown}\n  {END}"
    readme.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S),
                      encoding="utf-8")


if __name__ == "__main__":
    main()
