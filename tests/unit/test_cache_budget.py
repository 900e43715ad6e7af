"""The cache pruner on real files: a Hub cache in huggingface_hub's layout (read back by scan_cache_dir), a datasets
cache and fast-path exports; least recently used first, never what is in use, nothing when the budget is 0."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.hub_cache import cached_repo as hub_repo
from trainer_backend import cache_budget
from trainer_backend.cache_budget import InUse

KB = 1024


def plain(path: Path, size: int, used: float) -> Path:
    path.mkdir(parents=True)
    (path / "data.bin").write_bytes(b"d" * size)
    os.utime(path / "data.bin", (used, used))
    os.utime(path, (used, used))
    return path


@pytest.fixture
def caches(tmp_path):
    now = time.time()
    hub, data, exports = tmp_path / "hub", tmp_path / "datasets", tmp_path / "fastpath"
    hub_repo(hub, "model", "alice/oldest", 100 * KB, now - 5000)
    hub_repo(hub, "model", "alice/loaded", 100 * KB, now - 4000)
    hub_repo(hub, "dataset", "nyu-mll/glue", 100 * KB, now - 3000)
    plain(data / "parquet" / "default-aaaa", 100 * KB, now - 2500)
    plain(exports / "digest-old", 100 * KB, now - 2000)
    plain(exports / "digest-serving", 100 * KB, now - 1000)
    return hub, data, exports, now


def names(locations, in_use: InUse | None = None) -> set[str]:
    return {f"{e.kind}:{e.name}" for e in cache_budget.all_entries(in_use or InUse(), locations)}


def test_all_three_caches_are_seen_with_their_sizes(caches):
    hub, data, exports, _ = caches
    entries = cache_budget.all_entries(InUse(), (hub, data, exports))
    assert {f"{e.kind}:{e.name}" for e in entries} == {
        "hub:model:alice/oldest", "hub:model:alice/loaded", "hub:dataset:nyu-mll/glue",
        "datasets:parquet/default-aaaa", "fastpath:digest-old", "fastpath:digest-serving"}
    assert all(e.size >= 100 * KB for e in entries)


def test_least_recently_used_go_first_until_under_budget_and_in_use_stays(caches):
    hub, data, exports, _ = caches
    in_use = InUse(frozenset({("model", "alice/loaded")}), frozenset({(exports / "digest-serving").resolve()}))
    removed = cache_budget.prune(350 * KB, in_use, (hub, data, exports))
    # 600 KB: the oldest unused go (alice/oldest, then glue, then the datasets cache entry) until 300 KB remain;
    # alice/loaded is older than glue but loaded by Predict, so it stays.
    assert removed == ["hub:model:alice/oldest", "hub:dataset:nyu-mll/glue", "datasets:parquet/default-aaaa"]
    assert names((hub, data, exports)) == {"hub:model:alice/loaded", "fastpath:digest-old",
                                           "fastpath:digest-serving"}
    assert not (hub / "models--alice--oldest").exists() and (hub / "models--alice--loaded" / "blobs").is_dir()


def test_what_is_in_use_is_kept_even_when_the_budget_cannot_be_met(caches):
    hub, data, exports, now = caches
    in_use = InUse(frozenset({("model", "alice/oldest"), ("model", "alice/loaded"), ("dataset", "nyu-mll/glue")}),
                   frozenset({(exports / "digest-old").resolve(), (exports / "digest-serving").resolve()}),
                   since=now - 10_000)  # a run is training: the datasets cache is its
    assert cache_budget.prune(1, in_use, (hub, data, exports)) == []
    assert len(names((hub, data, exports))) == 6


def test_a_running_job_keeps_what_it_touched_since_it_started(caches):
    hub, data, exports, now = caches
    removed = cache_budget.prune(1, InUse(since=now - 3500), (hub, data, exports))
    assert removed == ["hub:model:alice/oldest", "hub:model:alice/loaded", "fastpath:digest-old",
                       "fastpath:digest-serving"]
    assert names((hub, data, exports)) == {"hub:dataset:nyu-mll/glue", "datasets:parquet/default-aaaa"}


def test_a_zero_budget_never_prunes(caches):
    hub, data, exports, _ = caches
    assert cache_budget.prune(0, InUse(), (hub, data, exports)) == []
    assert len(names((hub, data, exports))) == 6


def test_missing_caches_are_empty(tmp_path):
    assert cache_budget.all_entries(InUse(), (tmp_path / "a", tmp_path / "b", tmp_path / "c")) == []


def test_runs_protect_the_repos_their_configs_name():
    from trainer_backend import settings

    named = cache_budget.repos_named({"model_name_or_path": "auto", "dataset": "glue/mrpc"})
    assert ("model", settings.ONLINE_DEFAULT_MODEL) in named and ("dataset", "nyu-mll/glue") in named
    assert cache_budget.repos_named({"model_name_or_path": "alice/m", "dataset": "hub:bob/pairs"}) == {
        ("model", "alice/m"), ("dataset", "bob/pairs")}
    assert cache_budget.repos_named({"model_name_or_path": "/runs/x", "dataset": "sample"}) == set()
    in_use = cache_budget.in_use_by_runs([{"model_name_or_path": "alice/m"}], [50.0, 20.0])
    assert in_use.since == 20.0 and ("model", "alice/m") in in_use.repos


def test_the_job_runner_prunes_the_caches_with_what_predict_has_loaded(caches, monkeypatch, tmp_path):
    from trainer_backend.runs.jobs import JobRunner
    from trainer_backend.runs.store import RunStore

    hub, data, exports, _ = caches
    monkeypatch.setattr(cache_budget, "cache_locations", lambda: (hub, data, exports))
    monkeypatch.setenv("STUDIO_HF_CACHE_MB", str(350 * KB / 2**20))
    runner = JobRunner(RunStore(tmp_path / "runs.sqlite"), autostart=False)
    runner.cache_in_use = lambda: InUse(frozenset({("model", "alice/oldest")}))
    runner.prune()
    left = names((hub, data, exports))
    assert "hub:model:alice/oldest" in left and "hub:model:alice/loaded" not in left


def test_predicts_cache_reports_its_hub_models_and_export_folders(tmp_path):
    """ModelCache.in_use: what a loaded predictor reads (its Hub repo, its fast-path folders for single pairs and
    batches), so the pruner never deletes it."""
    from types import SimpleNamespace

    from trainer_backend.serving.cache import ModelCache
    from trainer_backend.serving.models import ModelRef

    single, batch = tmp_path / "fastpath" / "a" / "model.onnx", tmp_path / "fastpath" / "b" / "int8.onnx"
    loaded = SimpleNamespace(loaded_from="Hub: alice/paraphrase", memory_bytes=1, fast=SimpleNamespace(path=single),
                             serving=SimpleNamespace(batch_backend=SimpleNamespace(path=batch)))
    local = SimpleNamespace(loaded_from=str(tmp_path / "run"), memory_bytes=1, fast=None, serving=None)
    cache = ModelCache(10**9, 4)
    cache.get(ModelRef("alice/paraphrase", "t", "chosen"), loader=lambda ref, progress: loaded)
    cache.get(ModelRef(str(tmp_path / "run"), "t", "run"), loader=lambda ref, progress: local)
    in_use = cache.in_use()
    assert in_use.repos == {("model", "alice/paraphrase")}
    assert in_use.paths == {single.parent.resolve(), batch.parent.resolve()}
