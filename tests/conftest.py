"""Suite-wide rules.

A test that needs a real service (PostgreSQL, MariaDB, RabbitMQ) may skip on a developer's laptop where the
service is absent, but never in CI: with ``AUTOHUB_REQUIRE_SERVICES=1`` (set by .ci/run) such a skip is turned
into a failure, so a green CI always means the integration tests ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import Result

pytest_plugins = ["pytester"]

SERVICE_MARKERS = ("postgres", "mariadb", "rabbitmq")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("AUTOHUB_REQUIRE_SERVICES") == "1"):
        return
    needed = [m for m in SERVICE_MARKERS if item.get_closest_marker(m)]
    if needed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} needs {', '.join(needed)} and was skipped; in CI a missing service is a failure "
            "(.ci/services.sh starts them)"
        )


# --- the store on both backends -------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("AUTOHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_store_url() -> Generator[str, None, None]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped afterwards."""
    import uuid

    import psycopg

    from store.migrate import upgrade

    name = f"autohub_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            upgrade(url)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_postgres(url: str) -> None:
    from sqlalchemy import text

    from store.engine import create_store_engine
    from store.tables import Base

    engine = create_store_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """A migrated, empty hub store: an SQLite file, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        from store.migrate import upgrade

        url = f"sqlite:///{tmp_path}/hub.db"
        upgrade(url)
        return url
    url = str(request.getfixturevalue("postgres_store_url"))
    _empty_postgres(url)
    return url


@pytest.fixture
def store_session(store_url: str) -> Generator[object, None, None]:
    from store.engine import create_store_engine

    engine = create_store_engine(store_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def hub_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """``hub_cli("sync", "erp")`` runs the real CLI on a store in ``tmp_path``.

    Set the source's ``AUTOHUB_…`` variables with ``monkeypatch`` before calling; settings are read afresh on
    every call, so a test can change them between runs.
    """
    from typer.testing import CliRunner

    from autohub.cli import app
    from core.settings import get_settings

    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


WORLD_PII_KEY = "world-test-key-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made from 150 generated people through every source, matched: customers, cars, resales.

    Session-wide and read-only: a test that writes copies the file first."""
    from store.engine import create_store_engine, session_factory
    from store.migrate import upgrade

    path = tmp_path_factory.mktemp("world") / "hub.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_store_engine(url)
    populate_world(session_factory(engine), people=150, seed=23)
    engine.dispose()
    return path


def populate_world(sessions: sessionmaker[Session], *, people: int, seed: int) -> None:
    """Load ``people`` generated people through every source into a migrated store and match them: golden
    customers and vehicles, as a full run leaves them."""
    from mappings import MappingRegistry
    from matching.config import MatchingConfig
    from matching.run import run_party_matching
    from matching.vehicles import build_golden_vehicles
    from pipeline import Loader, to_source_record
    from sample_data import generate

    loader = Loader(sessions, MappingRegistry.load(), pii_key=WORLD_PII_KEY.encode())
    loader.load(
        to_source_record(loader.registry[g.source], g.stream, g.payload) for g in generate(people, seed=seed)
    )
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
