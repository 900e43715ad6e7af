"""uploads/ as a whole: the byte budget and the age limit (oldest first, never a file an open run reads), and the
per-address hourly share of uploads that a new visitor id does not reset."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from web.uploads import UploadMeter, files_in_use, prune_uploads, uploads_root


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return tmp_path


def _upload(folder: str, name: str, size: int, age_days: float) -> object:
    path = uploads_root() / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - age_days * 86400
    os.utime(path, (then, then))
    return path


def test_the_budget_removes_the_oldest_first_but_never_a_file_an_open_run_reads(data, monkeypatch):
    monkeypatch.setenv("STUDIO_UPLOADS_DISK_MB", str(2500 / 1024 / 1024))  # 2,500 bytes
    oldest = _upload("a", "oldest.csv", 1000, 3)
    in_use = _upload("b", "in-use.csv", 1000, 2)
    older = _upload("a", "older.csv", 1000, 1)
    newest = _upload("c", "newest.csv", 1000, 0)
    run = SimpleNamespace(config={"dataset": str(in_use)})
    removed = prune_uploads(keep=files_in_use([run, SimpleNamespace(config={"dataset": "glue/mrpc"})]))
    assert removed == [oldest, older]  # 4,000 bytes -> 2,000: the in-use file is passed over
    assert in_use.exists() and newest.exists()
    assert not (uploads_root() / "a").exists()  # a visitor folder left empty goes too


def test_the_age_limit_applies_on_a_space_and_not_locally(data, monkeypatch):
    old = _upload("a", "old.csv", 10, 10)
    fresh = _upload("a", "fresh.csv", 10, 0)
    assert prune_uploads() == []  # locally: no age limit, a 5 GB budget
    monkeypatch.setenv("SPACE_ID", "o/s")
    assert prune_uploads() == [old] and fresh.exists()  # the Space default: 3 days


def test_files_in_use_are_only_uploads(data, tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    inside = uploads_root() / "v" / "mine.csv"
    runs = [SimpleNamespace(config={"dataset": str(elsewhere)}), SimpleNamespace(config={"dataset": str(inside)}),
            SimpleNamespace(config={})]
    assert files_in_use(runs) == {inside.resolve()}


def test_one_address_gets_its_hourly_share_whatever_its_visitor_ids(data, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "o/s")
    monkeypatch.setenv("STUDIO_UPLOADS_PER_ADDRESS", "2")
    meter = UploadMeter()
    now = 1_000_000.0
    assert meter.allow("addr:1", now) and meter.allow("addr:1", now + 1)
    assert not meter.allow("addr:1", now + 2)  # a third, from any visitor id at that address
    assert meter.allow("addr:2", now + 2)  # another address is not held back
    assert meter.allow("addr:1", now + 3601)  # an hour after the first, one more
    monkeypatch.delenv("SPACE_ID")
    assert all(UploadMeter().allow("addr:1", now) for _ in range(5))  # locally: no limit
