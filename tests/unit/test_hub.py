"""Hub push: repo names, availability, whose token, the upload folder and its card, offline failures, token
hygiene, and zips built from the allow-list only.

The token tests run the real HfApi against a small recording HTTP server on 127.0.0.1 standing in for the
Hub (no machine here can reach the real one): what matters is which Authorization header each request carried.
"""
from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from trainer_backend import settings
from trainer_backend.publish import hub
from trainer_backend.publish.hub import HubError
from web import downloads

pytest_plugins = ["tests.predict_fixtures"]  # one CLI-trained checkpoint for the whole session

TOKEN = "hf_TestTokenThatMustNeverShow123"
OWNER_TOKEN = "hf_OwnerSecretOfTheSpace0123456789"
VISITOR_TOKEN = "hf_oauth_VisitorOwnSignIn987654321"
# huggingface_hub fetches its agent-harness list once a day for its user-agent, without any token; the fake
# Hub refuses it (403) so nothing is cached into HF_HOME.
LIBRARY_OWN_REQUESTS = {"/api/agent-harnesses"}


class _Recorder(BaseHTTPRequestHandler):
    """Answers like a tiny Hub: whoami, create_repo, validate-yaml, then refuses the upload itself (403)."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "auth": self.headers.get("Authorization"),
                                     "headers": str(self.headers), "body": body})
        if self.path.startswith("/api/whoami"):
            self._answer(200, {"name": "visitor", "type": "user", "fullname": "A Visitor",
                               "auth": {"accessToken": {"role": "write"}}})
        elif self.path.startswith("/api/repos/create"):
            repo = json.loads(body or b"{}")
            endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
            self._answer(200, {"url": f"{endpoint}/{repo.get('organization') or 'visitor'}/{repo.get('name')}",
                               "name": repo.get("name")})
        elif self.path.startswith("/api/validate-yaml"):  # upload_folder checks the card's metadata first
            self._answer(200, {"errors": [], "warnings": []})
        else:
            self._answer(403, {"error": "recording server: this fake Hub accepts no uploads"})

    do_GET = do_POST = do_PUT = do_HEAD = _handle


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.requests: list[dict] = []
        self.connections = 0

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1  # counts even a bare TCP connect (e.g. a reachability check)
        return True


@pytest.fixture()
def fake_hub(monkeypatch):
    """The recording server as HF_ENDPOINT, with the Hub 'online' for both huggingface_hub and settings."""
    from huggingface_hub import constants

    server = _RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(constants, "ENDPOINT", url)  # read once at import time: patch the constant too
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    reachable = getattr(settings, "_hub_reachable", None)
    if hasattr(reachable, "cache_clear"):
        reachable.cache_clear()
    yield server
    server.shutdown()
    server.server_close()
    if hasattr(reachable, "cache_clear"):
        reachable.cache_clear()


def test_default_repo_ids():
    assert hub.default_repo_id("ana", "bert-base-uncased") == "ana/bert-base-uncased-finetuned-mrpc"
    assert hub.default_repo_id("ana", "google/bert_uncased_L-4_H-256_A-4") == \
        "ana/bert_uncased_L-4_H-256_A-4-finetuned-mrpc"
    assert hub.default_repo_id("ana", settings.PACKAGED_MODEL_NAME) == "ana/all-MiniLM-L6-v2-finetuned-mrpc"
    assert hub.default_repo_id(None, "/tmp/x y/Tiny BERT!") == "Tiny-BERT-finetuned-mrpc"


def test_push_availability_says_why(monkeypatch):
    ok, why = hub.push_availability(TOKEN)
    assert not ok and "HF_HUB_OFFLINE=1" in why and "zip" in why and TOKEN not in why
    monkeypatch.setattr(settings, "offline_reason", lambda: None)
    ok, why = hub.push_availability(None)
    assert not ok and "HF_TOKEN" in why
    assert hub.push_availability(TOKEN)[0]


def test_on_a_space_without_sign_in_availability_asks_to_sign_in_without_any_network(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    monkeypatch.setenv("HF_TOKEN", OWNER_TOKEN)

    def no_network():
        raise AssertionError("the Hub reachability check ran for a visitor who is not signed in")

    monkeypatch.setattr(settings, "offline_reason", no_network)
    for token in (None, ""):
        ok, why = hub.push_availability(hub.visitor_token(token))
        assert not ok and "sign in with Hugging Face first" in why and OWNER_TOKEN not in why


def test_a_visitor_never_gets_the_space_owners_token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert hub.visitor_token(None) == TOKEN  # local use: HF_TOKEN is the user's own
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    assert hub.visitor_token(None) is None
    assert hub.visitor_token("visitor-oauth") == "visitor-oauth"


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_upload_folder_holds_model_tokenizer_labels_and_card(tiny_checkpoint):
    import yaml
    from PIL import Image

    stage = hub.build_upload_folder(tiny_checkpoint, "ana/tiny-finetuned-mrpc")
    names = {p.name for p in stage.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "README.md",
            "loss_curve.png", "studio_run.json"} <= names
    assert "training_args.bin" not in names and not any(p.is_dir() for p in stage.iterdir())
    config = json.loads((stage / "config.json").read_text())
    assert config["id2label"] == {"0": "not_paraphrase", "1": "paraphrase"}
    with Image.open(stage / "loss_curve.png") as img:
        assert img.format == "PNG" and img.size[0] >= 300
    card = (stage / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["pipeline_tag"] == "text-classification" and "[SEP]" in meta["widget"][0]["text"]
    assert {m["type"] for m in meta["model-index"][0]["results"][0]["metrics"]} == {"accuracy", "f1"}
    for needle in ("## Validation results", "| accuracy |", "| f1 |", r"learning\_rate", r"max\_length",
                   "an uploaded file", "![Training loss", "## Limitations", 'pipeline("text-classification"',
                   "tiny-bert", "## Head swap", "classifier.weight"):
        assert needle in card, needle
    assert "pairs.tsv" not in card  # an upload's file name is the visitor's business
    run = json.loads((stage / "studio_run.json").read_text())
    assert run["data"].startswith("an uploaded file") and run["base_model"].startswith("tiny-bert")
    assert run["metrics"]["eval_accuracy"] >= 0 and run["hyperparameters"]["max_length"] == 64
    for text in (card, (stage / "studio_run.json").read_text()):
        assert str(tiny_checkpoint.parent) not in text and "pairs.tsv" not in text  # no local folders
    shutil.rmtree(stage.parent)


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_push_offline_fails_with_our_message(tiny_checkpoint):
    with pytest.raises(HubError) as info:
        hub.push_run(tiny_checkpoint, repo_id="ana/tiny", token=TOKEN)
    assert "HF_HUB_OFFLINE=1" in str(info.value) and TOKEN not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # no chained traceback


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_push_without_token_or_with_bad_repo_id(tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(settings, "offline_reason", lambda: None)
    with pytest.raises(HubError, match="needs a token"):
        hub.push_run(tiny_checkpoint, repo_id="ana/tiny")
    with pytest.raises(HubError, match="not a valid repo id"):
        hub.push_run(tiny_checkpoint, repo_id="ana/bad name!", token=TOKEN)
    with pytest.raises(HubError, match="not a valid repo id") as info:  # a token pasted into the repo field
        hub.push_run(tiny_checkpoint, repo_id=f"ana/{TOKEN} x", token=TOKEN)
    assert TOKEN not in str(info.value)
    with pytest.raises(HubError, match="nothing to push") as info:
        hub.push_run(tiny_checkpoint / "no-such-run", token=TOKEN)
    assert str(tiny_checkpoint) not in str(info.value)  # no server path in what a visitor reads


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_upload_attempt_with_no_network_fails_clearly(tiny_checkpoint, monkeypatch):
    """The real HfApi calls run against a closed local port: no network, one clear token-free sentence."""
    from huggingface_hub import constants

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(settings, "offline_reason", lambda: None)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for repo in ("ana/tiny-finetuned-mrpc", None):  # given repo id, and the whoami() lookup for the default
        with pytest.raises(HubError) as info:
            hub.push_run(tiny_checkpoint, repo_id=repo, token=TOKEN)
        message = str(info.value)
        assert "could not be reached" in message and "zip" in message and TOKEN not in message


def test_error_messages_never_carry_tokens():
    err = RuntimeError(f"401 for url with Authorization: Bearer {TOKEN} and hf_AnotherLeakedToken99")
    message = hub._explain(err, "ana/x", TOKEN)
    assert TOKEN not in message and "hf_AnotherLeakedToken99" not in message and "ana/x" in message


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_zip_checkpoint_has_the_final_model_and_card(tiny_checkpoint):
    path = hub.zip_checkpoint(tiny_checkpoint, downloads.new_file)
    with zipfile.ZipFile(path) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= names
    assert not any(n.startswith("checkpoint-") or n == "training_args.bin" for n in names)
    assert path.parent.parent == settings.data_dir() / downloads.FOLDER_NAME  # the capped downloads folder


# --- whose token: a recording server stands in for the Hub -------------------------------------------------

@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_space_push_without_sign_in_makes_no_request_even_with_owner_token(tiny_checkpoint, fake_hub,
                                                                          monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    monkeypatch.setenv("HF_TOKEN", OWNER_TOKEN)
    for repo in ("owner/existing-model", None):  # a named repo, and the whoami() lookup for the default one
        for token in (None, "", hub.visitor_token(None)):
            with pytest.raises(HubError) as info:
                hub.push_run(tiny_checkpoint, repo_id=repo, token=token)
            assert "sign in with Hugging Face first" in str(info.value)
            assert OWNER_TOKEN not in str(info.value)
    assert fake_hub.requests == [] and fake_hub.connections == 0  # not even a reachability check


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_space_push_sends_only_the_visitors_token(tiny_checkpoint, fake_hub, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    monkeypatch.setenv("HF_TOKEN", OWNER_TOKEN)
    with pytest.raises(HubError) as info:  # the fake Hub refuses the upload itself (403)
        hub.push_run(tiny_checkpoint, repo_id=None, token=hub.visitor_token(VISITOR_TOKEN))
    message = str(info.value)
    assert "403" in message and VISITOR_TOKEN not in message and OWNER_TOKEN not in message
    paths = [r["path"] for r in fake_hub.requests]
    assert any(p.startswith("/api/whoami") for p in paths) and "/api/repos/create" in paths, paths
    assert any("/visitor/tiny-bert" in p for p in paths if not p.startswith("/api/repos/create")), paths
    for request in fake_hub.requests:
        assert OWNER_TOKEN not in request["headers"] and OWNER_TOKEN.encode() not in request["body"]
        if request["path"] not in LIBRARY_OWN_REQUESTS:
            assert request["auth"] == f"Bearer {VISITOR_TOKEN}", (request["path"], request["auth"])


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_off_a_space_hf_token_is_still_the_local_users_own(tiny_checkpoint, fake_hub, monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("HF_TOKEN", OWNER_TOKEN)
    with pytest.raises(HubError) as info:
        hub.push_run(tiny_checkpoint, repo_id="me/tiny-finetuned-mrpc")
    assert OWNER_TOKEN not in str(info.value)
    asked = [r for r in fake_hub.requests if r["path"] not in LIBRARY_OWN_REQUESTS]
    assert asked and all(r["auth"] == f"Bearer {OWNER_TOKEN}" for r in asked)


# --- what leaves: the allow-list ----------------------------------------------------------------------------

def _messy_run(tiny_checkpoint: Path, folder: Path) -> Path:
    """A copy of the CLI run with everything a run folder may hold that must never be shipped."""
    run = folder / "run-20260101-000000-abcd"
    shutil.copytree(tiny_checkpoint, run)
    data_dir = str(settings.data_dir())
    (run / "train.log").write_text(f"[studio] training from {run} with data in {data_dir}\n")
    (run / "run_config.json").write_text(json.dumps({"output_dir": str(run), "dataset": f"{data_dir}/up/a.csv"}))
    (run / "checkpoint-3").mkdir(exist_ok=True)
    (run / "checkpoint-3" / "optimizer.pt").write_bytes(b"optimizer state")
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin", "secrets.txt",
                 "pytorch_model.bin", ".env", "events.out.tfevents.1"):
        (run / name).write_text(f"must not ship {run}")
    (run / "README.md").write_text(f"an old card naming {run}")
    (run / "loss_curve.png").write_text(f"not an image: {run}")
    config = json.loads((run / "config.json").read_text())
    config["_name_or_path"] = str(run)
    (run / "config.json").write_text(json.dumps(config))
    tok = json.loads((run / "tokenizer_config.json").read_text())
    tok["name_or_path"] = str(run)
    tok["tokenizer_file"] = f"{data_dir}/cache/tokenizer.json"
    (run / "tokenizer_config.json").write_text(json.dumps(tok))
    summary = json.loads((run / "studio_run.json").read_text())
    summary.update(data=f"local MRPC folder {data_dir}/mrpc (train 36, validation 4)",
                   output_dir=str(run), log=str(run / "train.log"), owner="visitor-123",
                   hyperparameters={**summary["hyperparameters"], "note": f"from {run}/x"})
    (run / "studio_run.json").write_text(json.dumps(summary))
    (run / "all_results.json").write_text(json.dumps({"eval_accuracy": 0.5, "where": str(run)}))
    return run


@pytest.mark.slow  # uses the CLI-trained checkpoint
def test_zip_ships_only_the_allow_list_and_no_server_path(tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # to see that staging is cleaned up
    (tmp_path / "tmp").mkdir()
    run = _messy_run(tiny_checkpoint, tmp_path)
    secrets = {str(run), str(tmp_path), str(settings.data_dir()), str(tiny_checkpoint), str(tiny_checkpoint.parent),
               "visitor-123", "must not ship", "pairs.tsv"}
    path = hub.zip_checkpoint(run, downloads.new_file)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        files = {n.split("/", 1)[1]: archive.read(n) for n in names}
    assert len({n.split("/", 1)[0] for n in names}) == 1  # one top folder, the model's name
    assert set(files) <= set(hub.ALLOWED_FILES), set(files) - set(hub.ALLOWED_FILES)
    assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "README.md",
            "studio_run.json", "all_results.json", "loss_curve.png"} <= set(files)
    for banned in ("train.log", "run_config.json", "pytorch_model.bin", "optimizer.pt", "rng_state.pth",
                   "training_args.bin", "secrets.txt", ".env"):
        assert banned not in files
    for name, data in files.items():
        for secret in secrets:
            assert secret.encode() not in data, (name, secret)
    assert files["model.safetensors"] == (run / "model.safetensors").read_bytes()
    assert files["loss_curve.png"].startswith(b"\x89PNG")  # drawn anew, not the run's file
    summary = json.loads(files["studio_run.json"])
    assert set(summary) <= set(hub.public_run.__globals__["PUBLIC_RUN_KEYS"])
    assert summary["data"] == "a local MRPC folder (train 36, validation 4)"
    assert summary["metrics"] == json.loads((tiny_checkpoint / "studio_run.json").read_text())["metrics"]
    assert json.loads(files["all_results.json"]) == {"eval_accuracy": 0.5}
    config = json.loads(files["config.json"])
    assert "_name_or_path" not in config and config["id2label"] == {"0": "not_paraphrase", "1": "paraphrase"}
    assert json.loads(files["tokenizer_config.json"])["sep_token"] == "[SEP]"
    assert list((tmp_path / "tmp").iterdir()) == []  # the staging folder is gone


def test_weight_files_prefer_safetensors_and_ship_a_bin_only_alone(tmp_path):
    both = tmp_path / "both"
    both.mkdir()
    (both / "model.safetensors").write_bytes(b"s")
    (both / "pytorch_model.bin").write_bytes(b"b")
    assert hub.weight_files(both) == ["model.safetensors"]
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    for name in shards:
        (sharded / name).write_bytes(b"s")
    (sharded / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {"a.weight": shards[0], "b.weight": shards[1]}}))
    (sharded / "pytorch_model.bin").write_bytes(b"b")
    assert hub.weight_files(sharded) == ["model.safetensors.index.json"] + shards
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "../../secret"}}))
    assert hub.weight_files(evil) == []
    only_bin = tmp_path / "old"
    only_bin.mkdir()
    (only_bin / "pytorch_model.bin").write_bytes(b"b")
    assert hub.weight_files(only_bin) == ["pytorch_model.bin"]
    with pytest.raises(HubError, match="no trained weights") as info:
        hub.zip_checkpoint(evil, downloads.new_file)
    assert str(evil) not in str(info.value)
