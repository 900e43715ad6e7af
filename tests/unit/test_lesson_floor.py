"""The majority-class floor of the data in use, computed from labels or a confusion matrix, and results read against it."""
from __future__ import annotations

import pytest

from lesson import curves, figures, floor, live


def test_floors_of_mrpc_and_of_a_balanced_sample_are_computed():
    mrpc = floor.mrpc()
    assert (round(mrpc.accuracy, 2), round(mrpc.f1, 2)) == (0.68, 0.81)
    assert mrpc.accuracy == pytest.approx(figures.majority_floor().accuracy)
    balanced = floor.of_labels([0, 1] * 40, "sample")
    assert (balanced.accuracy, round(balanced.f1, 2), balanced.majority) == (0.5, 0.67, "paraphrase")
    mostly_no = floor.of_labels([0, 0, 0, 1], "skewed")
    assert (mostly_no.accuracy, mostly_no.f1, mostly_no.majority) == (0.75, 0.0, "not_paraphrase")
    assert floor.of_matrix([[0, 40], [0, 40]], "m") == balanced.__class__("m", 80, 40)
    assert floor.of_matrix(None, "m") is None


def test_the_bundled_sample_floor_comes_from_its_labels():
    sample = live.data_floor("sample")
    labels = live.data("sample").dataset["validation"]["label"]
    assert sample.pairs == len(labels) and sample.positives == sum(labels)
    assert "validation pairs" in sample.sentence() and f"{sample.accuracy:.2f}" in sample.sentence()
    peek = live.peek("sample", 3)
    assert sample.sentence(named=False) in peek.markdown()
    assert [type(v) for v in peek.rows[0][:3]] == [int, int, str] and peek.rows[0][2] in floor.LABELS


def test_reading_a_result_against_the_floor():
    balanced = floor.of_labels([0, 1] * 40, "sample")
    assert "at the majority-class floor" in floor.reading(0.5, 0.667, balanced)
    assert "at the majority-class floor" in floor.reading(0.5125, 0.667, balanced)  # within one pair
    above = floor.reading(0.825, 0.82, balanced)
    assert "32.5 points above" in above and "floor" in above
    assert "not known" in floor.reading(0.8, 0.8, None)


def test_curves_at_the_floor_tell_no_overfitting_story():
    balanced = floor.of_labels([0, 1] * 40, "sample")
    stuck = curves.Curves("t", [(0.5, 0.69), (1.5, 0.69)],
                          [(1.0, 0.60, 0.5, 0.667), (2.0, 0.70, 0.5, 0.667)], balanced)
    text = " ".join(curves.reading(stuck))
    assert "at the majority-class floor" in text and "overfitting yet" not in text
    assert "first sign of overfitting" not in text
    assert "points above the majority-class floor" in " ".join(curves.reading(curves.article()))


def test_a_stored_run_is_read_against_its_own_floor_and_named_apart(tmp_path):
    from tests.browser.seed_runs import write_floor_run, write_good_run
    from trainer_backend.runs.store import RunStore
    from trainer_backend.runs.summary import run_name

    store = RunStore(tmp_path / "runs.sqlite")
    low, good = write_floor_run(store, seed=7), write_good_run(store, seed=42)
    c = curves.from_store(low, store)
    assert c.floor is not None and c.floor.pairs == 80 and c.floor.accuracy == 0.5
    assert "at the majority-class floor" in " ".join(curves.reading(c))
    assert "above the majority-class floor" in " ".join(curves.reading(curves.from_store(good, store)))
    names = dict((v, k) for k, v in curves.run_choices(store=store))
    assert names[low].startswith(run_name(store.get(low))) and "seed 7" in names[low]
    assert names[low] != names[good]


def test_a_flat_training_loss_is_called_flat():
    flat = curves.Curves("t", [(0.1, 0.691), (1.0, 0.688)], [(0.5, 0.70, 0.5, 0.667), (1.0, 0.70, 0.5, 0.667)])
    assert "barely moved" in curves.reading(flat)[0]


def test_the_prose_names_mrpc_for_its_floor_and_leaves_here_to_the_computed_line():
    """Issue 23.8: section 9 said the floor 'here' was 0.68/0.81, then the line under it said 0.50/0.67."""
    from lesson import figures, sections

    text = sections.get("metrics").text()
    floor = figures.values()["floor_acc"]
    sentence = next(s for s in text.replace("\n", " ").split(". ") if floor in s)
    assert "MRPC" in sentence and " here" not in sentence
