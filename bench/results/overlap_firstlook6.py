"""Set-6 answers that are near copies of an earlier set's answer: at least 30% of their six-word runs in one earlier
answer of the same question; then the bench's figures without them, with the grader as it is now (the figures at
the sixth judge's first thresholds are recorded in bench/results/grading_firstlook6.txt).
Run from the repository root: PYTHONPATH=. python bench/results/overlap_firstlook6.py"""
import json
import re
from pathlib import Path

from quiz import agreement
from quiz.bank import default_bank


def grams(t, n=6):
    w = re.findall(r"[a-z0-9]+", t.lower()); return {" ".join(w[i:i+n]) for i in range(len(w)-n+1)}
written_before = (*agreement.ANSWER_SETS, agreement.UNSEEN_SET, agreement.SECOND_LOOK_SET, agreement.THIRD_LOOK_SET,
                  agreement.FOURTH_LOOK_SET, agreement.FIFTH_LOOK_SET)
earlier = [(Path(f).name, a) for f in written_before for a in agreement.load_answers(f)]
six = agreement.load_answers(agreement.SIXTH_LOOK_SET)
near = []
for a in six:
    g = grams(a.text)
    if not g: continue
    best = max(((len(g & grams(b.text)) / len(g), name) for name, b in earlier if b.item == a.item), default=(0, ""))
    if best[0] >= 0.3:
        near.append(a); print(f"{best[0]:.2f} {best[1]} {a.item}/{a.kind}: {a.text[:70]}")
print(len(near), "near copies")
rest = [a for a in six if a not in near]
print(json.dumps(agreement.measure(rest, default_bank()).summary()))
