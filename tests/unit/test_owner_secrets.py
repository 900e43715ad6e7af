"""On a Space the web process runs without the owner's token: not in os.environ, not in /proc/<pid>/environ,
not in a token file a library could read. The entry point re-executes itself in a scrubbed environment."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWNER = "hf_OwnerTokenThatMustNotSurvive0123456"
SCRIPT = """
import os, sys
from trainer_backend import settings
pid = os.getpid()
settings.restart_without_owner_secrets()
import huggingface_hub
print("pid", pid)
print("token", huggingface_hub.get_token())
print("proc", open(f"/proc/{os.getpid()}/environ", "rb").read().count(sys.argv[1].encode()))
print("env", os.environ.get("HF_TOKEN"))
"""


def _run(tmp_path: Path, space: bool) -> dict[str, str]:
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text(OWNER)  # as `huggingface-cli login` would leave it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACE"))}
    env.update(HF_TOKEN=OWNER, HF_HOME=str(hf_home), STUDIO_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    if space:
        env["SPACE_ID"] = "owner/space"
    out = subprocess.run([sys.executable, "-c", SCRIPT, OWNER], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def test_on_a_space_the_process_restarts_without_the_owners_token(tmp_path):
    seen = _run(tmp_path, space=True)
    assert seen["token"] == "None" and seen["env"] == "None" and seen["proc"] == "0", seen


def test_locally_the_users_token_stays(tmp_path):
    seen = _run(tmp_path, space=False)
    assert seen["token"] == OWNER and seen["env"] == OWNER and seen["proc"] == "1", seen
