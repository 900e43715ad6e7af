"""Renders the real source of trainer_backend functions so the lesson shows exactly what the app runs."""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SourceError(LookupError):
    """A code excerpt whose markers are no longer in the backend source (the lesson would drift)."""


@dataclass(frozen=True)
class CodeRef:
    """A whole function, or the lines of one from `start` to `end` (substrings, both lines included)."""

    target: Callable
    start: str | None = None
    end: str | None = None
    note: str = ""

    def render(self) -> "Snippet":
        return render(self)


@dataclass(frozen=True)
class Snippet:
    """Source text plus where it lives."""

    code: str
    path: str
    first_line: int
    last_line: int
    name: str
    note: str = ""

    def caption(self) -> str:
        span = f"line {self.first_line}" if self.first_line == self.last_line else \
            f"lines {self.first_line}–{self.last_line}"
        return f"`{self.path}` · `{self.name}` · {span}"

    def markdown(self) -> str:
        """A caption and a fenced Python block."""
        note = f" — {self.note}" if self.note else ""
        return f"{self.caption()}{note}\n\n```python\n{self.code}\n```"


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return Path(path).name


def render(ref: CodeRef) -> Snippet:
    """The current source of `ref.target` (or the excerpt between its markers), dedented."""
    target = inspect.unwrap(ref.target)
    lines, first = inspect.getsourcelines(target)
    begin, stop = 0, len(lines) - 1
    if ref.start is not None:
        begin = _find(lines, ref.start, 0, ref)
    if ref.end is not None:
        stop = _find(lines, ref.end, begin, ref)
    code = textwrap.dedent("".join(lines[begin:stop + 1])).rstrip()
    name = getattr(target, "__qualname__", getattr(target, "__name__", "?"))
    path = _relative(inspect.getsourcefile(target) or "?")
    return Snippet(code, path, first + begin, first + stop, name, ref.note)


def _find(lines: list[str], marker: str, after: int, ref: CodeRef) -> int:
    for i in range(after, len(lines)):
        if marker in lines[i]:
            return i
    name = getattr(ref.target, "__qualname__", ref.target)
    raise SourceError(f"{marker!r} is no longer in the source of {name}; update the lesson's code reference.")
