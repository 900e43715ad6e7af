"""The Space harness shared by tests/space/: the real app launched as a public Space (SPACE_ID, the owner's HF_TOKEN,
OAuth variables, HF_ENDPOINT on a recording stand-in for the Hub) and gradio_client visitors that drive it.

Each test module that launches a Space lists its hostile inputs in HOSTILE; scripts/security_table.py numbers
the rows of every tests/space/test_space_*.py module in file order to print the README's Security table."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from tests.helpers import free_port, wait_until_serving
from tests.space.recording_hub import RecordingHub

ROOT = Path(__file__).resolve().parents[2]
OWNER_TOKEN = "hf_OwnerSecretTokenDoNotLeak0123456789"
OAUTH_SECRET = "oauth-client-secret-do-not-leak"
REFUSED = "That name is not offered here"
SIGN_IN = "sign in"
NOT_YOURS = "belongs to another visitor"
NOT_USABLE = "has no saved model you can use"
TRAIN = dict(model_name_or_path="packaged", dataset="sample", num_train_epochs=1, max_steps=4, learning_rate=5e-5,
             per_device_train_batch_size=8, eval_strategy="no", logging_steps=1, precision="fp32", max_length=64,
             max_train_samples=32, max_eval_samples=16)

VISITOR_TOKEN = "hf_CarolVisitorOAuthToken0123456789"


@contextlib.contextmanager
def launch_space(data_dir: Path, **extra_env: str | None) -> Iterator[tuple[str, RecordingHub, Path, Path]]:
    """The app as a Space, in its own process; yields (url, hub, data_dir, log_path). extra_env overrides or adds
    variables (e.g. STUDIO_RUN_SECONDS) for a module that needs other limits; None leaves one out."""
    log_path = data_dir.parent / f"{data_dir.name}-app.log"
    with RecordingHub() as hub:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACE", "OAUTH", "STUDIO_"))}
        env.update(SYSTEM="spaces", SPACE_ID="tester/finetune-studio", SPACE_HOST="localhost", HF_TOKEN=OWNER_TOKEN,
                   HF_ENDPOINT=hub.url, OAUTH_CLIENT_ID="client-id", OAUTH_CLIENT_SECRET=OAUTH_SECRET,
                   OAUTH_SCOPES="openid profile write-repos", OPENID_PROVIDER_URL=hub.url,
                   STUDIO_DATA_DIR=str(data_dir), STUDIO_TEST_PORT=str(port), STUDIO_UPLOAD_MB="1",
                   STUDIO_MRPC_DIR="", PREDICT_WARM="0", GRADIO_ANALYTICS_ENABLED="False",
                   TOKENIZERS_PARALLELISM="false", HF_HOME=str(data_dir / "hf-home"))
        env.update({k: v for k, v in extra_env.items() if v is not None})
        for name in [k for k, v in extra_env.items() if v is None]:  # None: leave the variable out
            env.pop(name, None)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "space" / "serve_space.py")], cwd=ROOT,
                                    env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        if not wait_until_serving(url, proc, timeout=180):
            proc.kill()
            raise AssertionError("the app did not start as a Space:\n" + log_path.read_text()[-3000:])
        try:
            yield url, hub, data_dir, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def signed_in_cookie(username: str, token: str) -> str:
    """The session cookie Gradio's OAuth callback would set after a Hugging Face sign-in (signed with the
    Space's OAuth secret, as starlette's SessionMiddleware does); it stands in for the Hub's OAuth pages."""
    import base64
    import hashlib

    import itsdangerous

    info = {"oauth_info": {"access_token": token, "scope": "openid profile write-repos", "token_type": "bearer",
                           "expires_at": int(time.time()) + 3600,
                           "userinfo": {"preferred_username": username, "name": username, "picture": "",
                                        "profile": f"https://huggingface.co/{username}"}}}
    secret = hashlib.sha256((OAUTH_SECRET + "-v4").encode()).hexdigest()
    data = base64.b64encode(json.dumps(info).encode())
    return itsdangerous.TimestampSigner(secret).sign(data).decode()


class Visitor:
    """One browser: a gradio_client plus the random id its BrowserState would hold (and a sign-in cookie)."""

    def __init__(self, url: str, cookie: str | None = None) -> None:
        from gradio_client import Client

        headers = {"Cookie": f"session={cookie}"} if cookie else None
        self.client = Client(url, verbose=False, headers=headers)
        self.id = secrets.token_urlsafe(18)
        self.seen: list[str] = []

    def call(self, api: str, *args):
        result = self.client.predict(*args, self.id, api_name=api)
        self.seen.append(json.dumps(result, default=str))
        return result

    def plain(self, api: str, *args):
        """Endpoints without a visitor id (Lesson, Predict)."""
        from gradio_client.exceptions import AppError

        try:
            result = self.client.predict(*args, api_name=api)
        except AppError as err:
            result = str(err)
        self.seen.append(json.dumps(result, default=str))
        return result

    def call_or_error(self, api: str, *args):
        """call, with a refusal (gr.Error) returned as its text."""
        from gradio_client.exceptions import AppError

        try:
            return self.call(api, *args)
        except AppError as err:
            self.seen.append(str(err))
            return str(err)

    def start(self, seeds="1", preset="Quick look", **changes):
        return self.call("/start_training", {**TRAIN, **changes}, seeds, preset)


def wait_for(visitor, run_id, until=("completed", "failed", "stopped", "interrupted", "cancelled"), timeout=300):
    deadline = time.time() + timeout
    status = {}
    while time.time() < deadline:
        status = visitor.call("/run_status", run_id)
        if status["status"] in until:
            return status
        time.sleep(1)
    raise AssertionError(f"run {run_id} did not reach {until}: {status}")
