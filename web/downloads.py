"""One capped folder for files handed to visitors (run zips, prediction CSVs): old and excess files are pruned.

Every `new_file` call first prunes `settings.data_dir() / "downloads"`: entries older than the age limit go,
then the oldest go until the folder is under the size cap (web.limits: STUDIO_DOWNLOADS_SECONDS, STUDIO_DOWNLOADS_MB). Each file gets its own fresh sub-folder, so two
downloads with the same name never collide and the visitor still gets a readable file name. Gradio copies a
returned file into its own cache before serving it, so pruning ours later does not break a download; it only
accepts files from allowed folders, so the app must pass `allowed_paths=[str(downloads.folder())]` to launch()
(this folder only, never the whole data folder).
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from trainer_backend import settings
from web.limits import limits

GRACE_SECONDS = 60                     # the size cap never removes an entry this young (it may be being written)
FOLDER_NAME = "downloads"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder() -> Path:
    path = settings.data_dir() / FOLDER_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def _entry_stats(entry: Path) -> tuple[float, int]:
    """(newest modification time, total bytes) of a file or sub-folder; (0, 0) if it vanished meanwhile."""
    try:
        if entry.is_symlink() or entry.is_file():
            st = entry.lstat()
            return st.st_mtime, st.st_size
        newest, size = entry.lstat().st_mtime, 0
        for item in entry.rglob("*"):
            try:
                st = item.lstat()
            except OSError:
                continue
            newest = max(newest, st.st_mtime)
            if not item.is_dir():
                size += st.st_size
        return newest, size
    except OSError:
        return 0.0, 0


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def prune(now: float | None = None, max_age: float | None = None, max_bytes: int | None = None) -> list[Path]:
    """Remove entries older than max_age, then oldest-first beyond max_bytes; returns what was removed."""
    now = time.time() if now is None else now
    if max_age is None or max_bytes is None:  # STUDIO_DOWNLOADS_SECONDS / STUDIO_DOWNLOADS_MB when set
        lim = limits()
        max_age = lim.downloads_age_seconds if max_age is None else max_age
        max_bytes = lim.downloads_bytes if max_bytes is None else max_bytes
    entries = []
    for entry in folder().iterdir():
        mtime, size = _entry_stats(entry)
        entries.append((mtime, size, entry))
    entries.sort(key=lambda e: e[0])  # oldest first
    removed, kept = [], []
    for mtime, size, entry in entries:
        if now - mtime > max_age:
            _remove(entry)
            removed.append(entry)
        else:
            kept.append((mtime, size, entry))
    total = sum(size for _, size, _ in kept)
    for mtime, size, entry in kept:
        if total <= max_bytes:
            break
        if now - mtime < GRACE_SECONDS:
            continue
        _remove(entry)
        removed.append(entry)
        total -= size
    return removed


def safe_name(name: str) -> str:
    """A plain file name: only the last path component, letters, digits, '.', '_' and '-'."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = _SAFE.sub("-", base).strip("-.")
    return base[:120] or "download"


def new_file(name: str) -> Path:
    """A fresh, unique path `downloads/<random>/<name>` for a file to hand out; prunes the folder first.

    The file itself is not created: the caller writes it (and should delete its folder if writing fails).
    The sub-folder name carries 128 random bits, so a path cannot be guessed even if the folder is served
    (Gradio needs `launch(allowed_paths=[str(downloads.folder())])` to hand these files out).
    """
    prune()
    root = folder()
    while True:
        sub = root / f"dl-{secrets.token_hex(16)}"
        try:
            sub.mkdir(mode=0o700)
            break
        except FileExistsError:  # practically never
            continue
    return sub / safe_name(name)


def kept_file(key: str, name: str, write: Callable[[Path], None]) -> Path:
    """`downloads/k-<key>/<name>`, written by `write(path)` only when it is not there yet: a file that is the same
    for every visitor (the quiz's flashcard exports) is made once per `key` (a hash of what it holds) and then
    handed out again, in the same capped, pruned folder as every other download (made anew once pruned).
    Atomic under concurrency: written to a temporary name, then renamed."""
    prune()
    sub = folder() / f"k-{safe_name(key)}"
    path = sub / safe_name(name)
    if not path.exists():
        sub.mkdir(parents=True, exist_ok=True)
        partial = sub / f".{path.name}.{os.getpid()}.{threading.get_ident()}{path.suffix}"
        write(partial)
        os.replace(partial, path)
    return path
