"""The one Hub size check: pinned commit, every file a load fetches, the limit, and failing closed on a Space,
against the recording stand-in Hub (no machine here reaches the real one)."""
from __future__ import annotations

import pytest

from trainer_backend import settings
from trainer_backend.hub_check import check_hub_repo, model_files, safe_path
from web.access import AccessError

pytest_plugins = ["tests.hub_standin"]

BERT_LISTING = {"config.json": 570, "vocab.txt": 231_508, "tokenizer.json": 466_062, "tokenizer_config.json": 48,
                "model.safetensors": 440_449_768, "pytorch_model.bin": 440_473_133, "tf_model.h5": 536_063_208,
                "flax_model.msgpack": 438_064_459, "rust_model.ot": 534_240_408, "model.onnx": 532_091_246,
                "coreml/fill-mask/float32_model.mlpackage/Data/com.apple.CoreML/weight.bin": 532_000_000,
                "README.md": 10_000, ".gitattributes": 500}


def test_model_files_are_what_from_pretrained_may_fetch():
    chosen = model_files(BERT_LISTING)
    assert {"config.json", "vocab.txt", "tokenizer.json", "model.safetensors", "README.md"} <= set(chosen)
    assert not {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "rust_model.ot", "model.onnx"} & set(chosen)
    assert not any(p.startswith("coreml/") for p in chosen)
    assert "pytorch_model.bin" in model_files({"pytorch_model.bin": 1, "config.json": 1})  # no safetensors: .bin


@pytest.mark.parametrize("path", ["/etc/passwd", "../x.csv", "a/../../x.csv", "file:///etc/passwd", "a\\b.csv",
                                  "hf://datasets/x/y/train.csv", "", ".hidden/train.csv"])
def test_unsafe_repo_paths_are_never_candidates(path):
    assert not safe_path(path)


def test_bert_base_fits_the_model_limit_although_the_repo_is_3_gb():
    assert sum(BERT_LISTING.values()) > 3e9
    assert sum(BERT_LISTING[p] for p in model_files(BERT_LISTING)) < settings.limits().hub_model_bytes


def test_tokenizer_files_count_and_the_commit_is_pinned(standin_hub, monkeypatch):
    sha = standin_hub.add_repo("models", "alice/tiny", {"config.json": b"{}", "model.safetensors": b"w" * 100,
                                                        "tokenizer.json": b"t" * 5000})
    repo = check_hub_repo("alice/tiny", "model", False)
    assert repo.revision == sha and repo.total_bytes == 5102 and "tokenizer.json" in repo.files
    monkeypatch.setenv("STUDIO_HUB_MODEL_MB", str(2000 / 2**20))  # 2,000 bytes: the weights fit, the tokenizer not
    with pytest.raises(AccessError, match="above this app's"):
        check_hub_repo("alice/tiny", "model", False)


def test_on_a_space_every_doubt_refuses(standin_hub, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    with pytest.raises(AccessError, match="could not be found"):
        check_hub_repo("nobody/missing", "model", False)
    standin_hub.add_repo("models", "alice/sizeless", {"config.json": b"{}"},
                         listing={"config.json": None, "model.safetensors": 10})
    with pytest.raises(AccessError, match="could not tell how big"):
        check_hub_repo("alice/sizeless", "model", False)


def test_off_a_space_an_unanswered_check_leaves_it_to_the_download(standin_hub, monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert check_hub_repo("nobody/missing", "model", False) is None
    standin_hub.add_repo("models", "alice/sizeless", {"config.json": b"{}"}, listing={"config.json": None})
    assert check_hub_repo("alice/sizeless", "model", False) is None


def test_offline_asks_nothing(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/studio")
    monkeypatch.setattr(settings, "offline_reason", lambda: "HF_HUB_OFFLINE=1 is set")
    assert check_hub_repo("alice/tiny", "model", False) is None


def test_predict_uses_the_same_check_and_limit(standin_hub, monkeypatch):
    from trainer_backend.serving.models import InferenceError
    from trainer_backend.serving.predictor import _check_hub_size

    sha = standin_hub.add_repo("models", "alice/tiny", {"config.json": b"{}", "tokenizer.json": b"t" * 5000})
    assert _check_hub_size("alice/tiny") == sha
    monkeypatch.setenv("STUDIO_HUB_MODEL_MB", str(2000 / 2**20))
    with pytest.raises(InferenceError, match="above this app's"):
        _check_hub_size("alice/tiny")


def test_training_loads_a_hub_model_at_the_checked_commit(standin_hub, tiny_model_dir):
    """load_for_classification: the size check's commit is the one every file is downloaded from."""
    from trainer_backend.modeling import load_for_classification

    files = {p.name: p.read_bytes() for p in tiny_model_dir.iterdir() if p.is_file()}
    sha = standin_hub.add_repo("models", "alice/tiny-bert", files)
    loaded = load_for_classification("alice/tiny-bert", token=False)
    assert loaded.model.config.num_labels == 2
    resolved = [p for p in standin_hub.paths("/resolve/")]
    assert resolved and all(f"/resolve/{sha}/" in p for p in resolved), resolved


def test_the_lessons_tokenizer_passes_the_same_check(standin_hub, monkeypatch):
    from lesson import live

    monkeypatch.setenv("SPACE_ID", "owner/studio")
    standin_hub.add_repo("models", "mallory/fat-tokenizer", {"config.json": b"{}"},
                         listing={"config.json": 2, "tokenizer.json": 2 * 2**30})
    with pytest.raises(AccessError, match="above this app's"):
        live.tokenizer("mallory/fat-tokenizer")
    assert not standin_hub.paths("/resolve/")
