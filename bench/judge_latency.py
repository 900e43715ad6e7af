"""Benchmark: how long the quiz's feedback takes, the first time after start-up and after that.

Usage: python bench/judge_latency.py [--threads 2] [--repeat 20]
Runs in a fresh process per measurement of the first feedback (so nothing is cached), with torch limited to
`--threads` threads: the import of the grader (torch and transformers; in the app they are already imported by
the other tabs), loading the judge (packaged encoder + merged LoRA adapter), the first feedback with the judge
loaded lazily, and the median and worst of later feedbacks. In the app the judge is loaded by a warm-up thread
while the first page renders (app.launch), so a visitor's first feedback costs what a later one does.
Prints one line per figure and a JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, os, statistics, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads({threads})
t0 = time.perf_counter()
from quiz.grading import grade
from quiz.bank import default_bank
t1 = time.perf_counter()
bank = default_bank()
item = bank.item("dynamic_padding")
answer = ("It pads each batch as it is built, only to the longest pair in that batch. Padding everything "
          "up front to the longest pair of the whole set would waste compute on pad tokens.")
t2 = time.perf_counter()
grade(item, answer)
t3 = time.perf_counter()
later = []
items = bank.questions + bank.exercises
for i in range({repeat}):
    q = items[i % len(items)]
    s = time.perf_counter()
    grade(q, q.model_answer + " " + str(i))
    later.append(time.perf_counter() - s)
print(json.dumps({{"import_s": t1 - t0, "first_feedback_s": t3 - t2, "later_median_s": statistics.median(later),
                  "later_max_s": max(later)}}))
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(args.threads))
    code = _CHILD.format(root=str(ROOT), threads=args.threads, repeat=args.repeat)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result = {k: round(v, 3) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    print(f"import of the grader (torch, transformers): {result['import_s']:.2f} s")
    print(f"first feedback, judge loaded on demand: {result['first_feedback_s']:.2f} s (target < 2 s)")
    print(f"later feedback: median {result['later_median_s']:.3f} s, worst {result['later_max_s']:.3f} s "
          f"(target < 0.5 s)")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
