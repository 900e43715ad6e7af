"""The Train tab's upload handler: a visitor's data file into their own folder, within the per-visitor count, the
per-address hourly share and the uploads/ byte budget (moved out of ui/train_handlers.py, which passed 400 lines)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import gradio as gr

from trainer_backend.data import FILE_TYPES, FILE_TYPES_SHOWN
from trainer_backend.runs.store import ACTIVE
from trainer_backend.textsafe import md_escape
from ui.services import Services
from ui.train_handlers import _visitor
from web import access
from web.limits import limits
from web.uploads import UploadMeter, files_in_use, prune_uploads

_SERVICES: dict[str, UploadMeter] = {}


def meter() -> UploadMeter:
    """The app's one upload meter (made on first use: importing this module builds nothing)."""
    return _SERVICES.setdefault("meter", UploadMeter())


def _sha1_file(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def save_upload(svc: Services, file_path: str | None, browser_id: Any = None, request: gr.Request = None,
                profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
    """Keep an uploaded data file in this visitor's own upload folder; returns {"data": 'upload:<file>' (the data
    menu's new value; left out when nothing was kept), "message": what happened}.

    Gradio has already refused files above the upload limit (max_file_size) before this runs. Each visitor keeps
    at most `uploads_per_visitor` files (oldest dropped); one address makes at most `uploads_per_address` uploads
    an hour, whatever its visitor ids; all uploads together stay within `uploads_bytes` (oldest pruned, never a
    file an open run reads). The server path is never shown."""
    if not file_path:
        return {"message": ""}
    visitor = _visitor(browser_id, request, profile)
    src = Path(file_path)
    lim = limits()
    if src.stat().st_size > lim.upload_bytes:
        return {"message": f"❌ The file is larger than this app's {lim.upload_bytes / 1e6:.0f} MB upload limit."}
    if src.suffix.lower() not in FILE_TYPES:
        return {"message": f"❌ Upload a {FILE_TYPES_SHOWN} file."}
    if not meter().allow(visitor.address):
        return {"message": (f"❌ Your network address has made {lim.uploads_per_address} uploads in the last hour, "
                           "this app's limit per address whatever the visitor id; try again later.")}
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", src.stem)[:40].strip("-") or "data"
    name = f"{stem}-{_sha1_file(src)}{src.suffix.lower()}"
    folder = visitor.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    if not dest.exists():
        dest.write_bytes(src.read_bytes())
    dest.touch()
    kept = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[lim.uploads_per_visitor:]:
        old.unlink(missing_ok=True)
    prune_uploads(keep={dest, *files_in_use(svc.store.list(("queued", *ACTIVE), limit=1000))})
    return {"data": access.UPLOAD_PREFIX + name,
            "message": f"Uploaded **{md_escape(src.name)}**. Map its columns below if they are not "
                       "sentence1/sentence2/label."}
