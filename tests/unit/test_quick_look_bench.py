"""bench/quick_look.py's reading of a run's loss: where it leaves chance, against the data's own chance loss."""
from __future__ import annotations

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
