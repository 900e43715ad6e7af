"""Starts the real app the way a Space does (SPACE_ID and OAuth variables set by the caller) on a given port."""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

if __name__ == "__main__":
    from trainer_backend import settings

    settings.restart_without_owner_secrets()  # as app.py's entry point does
    import app

    demo = app.build_app()
    app.launch(demo, server_port=int(os.environ["STUDIO_TEST_PORT"]), quiet=True)
