"""Where the reader is: start section from a deep link or saved progress, visited set, labels, neighbours."""
from __future__ import annotations

from typing import Any

from lesson.sections import IDS, SECTIONS

QUERY_KEY = "section"


def normalize(progress: Any) -> dict:
    """A clean {'current', 'visited'} dict from whatever the browser stored (None, old shapes, junk)."""
    if not isinstance(progress, dict):
        progress = {}
    visited = [s for s in progress.get("visited") or [] if s in IDS] if isinstance(progress.get("visited"), list) else []
    current = progress.get("current") if progress.get("current") in IDS else None
    return {"current": current, "visited": list(dict.fromkeys(visited))}


def start_section(requested: str | None, progress: Any) -> str:
    """A valid deep link wins; else where the reader left off; else the first section."""
    if requested and requested.strip().lower() in IDS:
        return requested.strip().lower()
    return normalize(progress)["current"] or IDS[0]


def visit(progress: Any, section_id: str) -> dict:
    """Progress after opening `section_id`."""
    if section_id not in IDS:
        raise KeyError(f"Unknown section {section_id!r}")
    p = normalize(progress)
    visited = p["visited"] + ([section_id] if section_id not in p["visited"] else [])
    return {"current": section_id, "visited": visited}


def neighbours(section_id: str) -> tuple[str | None, str | None]:
    """(previous, next) section ids, None at either end."""
    i = IDS.index(section_id)
    return (IDS[i - 1] if i > 0 else None, IDS[i + 1] if i + 1 < len(IDS) else None)


def choices(progress: Any) -> list[tuple[str, str]]:
    """(label, id) for the sidebar: number, title, and a tick once visited."""
    visited = set(normalize(progress)["visited"])
    return [(f"{i}. {s.title}{' ✓' if s.id in visited else ''}", s.id) for i, s in enumerate(SECTIONS, 1)]


def progress_html(progress: Any) -> str:
    """A small progress bar: how many sections have been opened."""
    done, total = len(normalize(progress)["visited"]), len(IDS)
    share = done / total
    return (f"<div class='lesson-progress' data-done='{done}'><div class='lesson-progress-label'>"
            f"{done} of {total} sections read</div><div style='background:#e5e7eb;border-radius:6px;height:8px'>"
            f"<div style='width:{share:.0%};background:#4f46e5;height:8px;border-radius:6px'></div></div></div>")
