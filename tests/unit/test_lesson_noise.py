"""The Lesson's noise paragraph with the reader's own runs (lesson/noise.py)."""
from __future__ import annotations

import pytest

from lesson import noise
from trainer_backend import paired
from trainer_backend.runs import predictions
from trainer_backend.runs.store import RunStore
from web import access

ALICE = access.Visitor("anon:alice", space=True)
BOB = access.Visitor("anon:bob", space=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return RunStore(tmp_path / "r.sqlite")


def _run(store, right, owner=None, fingerprint="f0", status="completed", label="run"):
    run_id = store.create({"seed": 1}, label=label, status=status, owner=owner)
    rows = [predictions.Prediction(i, 1, 1 if ok else 0, 0.9) for i, ok in enumerate(right)]
    predictions.save(store, run_id, rows, len(rows), fingerprint, "sample")
    return run_id


def test_without_two_comparable_runs_the_worked_example_is_shown(store):
    assert noise.own_pair(store, access.LOCAL) is None
    _run(store, [True, False])
    _run(store, [True, True, True], fingerprint="other")  # other examples: not comparable
    assert noise.own_pair(store, access.LOCAL) is None
    text = noise.markdown(None)
    assert "made-up counts on 408 pairs" in text and "right on 14 pairs" in text and "wrong on 9" in text
    assert "in 40% of cases" in text  # exact McNemar for 14 against 9 is 0.405


def test_the_example_is_computed_by_the_same_test():
    result = noise.example()
    assert (result.n, result.b_only, result.a_only) == (408, 14, 9)
    assert result.p_value == pytest.approx(paired.mcnemar_exact(14, 9))
    assert result.acc_b - result.acc_a == pytest.approx(5 / 408)


def test_the_newest_run_is_paired_with_the_newest_comparable_older_one(store):
    oldest = _run(store, [True] * 10)
    _run(store, [True] * 5, fingerprint="elsewhere")           # newer, but other examples
    newest = _run(store, [False] * 10)
    own = noise.own_pair(store, access.LOCAL)
    assert (own.newer.id, own.older.id) == (newest, oldest)
    assert (own.result.b_only, own.result.a_only) == (0, 10)
    text = noise.markdown(own)
    assert text.index(newest[-4:]) < text.index(oldest[-4:])
    assert "unlikely to be luck alone" in text  # 10 against 0: p = 2/1024


def test_a_small_gap_reads_as_luck(store):
    _run(store, [True, True, False, True])
    _run(store, [True, False, True, True])
    text = noise.markdown(noise.own_pair(store, access.LOCAL))
    assert "cannot be told apart" in text and "exact McNemar p = 1.00" in text


def test_on_a_space_only_the_visitors_own_runs_count(store, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "o/s")
    _run(store, [True] * 6, owner=BOB.key)
    _run(store, [False] * 6, owner=ALICE.key)
    assert noise.own_pair(store, ALICE) is None  # Bob's run is never paired with Alice's
    _run(store, [True, False] * 3, owner=ALICE.key)
    own = noise.own_pair(store, ALICE)
    assert own is not None and {own.newer.owner, own.older.owner} == {ALICE.key}
    assert noise.own_pair(store, access.NOBODY) is None


def test_unfinished_runs_are_left_out(store):
    _run(store, [True] * 4)
    _run(store, [False] * 4, status="running")
    assert noise.own_pair(store, access.LOCAL) is None
