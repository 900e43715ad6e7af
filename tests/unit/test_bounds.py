"""A run's size on a Space (tokens per optimizer step, validation pairs), refused with one sentence before it is
queued; and the sentence a stopped run's owner reads."""
from __future__ import annotations

import pytest

from trainer_backend.config import TrainConfig
from trainer_backend.runs.bounds import RunTooLarge, bounded, step_tokens, stop_message


@pytest.fixture
def space(monkeypatch, tmp_path):
    monkeypatch.setenv("SPACE_ID", "o/s")
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_FORCE_CPU", "1")  # the recipe's batch for an empty field: 8 on CPU
    return tmp_path


def test_the_issues_giant_step_is_refused_with_one_sentence(space):
    cfg = TrainConfig(per_device_train_batch_size=1024, gradient_accumulation_steps=1024, max_length=512)
    with pytest.raises(RunTooLarge) as err:
        bounded(cfg)
    message = str(err.value)
    assert "536,870,912 tokens per optimizer step" in message and "16,384" in message and "\n" not in message


def test_defaults_and_the_presets_fit(space):
    from trainer_backend import presets

    assert bounded(TrainConfig()).max_eval_samples == 1000  # 'all' becomes the cap; MRPC's 408 fit whole
    assert step_tokens(TrainConfig()) == 8 * 1 * 128
    for name in presets.PRESET_NAMES:
        cfg = presets.get(name).config
        assert bounded(cfg).max_length == cfg.max_length, name
    edge = TrainConfig(per_device_train_batch_size=32, max_length=512)  # exactly 16,384
    assert bounded(edge) == edge.replace(max_eval_samples=1000)


def test_validation_pairs_above_the_cap_are_refused(space):
    with pytest.raises(RunTooLarge, match="200,000 validation pairs is above this app's 1,000"):
        bounded(TrainConfig(max_eval_samples=200_000))
    assert bounded(TrainConfig(max_eval_samples=500)).max_eval_samples == 500


def test_locally_nothing_is_capped(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    cfg = TrainConfig(per_device_train_batch_size=1024, gradient_accumulation_steps=1024, max_length=512)
    assert bounded(cfg) is cfg


def test_the_stop_sentence_says_why_and_what_resume_can_do(tmp_path):
    assert stop_message("time limit", tmp_path, 1200) == (
        "Stopped: time limit of 20 min per run reached; no checkpoint was saved yet, so start it again.")
    (tmp_path / "checkpoint-12").mkdir()
    (tmp_path / "checkpoint-12" / "trainer_state.json").write_text("{}")
    assert stop_message("owner", tmp_path) == "Stopped by its owner; Resume continues from checkpoint-12."
