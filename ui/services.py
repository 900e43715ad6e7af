"""The app's services (the job runner and its run store): built once in app.py, handed to the tabs in AppContext,
and passed to each handler that needs them as its first argument (`bound` fills it in for Gradio). No module global
holds them."""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from trainer_backend.runs.jobs import JobRunner
from trainer_backend.runs.store import RunStore


@dataclass(frozen=True)
class Services:
    runner: JobRunner

    @property
    def store(self) -> RunStore:
        return self.runner.store

    @classmethod
    def standalone(cls) -> Services:
        """For a tab run on its own (python -m ui.train_tab): its own job runner, started."""
        runner = JobRunner(RunStore())
        runner.start_background()
        return cls(runner)


def bound(fn: Callable[..., Any], services: Services) -> Callable[..., Any]:
    """`fn` with its first parameter (the services) filled in. The rest of its signature is kept, so Gradio still
    hands it the request, the profile and the token it asks for."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(services, *args, **kwargs)

    signature = inspect.signature(fn)
    call.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
    return call
