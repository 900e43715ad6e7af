"""bench/quick_look.py's reading of a run's loss: where it leaves chance, against the data's own chance loss."""
from __future__ import annotations

import json
import math

import pytest

from bench import quick_look


def test_the_chance_loss_is_the_entropy_of_the_label_shares(tmp_path):
    assert quick_look.chance_loss("sample") == pytest.approx(math.log(2), abs=0.01)  # the sample is balanced
    folder = tmp_path / "mrpc"
    folder.mkdir()
    rows = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
    rows += [f"{1 if i < 68 else 0}\t{i}\t{i + 1000}\tsentence number {i} here\tanother sentence {i}" for i in range(100)]
    (folder / "msr_paraphrase_train.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # the train split is what the run learns from (a validation share is split off it): shares near 68/32
    assert quick_look.chance_loss(str(folder)) == pytest.approx(0.626, abs=0.03)


def test_the_loss_leaves_chance_where_its_running_mean_goes_under_it():
    chance = math.log(2)
    settling = [0.74, 0.72, 0.70, 0.69, 0.70, 0.69, 0.69, 0.70]  # a new head settling to chance: not learning
    learning = [0.66, 0.60, 0.55, 0.50, 0.45, 0.40, 0.42, 0.38]
    assert quick_look.left_chance(settling + learning, chance) == pytest.approx(11 / 16)
    assert quick_look.left_chance(settling, chance) is None
    # one low log among chance-level ones is noise, not leaving chance
    assert quick_look.left_chance([0.69, 0.69, 0.50, 0.69, 0.69, 0.69], chance) is None


def test_the_validation_after_each_quarter_is_read_from_the_trainers_log_lines():
    stdout = "\n".join([
        "[studio] model: MiniLM",
        "{'loss': '0.6473', 'grad_norm': '1.264', 'learning_rate': '5e-05', 'epoch': '0.05'}",
        "{'eval_loss': '0.705', 'eval_accuracy': '0.4625', 'eval_f1': '0.5825', 'epoch': '0.04'}",
        "{'eval_loss': 'not a number', broken",
        "{'eval_loss': '0.61', 'eval_accuracy': '0.7', 'epoch': '0.08'}",
    ])
    assert quick_look.evaluations(stdout) == [{"loss": 0.705, "accuracy": 0.4625}, {"loss": 0.61, "accuracy": 0.7}]


def test_the_table_says_which_runs_mixed_in_easy_pairs(tmp_path):
    header = {"machine": {"cpu": "CPU X", "cores": 2, "cpu_flags": ["avx2"]}, "fp32_only_path": True,
              "started": "today", "load_average_at_start": 0.5}
    row = {"seed": 1, "data": "sample", "wall_s": 80.0, "accuracy": 0.8, "f1": 0.8, "n_validation": 80,
           "losses": [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2], "loss_falls_in_first_quarter": True,
           "load_average": 1.0, "evaluations": [{"loss": 0.65, "accuracy": 0.6}],
           "notes": [{"kind": "model", "name": "m"}, {"kind": "easy_pairs", "added": 400, "real": 400}]}
    before = {**row, "notes": ["model: m"], "evaluations": None}
    log = tmp_path / "q.jsonl"
    log.write_text("\n".join(json.dumps(x) for x in (header, row, before)) + "\n")
    lines = quick_look.markdown([log]).splitlines()
    assert "| sample (80 val.) | real + 400 easy |" in lines[2] and lines[2].endswith("| 0.650, 0.600 |")
    assert "| sample (80 val.) | real only |" in lines[3] and lines[3].endswith("| — |")
