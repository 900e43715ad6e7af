"""The Lesson's paragraph on noise, told with the reader's own runs.

The Evaluate section says that on a few hundred validation pairs a gap of a point or two between two runs may be
luck. Here that claim is checked on the reader's two newest finished runs that were evaluated on the same
validation examples, with the paired test the Train tab applies to overlaid runs (trainer_backend.paired: exact
McNemar on the examples where they disagree, paired bootstrap interval for the difference). Until the reader has
two such runs, a worked example with counts chosen for the purpose shows how to read the sentence.

On a Space only the visitor's own runs are considered: another visitor's validation pairs may come from their
upload.
"""
from __future__ import annotations

from dataclasses import dataclass

from trainer_backend import paired
from trainer_backend.runs import predictions
from trainer_backend.runs.store import Run, RunStore
from trainer_backend.runs.summary import run_name
from trainer_backend.textsafe import md_escape
from web.access import Visitor

ENDED = ("completed", "stopped")
LOOKED_AT = 30   # newest finished runs searched for a comparable pair
# The worked example: 408 pairs (MRPC's validation split), both runs right on 317, B alone right on 14, A on 9.
EXAMPLE_BOTH, EXAMPLE_B_ONLY, EXAMPLE_A_ONLY, EXAMPLE_N = 317, 14, 9, 408


@dataclass(frozen=True)
class OwnPair:
    """Two of the reader's runs scored on the same examples, and how the newer compares with the older."""

    newer: Run
    older: Run
    result: paired.Paired


def _verdicts(store: RunStore, run: Run) -> tuple[list[int], list[bool]]:
    rows = predictions.load(store, run.id)
    return [p.index for p in rows], [p.correct for p in rows]


def own_pair(store: RunStore, visitor: Visitor) -> OwnPair | None:
    """The reader's newest finished run paired with the newest older one that evaluated the same examples."""
    runs = [r for r in store.list(statuses=ENDED, limit=LOOKED_AT, owner=visitor.runs_owner)
            if visitor.owns(r.owner) and predictions.meta(r.info)]
    for i, newer in enumerate(runs):
        partners = [r for r in runs[i + 1:] if predictions.mismatch(newer.info, r.info) is None]
        new_index, new_right = _verdicts(store, newer) if partners else ([], [])  # read once, not per partner
        for older in partners:
            old_index, old_right = _verdicts(store, older)
            if new_index and new_index == old_index:
                return OwnPair(newer, older, paired.compare(old_right, new_right))
    return None


def example() -> paired.Paired:
    """The worked example's comparison, computed by the same code as for real runs."""
    a = [True] * EXAMPLE_BOTH + [False] * EXAMPLE_B_ONLY + [True] * EXAMPLE_A_ONLY
    b = [True] * EXAMPLE_BOTH + [True] * EXAMPLE_B_ONLY + [False] * EXAMPLE_A_ONLY
    rest = EXAMPLE_N - len(a)
    return paired.compare(a + [False] * rest, b + [False] * rest)


def _name(run: Run) -> str:
    return f"**{md_escape(run_name(run))}**"


def markdown(own: OwnPair | None) -> str:
    """The paragraph: the reader's own two runs compared, or the worked example when there are none."""
    if own is None:
        return ("**With your own runs.** Once you have two finished runs evaluated on the same validation "
                "pairs (the *Seed spread* preset in Train makes three that differ only in their seed), this "
                "paragraph compares them for you. Until then, made-up counts on 408 pairs show how to read the "
                "test: " + paired.sentence(example(), "run B", "run A"))
    r = own.result
    verdict = ("So on these pairs the two runs cannot be told apart: the gap is the size luck alone produces."
               if r.p_value >= 0.05 else
               "A gap this size is unlikely to be luck alone; still, it is one pair of runs: train a few seeds of "
               "each setting before you trust which setting is better.")
    return (f"**With your own runs.** Your two newest runs scored on the same {r.n:,} validation pairs: "
            f"{_name(own.newer)} (accuracy {r.acc_b:.3f}) and {_name(own.older)} ({r.acc_a:.3f}). "
            + paired.sentence(r, _name(own.newer), _name(own.older)) + " " + verdict)
