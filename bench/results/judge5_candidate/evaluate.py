"""The fifth-judge candidate (not shipped; see bench/results/grading_firstlook5.txt) on an answer set: python
bench/results/judge5_candidate/evaluate.py FILE [-v]. It reads answers with the grader as it is now (ten sentences,
the question fix), so its figures can differ a little from the recorded first look, made with six sentences."""
import json
import sys

from quiz import grading, judge
from quiz.agreement import load_answers, measure
from quiz.bank import default_bank

chosen = json.load(open("bench/results/judge5_candidate/thresholds.json"))["chosen"]
grading.COVER, grading.UNSURE, grading.VETO = chosen["cover"], chosen["unsure"], chosen["veto"]
j5 = judge.load("bench/results/judge5_candidate")
r = measure(load_answers(sys.argv[1]), default_bank(), grader=lambda item, text: grading.grade(item, text, j5))
print(chosen); print(json.dumps(r.summary()))
if len(sys.argv) > 2: print("\n".join(r.disagreements))
