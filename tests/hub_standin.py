"""A fixture for unit tests: the recording stand-in Hub (tests/space/recording_hub.py) as huggingface_hub's endpoint,
with the Hub 'online' for both huggingface_hub and settings, and private Hub and datasets caches; and a cached repo
written in huggingface_hub's cache layout (what scan_cache_dir reads)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.space.recording_hub import RecordingHub


@pytest.fixture
def standin_hub(monkeypatch, tmp_path):
    """Yields a started RecordingHub that huggingface_hub and datasets use for this test only."""
    import datasets.config
    from huggingface_hub import constants

    from trainer_backend import settings

    with RecordingHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)  # read once at import time: patch the constants too
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        monkeypatch.setattr(settings, "offline_reason", lambda: None)
        yield hub


def cached_repo(cache: Path, repo_type: str, repo_id: str, size: int, used: float) -> Path:
    """One repo in a Hub cache folder as huggingface_hub lays it out (blobs, a snapshot of symlinks, refs/main),
    last used at `used`."""
    folder = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    sha = hashlib.sha1(repo_id.encode()).hexdigest()
    blob = folder / "blobs" / hashlib.sha256(repo_id.encode()).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"w" * size)
    snapshot = folder / "snapshots" / sha
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").symlink_to(os.path.relpath(blob, snapshot))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(sha)
    for path in (blob, snapshot / "model.safetensors", snapshot, folder):
        os.utime(path, (used, used), follow_symlinks=False)
    return folder
