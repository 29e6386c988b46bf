"""The API under test runs in a real uvicorn server on a free loopback port; tests speak HTTP to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from autohub.settings import Settings
from hub_api import create_app
from store.engine import create_store_engine
from store.migrate import upgrade


@dataclass
class LiveApi:
    client: httpx.Client
    settings: Settings
    store_url: str


def serve(settings: Settings) -> Iterator[httpx.Client]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[LiveApi]:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url, portal={"secret": "portal-test-secret"})
    for client in serve(settings):
        yield LiveApi(client, settings, url)
    create_store_engine(url).dispose()
