"""Fixtures the pull connectors' tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result

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


@pytest.fixture
def hub_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """``hub_cli("sync", "erp")`` runs the real CLI on a store in ``tmp_path``.

    Set the source's ``AUTOHUB_…`` variables with ``monkeypatch`` before calling; settings are read afresh on
    every call, so a test can change them between runs.
    """
    from typer.testing import CliRunner

    from autohub.cli import app
    from autohub.settings import get_settings

    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()
