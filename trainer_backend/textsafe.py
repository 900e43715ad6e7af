"""Escaping, in one place: for text we did not write (checkpoint weight names, data and file names, run settings,
a learner's answer) and for our own text with `code` spans turned into HTML (flashcards, Anki fields).

No gradio import: the model card (written by the training process), the quiz and the UI use the same functions.
"""
from __future__ import annotations

import html
import re

# Backslash-escaped everywhere: emphasis, code, links/images, headings, tables, strikethrough, math ($).
_MD_SPECIAL = set("\\`*_{}[]()#+|~!$")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Only special at the start of a line: list items, setext underlines, ordered lists ("1." / "1)").
_LINE_START = re.compile(r"^(\s*)(?:([-=])|(\d{1,9})([.)])(?=\s|$))")


def md_escape(text: object) -> str:
    """`text` made inert for Markdown and HTML: shows literally, one line, never markup.

    Markdown specials get a backslash, `& < >` become entities (so `<script>` cannot become a tag), line
    breaks and other control characters become one space (a value can never start a new heading, list
    item or table row), and a leading `-`, `=` or `1. ` is escaped so it cannot start a list. Meant for
    inline text, a table cell or a list item; not for inside a code span or code block (escapes would show).
    """
    flat = _CONTROL.sub(" ", "" if text is None else str(text))
    out = []
    for ch in flat:
        if ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    escaped = "".join(out)
    match = _LINE_START.match(escaped)
    if match:
        lead, mark, digits, dot = match.groups()
        fixed = f"{lead}\\{mark}" if mark else f"{lead}{digits}\\{dot}"
        escaped = fixed + escaped[match.end():]
    return escaped


def md_escape_lines(text: object) -> str:
    """Like md_escape, line by line, with the line breaks kept (Markdown hard breaks): a multi-line message such
    as a list of problems stays readable and every line stays inert."""
    lines = ("" if text is None else str(text)).splitlines() or [""]
    return "  \n".join(md_escape(line) for line in lines)


def code_html(text: str) -> str:
    """`text` escaped for HTML, its `code` spans turned into <code> elements (flashcards on the page, in print and
    in Anki)."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))
