"""Opening the configured store for a job: refused when it is behind the newest schema, disposed after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError
from core.settings import Settings
from pipeline import Loader
from pipeline.screen import input_limits


class StoreNotMigrated(ConfigError):
    """The store's schema is older (or newer) than this code's: a job would write rows the schema cannot hold."""


def shown_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def store_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured store; the engine is disposed when the block ends."""
    from store.engine import create_store_engine, session_factory
    from store.migrate import current_revision, head_revision

    url = settings.effective_database_url
    current, head = current_revision(url), head_revision()
    if current != head:
        raise StoreNotMigrated(
            f"the store {shown_url(url)} is at schema {current or 'none'}, this code needs {head}",
            fix="run `autohub db upgrade` against it",
        )
    engine = create_store_engine(url, **settings.database_pool)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def store_loader(settings: Settings, aliases: dict[str, str] | None = None) -> Iterator[Loader]:
    """A Loader (raw → mapping → canonical + quarantine) on the configured store, for sync and consume jobs;
    ``aliases``: declared source → the mapping it reads with, where the two names differ."""
    from mappings import MappingRegistry

    registry = MappingRegistry.load(*settings.mapping_dirs).with_aliases(aliases or {})
    with store_sessions(settings) as sessions:
        yield Loader(sessions, registry, pii_key=settings.pii_key,
                     batch_size=settings.batch_size, limits=input_limits(settings),
                     abandoned_after_s=settings.sync_run_abandoned_after_s,
                     analyze_after_records=settings.analyze_after_records)  # fmt: skip
