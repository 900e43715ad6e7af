"""Who a visitor is and which names they may use: on a Space only listed names, own uploads and Hub ids."""
from __future__ import annotations

import pytest

from trainer_backend import settings
from web import access
from web.access import REFUSED, AccessError


@pytest.fixture
def on_space(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "owner/space")


def test_off_a_space_everyone_is_the_local_owner(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    visitor = access.make_visitor(None, None, None, "session")
    assert visitor.key == "local" and visitor.owns("anon:someone") and visitor.owns(None)
    assert access.check_model("/some/folder", visitor) == "/some/folder"


def test_on_a_space_identity_comes_from_sign_in_then_browser_then_session(on_space):
    signed = access.make_visitor("alice", "tok", "x" * 20, "s1")
    assert signed.key == "user:alice" and signed.token == "tok" and signed.hub_token == "tok"
    anon = access.make_visitor(None, None, "b" * 24, "s1")
    same = access.make_visitor(None, None, "b" * 24, "s2")  # a reload keeps the browser id
    assert anon.key == same.key and anon.key.startswith("anon:") and "b" * 24 not in anon.key
    assert anon.hub_token is False  # anonymous Hub reads send no token at all
    by_session = access.make_visitor(None, None, "short", "s9")  # a malformed id falls back to the session
    assert by_session.key != anon.key and by_session.key.startswith("anon:")
    assert not anon.owns(signed.key) and anon.owns(anon.key) and not anon.owns(None)
    with pytest.raises(AccessError):
        access.make_visitor(None, None, None, None)


@pytest.mark.parametrize("name", ["/etc/passwd", "/nonexistent", "~/.ssh", "../x", "./runs", "app.py", "lesson",
                                  "a/b/c", "", "hub:..", "file:///etc/passwd", "x" * 300])
def test_space_refuses_paths_with_one_sentence(on_space, name):
    visitor = access.make_visitor(None, None, "v" * 20)
    for check in (access.check_model, access.check_data):
        if name == "":
            continue
        with pytest.raises(AccessError) as err:
            check(name, visitor)
        assert str(err.value) == REFUSED


def test_space_accepts_listed_names_hub_ids_and_own_uploads(on_space, monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    alice = access.make_visitor(None, None, "a" * 20)
    bob = access.make_visitor(None, None, "b" * 20)
    assert access.check_model("packaged", alice) == "packaged"
    assert access.check_model("google/bert_uncased_L-4_H-256_A-4", alice).startswith("google/")
    assert access.check_data("sample", alice) == "sample"
    assert access.check_data("glue/mrpc", alice) == "glue/mrpc"
    assert access.check_data("someone/pairs", alice) == "hub:someone/pairs"  # never read as a local path
    alice.upload_dir.mkdir(parents=True)
    (alice.upload_dir / "mine-123.tsv").write_text("x")
    assert access.check_data("upload:mine-123.tsv", alice).endswith("mine-123.tsv")
    with pytest.raises(AccessError):
        access.check_data("upload:mine-123.tsv", bob)  # someone else's upload
    assert access.check_model("run:abc", alice, {"run:abc": "/runs/abc"}) == "/runs/abc"


@pytest.mark.parametrize("name", ["csv", "json", "text", "parquet", "imagefolder", "arrow", "hub:csv", "hub:text",
                                  "glue", "hub:glue"])
def test_space_refuses_single_word_data_names(on_space, name):
    """A single word names a datasets builder that reads the server's working directory: only listed choices."""
    with pytest.raises(AccessError) as err:
        access.check_data(name, access.make_visitor(None, None, "v" * 20))
    assert str(err.value) == REFUSED


def test_off_a_space_single_words_stay_the_local_users(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert access.check_data("hub:imdb", access.LOCAL) == "hub:imdb"


def test_mrpc_folders_are_offered_by_number_without_paths(on_space, monkeypatch, tmp_path):
    folder = tmp_path / "mrpc"
    folder.mkdir()
    (folder / "train.tsv").write_text("x")
    monkeypatch.setenv("STUDIO_MRPC_DIR", str(folder))
    choices = access.data_choices()
    assert ("MRPC folder found by the app #1 (GLUE layout)", "mrpc:0") in choices
    assert all(str(tmp_path) not in label for label, _ in choices)
    assert access.check_data("mrpc:0", access.make_visitor(None, None, "v" * 20)) == str(folder.resolve())


def test_public_name_hides_paths_and_upload_names():
    assert access.public_name("file secret-customers.csv (train 10)") == "an uploaded file"
    assert access.public_name("local MRPC folder /srv/data/mrpc (train 3)") == "a local MRPC folder (train 3)"
    assert "/home" not in access.public_name("/home/owner/models/bert")


def test_limits_are_safe_on_a_space_and_set_by_environment(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    local = settings.limits()
    monkeypatch.setenv("SPACE_ID", "o/s")
    space = settings.limits()
    assert space.runs_per_visitor == 2 and space.min_eval_steps >= 10 and space.run_seconds <= 3600
    assert local.runs_per_visitor > space.runs_per_visitor
    monkeypatch.setenv("STUDIO_RUNS_PER_VISITOR", "5")
    assert settings.limits().runs_per_visitor == 5
    monkeypatch.setenv("STUDIO_RUNS_PER_VISITOR", "many")
    with pytest.raises(ValueError, match="STUDIO_RUNS_PER_VISITOR"):
        settings.limits()


def test_child_environment_is_allow_listed(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret123456789")
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("STUDIO_API_TOKEN", "nope")
    monkeypatch.setenv("STUDIO_DATA_DIR", "/tmp/x")
    env = settings.child_environment()
    assert "HF_TOKEN" not in env and "OAUTH_CLIENT_SECRET" not in env and "STUDIO_API_TOKEN" not in env
    assert env["STUDIO_DATA_DIR"] == "/tmp/x" and env["HF_HUB_DISABLE_IMPLICIT_TOKEN"] == "1"


def test_sealing_removes_the_owner_token_only_on_a_space(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_owner123456789")
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert settings.seal_owner_secrets() == [] and settings.hub_token_from_env() == "hf_owner123456789"
    monkeypatch.setenv("SPACE_ID", "o/s")
    assert settings.hub_token_from_env() is None  # never the owner's token for a visitor
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", constants.HF_HUB_DISABLE_IMPLICIT_TOKEN)
    assert settings.seal_owner_secrets() == ["HF_TOKEN"]
    import os

    assert "HF_TOKEN" not in os.environ and constants.HF_HUB_DISABLE_IMPLICIT_TOKEN is True
    monkeypatch.delenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", raising=False)


def test_the_environment_line_shows_no_server_path_on_a_space(on_space, monkeypatch, tmp_path):
    folder = tmp_path / "secret-place" / "mrpc"
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_text("x")
    monkeypatch.setenv("STUDIO_MRPC_DIR", str(folder))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from ui.train_handlers import environment_markdown

    text = environment_markdown()
    assert "secret-place" not in text and "a local MRPC folder" in text
