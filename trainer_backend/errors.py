"""Errors that both processes raise and the web app shows (the training process imports this, never web/)."""
from __future__ import annotations


class AccessError(ValueError):
    """A name or action this visitor may not use (a refused name, a Hub repo too large); the message is safe to
    show as is."""


SNIPPET_CHARS = 40


class DataError(ValueError):
    """Data that cannot be used for training; the message names the problem."""


def snippet(value: object, limit: int = SNIPPET_CHARS) -> str:
    """A cell or column name as an error may quote it: at most `limit` characters, control characters escaped
    (repr), and how long it really was when cut. Markdown/HTML escaping stays with the UI that shows it."""
    text = str(value)
    shown = repr(text[:limit])
    return shown if len(text) <= limit else f"{shown}… ({len(text):,} characters)"
