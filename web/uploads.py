"""Visitors' uploaded data files, all together: a byte budget and an age limit for the uploads/ folder (oldest
first, never a file an open run reads), and how many uploads one client address may make per hour."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Iterable

from trainer_backend import settings
from web.limits import limits

log = logging.getLogger("studio.uploads")
ADDRESSES_REMEMBERED = 10_000  # the meter forgets the least recently seen address beyond this many
WINDOW_SECONDS = 3600.0


def uploads_root() -> Path:
    """The folder that holds every visitor's upload folder (access.Visitor.upload_dir)."""
    return settings.data_dir() / "uploads"


def files_in_use(open_runs: Iterable) -> set[Path]:
    """The upload files that queued or running runs read (their config's dataset), resolved."""
    root = uploads_root().resolve()
    used = set()
    for run in open_runs:
        spec = str((getattr(run, "config", None) or {}).get("dataset") or "")
        if spec:
            path = Path(spec).resolve()
            if root in path.parents:
                used.add(path)
    return used


def prune_uploads(keep: Iterable[Path] = (), now: float | None = None) -> list[Path]:
    """Delete uploads older than STUDIO_UPLOAD_MAX_AGE_DAYS, then the oldest beyond STUDIO_UPLOADS_DISK_MB, and
    folders left empty; never a file in `keep` (files open runs read, the upload being saved). Returns the removed.

    Age is the file's modification time, which a visitor's re-upload of the same file refreshes. Hand-rolled (a
    glob and a sort) like JobRunner.prune: huggingface_hub's cache tools prune its own cache layout only."""
    lim = limits()
    now = now or time.time()
    root = uploads_root()
    keep = {Path(p).resolve() for p in keep}
    files = []
    for path in root.glob("*/*"):
        try:
            if path.is_file():
                st = path.stat()
                files.append((st.st_mtime, st.st_size, path))
        except OSError:
            continue
    files.sort()  # oldest first
    removed: list[Path] = []
    total = sum(size for _, size, _ in files)
    for mtime, size, path in files:
        too_old = lim.upload_max_age_days > 0 and now - mtime > lim.upload_max_age_days * 86400
        if not (too_old or total > lim.uploads_bytes) or path.resolve() in keep:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
        total -= size
    for folder in {p.parent for p in removed}:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    if removed:
        log.info("pruned %d upload(s), %d bytes left", len(removed), total)
    return removed


class UploadMeter:
    """Uploads per client address in the last hour, in memory (a restart forgets; uploads/ stays bounded by its
    budget anyway). Hand-rolled because it is a dozen lines over a deque; bounded to ADDRESSES_REMEMBERED."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, address: str | None, now: float | None = None) -> bool:
        """Count one upload from `address`; False (not counted) when it already made its hourly share."""
        per_hour = limits().uploads_per_address
        if not per_hour or not address or not settings.on_space():
            return True
        now = now or time.time()
        with self._lock:
            times = self._seen.pop(address, deque())
            while times and now - times[0] > WINDOW_SECONDS:
                times.popleft()
            allowed = len(times) < per_hour
            if allowed:
                times.append(now)
            self._seen[address] = times
            while len(self._seen) > ADDRESSES_REMEMBERED:
                self._seen.popitem(last=False)
        return allowed
