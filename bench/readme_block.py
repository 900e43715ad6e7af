"""The one way benches write their figures into README: replace the text between a pair of markers."""
from __future__ import annotations

from pathlib import Path


def replace_block(readme: Path, begin: str, end: str, text: str) -> None:
    """Replace what lies between `begin` and `end`; each marker must be in the file exactly once."""
    content = readme.read_text(encoding="utf-8")
    if content.count(begin) != 1 or content.count(end) != 1:
        raise SystemExit(f"{readme} needs exactly one {begin} and one {end}")
    head, rest = content.split(begin)
    _, tail = rest.split(end)
    readme.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
