"""A fixture for unit tests: the recording stand-in Hub (tests/space/recording_hub.py) as huggingface_hub's endpoint,
with the Hub 'online' for both huggingface_hub and settings, and private Hub and datasets caches."""
from __future__ import annotations

import pytest

from tests.space.recording_hub import RecordingHub


@pytest.fixture
def standin_hub(monkeypatch, tmp_path):
    """Yields a started RecordingHub that huggingface_hub and datasets use for this test only."""
    import datasets.config
    from huggingface_hub import constants

    from trainer_backend import settings

    with RecordingHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)  # read once at import time: patch the constants too
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        # transformers keeps one shared HfApi (the tokenizer loader lists the repo's files through it) with the
        # endpoint of the moment it was made: made during an earlier test (the predict app tests), it pointed at the
        # real Hub, unreachable here, and each call sat through ~45 s of retries. Made afresh here, and dropped after.
        from transformers.utils import hub as transformers_hub
        transformers_hub._hf_api = None
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        monkeypatch.setattr(settings, "offline_reason", lambda: None)
        yield hub
        transformers_hub._hf_api = None

