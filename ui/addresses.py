"""Where a request comes from: the client's network address, for quotas that a new visitor id does not reset."""
from __future__ import annotations

from typing import Any

from trainer_backend import settings


def client_address(request: Any) -> str | None:
    """The client's address: on a Space the first entry of X-Forwarded-For (the Space's proxy puts the visitor's
    address there; the connection itself comes from the proxy), elsewhere the connection's own peer address. A
    header is trusted only on a Space: locally any client could write one. None when the request tells neither."""
    if request is None:
        return None
    if settings.on_space():
        headers = getattr(request, "headers", None) or {}
        forwarded = str(headers.get("x-forwarded-for", "") or "").split(",")[0].strip()
        if forwarded:
            return forwarded[:100]
    host = getattr(getattr(request, "client", None), "host", None)
    return str(host) if host else None
