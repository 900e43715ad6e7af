"""The capped downloads folder: unique paths, pruning by age and by size (oldest first), safe names."""
from __future__ import annotations

import os
import re
import time

import pytest

from trainer_backend import settings
from web import downloads
from web.limits import limits as web_limits


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    return downloads.folder()


def _put(name: str, size: int, age: float) -> os.PathLike:
    path = downloads.new_file(name)
    path.write_bytes(b"x" * size)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    os.utime(path.parent, (stamp, stamp))
    return path


def test_new_file_is_unique_and_inside_the_data_folder(store):
    a, b = downloads.new_file("run-1.zip"), downloads.new_file("run-1.zip")
    assert a != b and a.name == b.name == "run-1.zip"
    assert store == settings.data_dir() / "downloads"
    for path in (a, b):
        assert path.parent.parent == store and not path.exists() and path.parent.is_dir()
        assert re.fullmatch(r"dl-[0-9a-f]{32}", path.parent.name)  # 128 random bits: not guessable
        assert path.parent.stat().st_mode & 0o077 == 0  # only this process's user can list it


def test_names_cannot_leave_the_folder(store):
    for name in ("../../etc/passwd", "/abs/x.zip", "a b<c>.csv", "", "..", "C:\\win\\f.zip"):
        path = downloads.new_file(name)
        assert path.parent.parent == store and path.name not in ("", ".", "..")
        assert "/" not in path.name and "\\" not in path.name and " " not in path.name
    assert downloads.new_file("../../etc/passwd").name == "passwd"


def test_old_downloads_are_pruned_by_age(store):
    old = _put("old.zip", 10, age=web_limits().downloads_age_seconds + 5)
    fresh = _put("fresh.zip", 10, age=10)
    downloads.new_file("next.zip")  # every call prunes
    assert not old.exists() and not old.parent.exists()
    assert fresh.exists()


def test_size_cap_removes_oldest_first(store, monkeypatch):
    monkeypatch.setenv("STUDIO_DOWNLOADS_MB", str((250 + 0.5) / 1048576))
    first = _put("first.zip", 100, age=900)
    second = _put("second.zip", 100, age=600)
    third = _put("third.zip", 100, age=300)
    assert first.exists() and second.exists() and third.exists()  # 300 bytes were fine until the next call
    downloads.new_file("fourth.zip")
    assert not first.exists() and second.exists() and third.exists()  # 200 <= 250: stops after the oldest


def test_size_cap_spares_a_file_still_being_written(store, monkeypatch):
    monkeypatch.setenv("STUDIO_DOWNLOADS_MB", str((50 + 0.5) / 1048576))
    old = _put("old.zip", 100, age=600)
    writing = _put("writing.zip", 100, age=1)  # this call already pruned the old one
    assert not old.exists() and not old.parent.exists()
    assert downloads.prune() == [] and writing.exists()  # still over the cap, but younger than GRACE_SECONDS
    stamp = time.time() - downloads.GRACE_SECONDS - 1
    os.utime(writing, (stamp, stamp))
    os.utime(writing.parent, (stamp, stamp))
    assert downloads.prune() == [writing.parent] and not writing.exists()


def test_prune_with_explicit_limits_and_empty_folder(store):
    assert downloads.prune() == []
    a = _put("a.csv", 10, age=100)
    assert downloads.prune(max_age=50) == [a.parent] and not a.exists()
