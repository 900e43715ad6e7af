"""Errors that both processes raise and the web app shows (the training process imports this, never web/)."""
from __future__ import annotations


class AccessError(ValueError):
    """A name or action this visitor may not use (a refused name, a Hub repo too large); the message is safe to
    show as is."""
