"""The bounds only the web server applies: uploads, prepared downloads, Gradio's queue and Lesson text. Set by
STUDIO_* variables (read through trainer_backend.settings, the one reader of the environment), safe defaults on a
Space (README: Security); the job runner's and training's bounds are settings.Limits."""
from __future__ import annotations

from dataclasses import dataclass

from trainer_backend.settings import env_number


@dataclass(frozen=True)
class WebLimits:
    upload_bytes: int              # one uploaded file (enforced by Gradio before anything is read)
    uploads_per_visitor: int       # files kept per visitor (oldest dropped)
    gradio_queue: int              # requests waiting in Gradio's queue
    lesson_chars: int              # characters per sentence in Lesson demos
    downloads_bytes: int           # zips and CSVs kept for download
    downloads_age_seconds: float   # how long a prepared download is kept
    uploads_per_address: int       # uploads from one client address per hour (0 = no cap)
    uploads_bytes: int             # all visitors' uploads together; oldest pruned beyond it
    upload_max_age_days: float     # uploads older than this are pruned (0 = never)


def limits() -> WebLimits:
    """The web server's bounds in force now (read from the environment each call; cheap)."""
    mb = 1024 * 1024
    return WebLimits(
        upload_bytes=int(env_number("STUDIO_UPLOAD_MB", 10, 50) * mb),
        uploads_per_visitor=int(env_number("STUDIO_UPLOADS_PER_VISITOR", 5, 100)),
        gradio_queue=int(env_number("STUDIO_GRADIO_QUEUE", 64, 256)),
        lesson_chars=int(env_number("STUDIO_LESSON_CHARS", 1000, 1000)),
        downloads_bytes=int(env_number("STUDIO_DOWNLOADS_MB", 500, 500) * mb),
        downloads_age_seconds=env_number("STUDIO_DOWNLOADS_SECONDS", 3600, 3600),
        uploads_per_address=int(env_number("STUDIO_UPLOADS_PER_ADDRESS", 20, 0)),
        uploads_bytes=int(env_number("STUDIO_UPLOADS_DISK_MB", 500, 5000) * mb),
        upload_max_age_days=env_number("STUDIO_UPLOAD_MAX_AGE_DAYS", 3, 0),
    )
