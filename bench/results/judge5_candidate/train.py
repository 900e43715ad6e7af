"""The fifth-judge candidate, as trained: python bench/results/judge5_candidate/train.py (from the repository root, PYTHONPATH=.). A fifth judge = the fourth's recipe trained also on the third judge's first-look set; the fourth
judge's first-look set is kept aside (tuning)."""
import functools

from quiz import judge_data
from quiz.agreement import FIRST_LOOK_SET, THIRD_LOOK_SET

judge_data.build = functools.partial(judge_data.build, answer_sets=(*judge_data.TRAIN_SETS, THIRD_LOOK_SET))
judge_data.TUNE_SETS = (FIRST_LOOK_SET,)
from scripts import train_judge

train_judge.main(["--out", "bench/results/judge5_candidate"])
