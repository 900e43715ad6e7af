"""Part B on the learner's own runs: grouping seed runs, the gap in points and pairs, the noise, ownership."""
from __future__ import annotations

import pytest

from quiz import seed_spread
from trainer_backend.runs.store import RunStore


def _run(store, group, seed, acc, status="completed", owner=None, n=408):
    run_id = store.create({"seed": seed}, label=f"seed {seed}", group_id=group, owner=owner)
    store.update(run_id, status=status, final_metrics={"eval_accuracy": acc, "eval_samples": n})
    return run_id


@pytest.fixture()
def store(tmp_path):
    return RunStore(tmp_path / "runs.sqlite")


def test_no_runs_gives_the_mrpc_numbers_and_what_to_do(store):
    text = seed_spread.report(store.list())
    assert "No finished seed-spread runs" in text and "0.25 points" in text and "1.7 points" in text
    assert "5 pairs" in text   # 0.857 vs 0.869 on 408 pairs, computed


def test_a_group_is_read_in_points_pairs_and_noise(store):
    for seed, acc in ((1, 0.8309), (2, 0.8088), (3, 0.8186)):
        _run(store, "g1", seed, acc)
    _run(store, "g1", 4, 0.9, status="failed")          # unfinished runs are left out
    _run(store, None, 5, 0.7)                            # a single run is not a group
    [spread] = seed_spread.groups(store.list())
    assert [r.seed for r in spread.runs] == [1, 2, 3]
    assert spread.range_points == pytest.approx(2.21)
    assert spread.range_pairs == 9                       # 2.21 points / 0.245 points per pair
    assert spread.standard_error_points == pytest.approx(100 * (0.8194 * 0.1806 / 408) ** 0.5, rel=1e-3)
    text = seed_spread.report(store.list())
    assert "2.2 points" in text and "9 pairs" in text and "well inside" in text


def test_a_collapsed_seed_is_named(store):
    _run(store, "g2", 1, 0.84)
    _run(store, "g2", 2, 0.6838)
    text = seed_spread.report(store.list())
    assert "wider than" in text and "never left the majority answer" in text


def test_the_tab_handler_reads_only_the_visitors_runs(store, monkeypatch):
    from ui import quiz_tab

    _run(store, "g3", 1, 0.85, owner="user:alice")
    _run(store, "g3", 2, 0.86, owner="user:alice")
    handler = quiz_tab._seed_spread_handler(store)
    assert "Your 2 seeds" in handler(None, None)         # off a Space the local user owns everything
    monkeypatch.setattr("trainer_backend.settings.on_space", lambda: True)
    monkeypatch.setattr("web.access.settings.on_space", lambda: True, raising=False)
    try:
        text = handler("a" * 32, None)
    except Exception as err:  # noqa: BLE001 - an unidentifiable visitor is refused, never shown others' runs
        assert "alice" not in str(err)
    else:
        assert "No finished seed-spread runs" in text
    from types import SimpleNamespace

    assert "Your 2 seeds" in handler("a" * 32, None, SimpleNamespace(username="alice"))  # signed in: hers
