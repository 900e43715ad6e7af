"""The app's bounded cache of loaded predictors (least recently used out), shared by every visitor."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from trainer_backend import settings
from trainer_backend.cache_budget import InUse
from trainer_backend.runs.store import RunStore
from trainer_backend.serving.models import WEIGHT_FILES, ModelRef, default_model, resolve_choice
from trainer_backend.serving.predictor import Predictor, Progress, load_for_serving, read_task
from trainer_backend.tasks import TaskSpec
from web.access import Visitor


class ModelCache:
    """Least-recently-used predictors, bounded by total parameter memory and by count; thread-safe."""

    def __init__(self, max_bytes: int, max_models: int = 4) -> None:
        self.max_bytes, self.max_models = max_bytes, max_models
        self._items: OrderedDict[str, Predictor] = OrderedDict()
        self._lock = threading.RLock()
        self._load_lock = threading.Lock()  # one load at a time: two visitors asking for one model load it once

    @staticmethod
    def key(ref: ModelRef) -> str:
        """Folders are keyed by path and weights timestamp, so a retrained run is reloaded."""
        folder = Path(ref.spec).expanduser()
        weights = [folder / n for n in WEIGHT_FILES if (folder / n).is_file()] if folder.is_dir() else []
        return f"{folder.resolve()}@{weights[0].stat().st_mtime_ns}" if weights else ref.spec

    def get(self, ref: ModelRef, progress: Progress | None = None,
            loader: Callable[[ModelRef, Progress | None], Predictor] = load_for_serving) -> Predictor:
        """The cached predictor for ref, loading it when absent and evicting the least recently used."""
        key = self.key(ref)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        with self._load_lock:
            with self._lock:
                hit = self._items.get(key)
            if hit is None:
                hit = loader(ref, progress)
                with self._lock:
                    self._items[key] = hit
                    while len(self._items) > 1 and (len(self._items) > self.max_models
                                                    or self.used_bytes() > self.max_bytes):
                        self._items.popitem(last=False)
            return hit

    def peek(self, ref: ModelRef) -> Predictor | None:
        """The loaded predictor for ref, or None; loads nothing and leaves the order as it is."""
        with self._lock:
            return self._items.get(self.key(ref))

    def used_bytes(self) -> int:
        return sum(p.memory_bytes for p in self._items.values())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def in_use(self) -> InUse:
        """What the loaded predictors read from disk, for the cache pruner: their Hub repos and fast-path folders."""
        with self._lock:
            loaded = list(self._items.values())
        repos, paths = set(), set()
        for predictor in loaded:
            if predictor.loaded_from.startswith("Hub: "):
                repos.add(("model", predictor.loaded_from[5:]))
            batch = getattr(predictor.serving, "batch_backend", None)
            for backend in (predictor.fast, batch):
                path = getattr(backend, "path", None)
                if path is not None:
                    paths.add(Path(path).resolve().parent)
        return InUse(frozenset(repos), frozenset(paths))


_CACHES: dict[str, ModelCache] = {}


def cache() -> ModelCache:
    """The process's model cache, sized from settings on first use (nothing is built at import)."""
    if "cache" not in _CACHES:
        ps = settings.predict_settings()
        _CACHES["cache"] = ModelCache(ps.cache_bytes, ps.cache_models)
    return _CACHES["cache"]


def in_use() -> InUse:
    """What the process's model cache keeps loaded (cache_budget.InUse); app.py hands it to the job runner."""
    return cache().in_use()


def warm_default() -> None:
    """Load the default model into the cache, so the first visitor does not wait for it (app.launch runs this in
    a background thread when PREDICT_WARM allows; a failure is reported when someone actually asks)."""
    import logging


    try:
        if default_model() is not None:
            get_predictor(None)
    except Exception:  # noqa: BLE001 - a failed warm-up is reported when someone actually asks
        logging.getLogger("studio.predict").info("default model not preloaded", exc_info=True)


def get_predictor(value: str | None = None, progress: Progress | None = None,
                  store: RunStore | None = None, viewer: Visitor | None = None) -> Predictor:
    """The predictor for a dropdown value (empty: the default model), from the shared cache; viewer: who asks
    (on a Space only their own runs resolve; see models.resolve_choice)."""
    return cache().get(resolve_choice(value, store, viewer), progress)


def task_for(value: str | None = None, store: RunStore | None = None, viewer: Visitor | None = None) -> TaskSpec | None:
    """The task of the model a dropdown value names (same access rules as get_predictor): from the loaded predictor
    when it is cached, else from its config.json alone; None when that cannot be read (raises InferenceError when
    the value names nothing this viewer may use)."""
    ref = resolve_choice(value, store, viewer)
    loaded = cache().peek(ref)
    return loaded.task if loaded is not None else read_task(ref)
