"""Keeps the Hugging Face model/dataset caches and Predict's fast-path exports under one disk budget, LRU first."""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trainer_backend import settings
from trainer_backend.hub_data import GLUE_REPO, repo_and_folder

log = logging.getLogger("studio.disk")


@dataclass(frozen=True)
class InUse:
    """What the pruner must not delete: Hub repos by (repo_type, repo_id), folders (fast-path exports), and, while a
    run is training (`since` = when the earliest open run started), everything in the datasets cache and every Hub
    repo used since then."""

    repos: frozenset[tuple[str, str]] = frozenset()
    paths: frozenset[Path] = frozenset()
    since: float | None = None

    def __or__(self, other: InUse) -> InUse:
        since = [s for s in (self.since, other.since) if s is not None]
        return InUse(self.repos | other.repos, self.paths | other.paths, min(since) if since else None)


@dataclass
class Entry:
    """One thing the pruner may delete as a whole, with its size and when it was last used."""

    kind: str              # "hub", "datasets" or "fastpath"
    name: str
    size: int
    last_used: float
    kept: bool
    remove: Callable[[], None] = field(repr=False)


def _tree(path: Path) -> tuple[int, float]:
    """(bytes, newest use) of a file or folder; symlinks are not followed. A file's use is its newest access or
    change; a folder's only its change, since listing it (as this scan does) updates its access time."""
    size, newest = 0, 0.0
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        try:
            stat = item.lstat()
        except OSError:
            continue
        if item.is_file() and not item.is_symlink():
            size += stat.st_size
            newest = max(newest, stat.st_mtime, stat.st_atime)
        else:
            newest = max(newest, stat.st_mtime)
    return size, newest


def hub_entries(hub_cache: Path, in_use: InUse) -> list[Entry]:
    """Each cached Hub repo (models and datasets), read with huggingface_hub's scan_cache_dir."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(hub_cache)
    except CacheNotFound:
        return []
    out = []
    for repo in info.repos:
        last = max(repo.last_accessed, repo.last_modified)
        kept = (repo.repo_type, repo.repo_id) in in_use.repos or (in_use.since is not None and last >= in_use.since)
        hashes = [r.commit_hash for r in repo.revisions]
        out.append(Entry("hub", f"{repo.repo_type}:{repo.repo_id}", repo.size_on_disk, last, kept,
                         lambda hashes=hashes: info.delete_revisions(*hashes).execute()))
    return out


def folder_entries(root: Path, kind: str, depth: int, in_use: InUse, keep_all: bool = False) -> list[Entry]:
    """Each folder or file `depth` levels under root (datasets cache: <builder>/<config>; exports: <digest>).

    Hand-rolled: datasets has no cache manager of its own (only per-dataset cleanup_cache_files)."""
    if not root.is_dir():
        return []
    level = [root]
    for _ in range(depth):
        level = [child for parent in level if parent.is_dir() and not parent.is_symlink()
                 for child in parent.iterdir() if not child.name.endswith(".lock")]
    out = []
    for path in level:
        size, last = _tree(path)
        kept = keep_all or path.resolve() in in_use.paths
        remover = (lambda p=path: shutil.rmtree(p, ignore_errors=True)) if path.is_dir() else \
            (lambda p=path: p.unlink(missing_ok=True))
        out.append(Entry(kind, str(path.relative_to(root)), size, last, kept, remover))
    return out


def cache_locations() -> tuple[Path, Path, Path]:
    """(Hub cache, datasets cache, fast-path exports) as the libraries and this app place them."""
    import datasets.config
    from huggingface_hub import constants

    return (Path(constants.HF_HUB_CACHE), Path(datasets.config.HF_DATASETS_CACHE),
            settings.data_dir() / "fastpath")


def all_entries(in_use: InUse, locations: tuple[Path, Path, Path] | None = None) -> list[Entry]:
    """Everything the budget covers, with what is in use marked kept."""
    hub, data, exports = locations or cache_locations()
    return (hub_entries(hub, in_use) + folder_entries(data, "datasets", 2, in_use, keep_all=in_use.since is not None)
            + folder_entries(exports, "fastpath", 1, in_use))


def prune(budget_bytes: int, in_use: InUse = InUse(), locations: tuple[Path, Path, Path] | None = None) -> list[str]:
    """Delete least recently used entries until the caches fit `budget_bytes` (0: never prune); what is in use is
    never deleted, even when the rest cannot make room. Returns the names removed."""
    if budget_bytes <= 0:
        return []
    entries = all_entries(in_use, locations)
    total = sum(e.size for e in entries)
    removed = []
    for entry in sorted((e for e in entries if not e.kept), key=lambda e: e.last_used):
        if total <= budget_bytes:
            break
        try:
            entry.remove()
        except OSError:
            log.warning("could not remove %s", entry.name, exc_info=True)
            continue
        total -= entry.size
        removed.append(f"{entry.kind}:{entry.name}")
    if removed:
        log.info("cache budget: removed %s", ", ".join(removed))
    return removed


def repos_named(config: dict) -> set[tuple[str, str]]:
    """The Hub repos a run's config may read (its model and data; 'auto' stands for the online defaults)."""
    repos: set[tuple[str, str]] = set()
    model = str(config.get("model_name_or_path") or "auto")
    if model == "auto":
        repos |= {("model", settings.ONLINE_DEFAULT_MODEL), ("model", settings.ONLINE_CPU_MODEL)}
    elif not model.startswith(("/", ".", "~")) and model != "packaged":
        repos.add(("model", model))
    data = str(config.get("dataset") or "auto")
    if data == "auto" or data.startswith("glue/"):
        repos.add(("dataset", GLUE_REPO))
    elif data.startswith("hub:"):
        repos.add(("dataset", repo_and_folder(data[4:])[0]))
    return repos


def in_use_by_runs(configs: Iterable[dict], started: Iterable[float]) -> InUse:
    """What open runs may be reading: the repos their configs name, and everything touched since they began."""
    repos = frozenset(r for config in configs for r in repos_named(config))
    since = min(started, default=None)
    return InUse(repos, frozenset(), since)
