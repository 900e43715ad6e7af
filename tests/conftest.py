"""Test-wide setup: offline Hub, a private data folder, and shared fixtures."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Tests never reach the network and never touch a user's run store.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-test-"))
os.environ.pop("HF_TOKEN", None)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT (random weights) with the packaged MiniLM tokenizer, saved as a checkpoint folder."""
    from tests.helpers import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def learnable_csv(tmp_path_factory) -> Path:
    """Pairs whose label one word carries: the tiny model reaches > 0.9 on them (see write_learnable_pairs)."""
    from tests.helpers import write_learnable_pairs

    return write_learnable_pairs(tmp_path_factory.mktemp("learnable") / "pairs.csv")


@pytest.fixture(scope="session")
def app_url():
    """One launched app per test session, shared by the gradio_client and browser suites."""
    from tests.helpers import launch_app

    demo, url = launch_app()
    yield url
    demo.close()
