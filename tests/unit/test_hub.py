"""Hub push: repo names, availability, the upload folder and its card, offline failures, token hygiene, zips."""
from __future__ import annotations

import json
import socket
import zipfile

import pytest

from trainer_backend import hub, settings
from trainer_backend.hub import HubError

pytest_plugins = ["tests.predict_fixtures"]  # one CLI-trained checkpoint for the whole session

TOKEN = "hf_TestTokenThatMustNeverShow123"


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
    for needle in ("## Validation results", "| accuracy |", "| f1 |", "learning_rate", "max_length",
                   "pairs.tsv", "![Training loss", "## Limitations", 'pipeline("text-classification"',
                   "tiny-bert"):
        assert needle in card, needle
    assert str(tiny_checkpoint.parent) not in card  # no local folders in a public card
    assert str(tiny_checkpoint.parent) not in (stage / "studio_run.json").read_text()


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
    with pytest.raises(HubError, match="nothing to push"):
        hub.push_run(tiny_checkpoint / "no-such-run", token=TOKEN)


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
    path = hub.zip_checkpoint(tiny_checkpoint)
    with zipfile.ZipFile(path) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= names
    assert not any(n.startswith("checkpoint-") or n == "training_args.bin" for n in names)
