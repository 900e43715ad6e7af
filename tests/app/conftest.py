"""Fixtures for app tests: one launched app per session, driven through gradio_client."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
