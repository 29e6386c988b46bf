"""The API under test runs in a real uvicorn server on a free loopback port; tests speak HTTP to it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from hub_api.server import api_in_thread
from store import api_keys
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from tests.conftest import WORLD_PII_KEY

__all__ = ["WORLD_PII_KEY"]  # re-exported: the API tests import it from here


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
    settings = Settings(
        data_dir=tmp_path, database_url=url, sections={"portal": {"secret": "portal-test-secret"}}
    )
    with serve(settings) as client:
        yield LiveApi(client, settings, url)


@dataclass
class WorldApi(LiveApi):
    sessions: sessionmaker[Session]

    def token(self, *scopes: str, name: str = "crm-sync") -> dict[str, str]:
        """Authorization header of a new key with ``scopes``."""
        with self.sessions.begin() as session:
            _, token = api_keys.create(session, name, list(scopes))
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world_api(world: Path, tmp_path: Path) -> Iterator[WorldApi]:
    """The generated world, copied for this test, behind a live API."""
    path = tmp_path / "hub.db"
    shutil.copyfile(world, path)
    url = f"sqlite:///{path}"
    settings = Settings(data_dir=tmp_path, database_url=url, pii_hash_key=WORLD_PII_KEY,
                        sections={"portal": {"secret": "portal-test-secret"}})  # fmt: skip
    engine = create_store_engine(url)
    with serve(settings) as client:
        yield WorldApi(client, settings, url, session_factory(engine))
    engine.dispose()
