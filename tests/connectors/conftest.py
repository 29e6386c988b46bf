"""Fixtures the pull connectors' tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade


@pytest.fixture
def loader(tmp_path: Path) -> Iterator[Loader]:
    """A fresh migrated SQLite store with small batches, so a few test records span several commits."""
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    engine = create_store_engine(url)
    yield Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", batch_size=50)
    engine.dispose()
