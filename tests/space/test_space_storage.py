"""A Space with persistent storage (/data; here a stand-in folder named by STUDIO_PERSISTENT_DIR) keeps the run store,
checkpoints and the Hugging Face caches there, so a restart loses nothing; the app says which case it is in."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.space.harness import Visitor, launch_space, wait_for

pytestmark = pytest.mark.slow


def _app_environ(url: str) -> dict[bytes, bytes]:
    import psutil

    port = url.rstrip("/").rsplit(":", 1)[1]
    for proc in psutil.process_iter(["cmdline"]):
        if any("serve_space.py" in part for part in proc.info["cmdline"] or []):
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
            if f"STUDIO_TEST_PORT={port}".encode() in environ:
                return dict(item.split(b"=", 1) for item in environ.split(b"\0") if b"=" in item)
    raise AssertionError("the app's process was not found")


def test_runs_charts_and_checkpoints_survive_a_restart(tmp_path):
    persistent = tmp_path / "data"
    persistent.mkdir()
    env = dict(STUDIO_PERSISTENT_DIR=str(persistent), STUDIO_DATA_DIR=None, HF_HOME=None)
    with launch_space(tmp_path / "first", **env) as (url, *_):
        alice = Visitor(url)
        message, run_id = alice.start()
        assert run_id, message
        done = wait_for(alice, run_id)
        assert done["status"] == "completed", done
        assert _app_environ(url)[b"HF_HOME"] == str(persistent / ".huggingface").encode()
    run_folder = persistent / "finetune-studio" / "runs" / run_id
    assert (run_folder / "model.safetensors").is_file()  # the model stayed on the persistent disk
    with launch_space(tmp_path / "second", **env) as (url, *_):
        again = Visitor(url)
        again.id = alice.id  # the same browser comes back
        status = again.call("/run_status", run_id)
        assert status["status"] == "completed" and status["yours"] is True
        assert status["metric_rows"] == done["metric_rows"] and status["loss_points"] > 0  # the charts' points
        assert status["final_metrics"] == done["final_metrics"]


def test_the_train_tab_says_whether_runs_survive_a_restart(tmp_path, monkeypatch):
    from ui import train_handlers

    monkeypatch.setenv("SPACE_ID", "owner/space")
    monkeypatch.setenv("STUDIO_PERSISTENT_DIR", str(tmp_path / "missing"))
    assert "lost when it restarts" in train_handlers.storage_line() and "Push to Hub" in train_handlers.storage_line()
    monkeypatch.setenv("STUDIO_PERSISTENT_DIR", str(tmp_path))
    assert "persistent storage" in train_handlers.storage_line()
    monkeypatch.delenv("SPACE_ID")
    assert train_handlers.storage_line() == ""  # locally the data folder is the user's own disk
