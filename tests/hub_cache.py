"""A repo written into a Hub cache folder in huggingface_hub's layout, as scan_cache_dir reads it (pruner tests)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


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
