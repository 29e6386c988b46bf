"""The API under test runs in a real uvicorn server on a free loopback port; tests speak HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from autohub.settings import Settings
from hub_api.server import api_in_thread
from store.migrate import upgrade


@dataclass
class LiveApi:
    client: httpx.Client
    settings: Settings
    store_url: str


@contextmanager
def serve(settings: Settings) -> Iterator[httpx.Client]:
    with api_in_thread(settings) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[LiveApi]:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url, portal={"secret": "portal-test-secret"})
    with serve(settings) as client:
        yield LiveApi(client, settings, url)
