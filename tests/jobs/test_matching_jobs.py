"""A match run killed between its customers and its vehicles leaves no lasting gap: the next run, even an
incremental one, builds every golden vehicle, so a recall finds every car again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from autohub.cli import app
from core.settings import Settings, get_settings
from hub_api.metrics import StoreCollector
from jobs.matching import match_full, match_incremental
from mappings import MappingRegistry
from matching.config import matching_config
from matching.run import run_party_matching
from pipeline import Loader, to_source_record
from sample_data import generate
from store import golden as store_golden
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import CanonicalRecordRow, GoldenRecordRow, XrefRow


def _loaded_store(directory: Path, people: int, seed: int) -> tuple[Settings, Engine, sessionmaker[Session]]:
    """A migrated SQLite store in ``directory`` with a generated world of ``people`` loaded, not yet matched."""
    url = f"sqlite:///{directory}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=directory, database_url=url)
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=settings.pii_key)
    loader.load(
        to_source_record(loader.registry[g.source], g.stream, g.payload) for g in generate(people, seed=seed)
    )
    return settings, engine, sessions


def _behind_gauge(sessions: sessionmaker[Session]) -> float:
    (family,) = [f for f in StoreCollector(sessions).collect() if f.name == "autohub_golden_vehicles_behind"]
    return float(family.samples[0].value)


def test_the_run_after_a_killed_one_builds_the_missing_golden_vehicles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, engine, sessions = _loaded_store(tmp_path, 150, 5)
    run_party_matching(sessions, matching_config(settings))  # … and killed here, before the vehicles
    with sessions() as session:
        assert store_golden.golden_vehicles_behind(session)
    # said where people look: `autohub match status` and /metrics
    assert _behind_gauge(sessions) == 1.0
    monkeypatch.setenv("AUTOHUB_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    status = CliRunner().invoke(app, ["match", "status"])
    get_settings.cache_clear()
    assert status.exit_code == 0, status.output
    assert "golden vehicles are behind the golden customers" in " ".join(status.output.split())
    with sessions() as session:
        assert store_golden.golden_vehicles_behind(session)
        cars = session.scalar(select(func.count(func.distinct(CanonicalRecordRow.entity_key)))
                              .where(CanonicalRecordRow.entity_type == "vehicle"))  # fmt: skip
    result = match_incremental(settings)
    with sessions() as session:
        built = session.scalar(
            select(func.count()).select_from(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle")
        )
        assert not store_golden.golden_vehicles_behind(session)
    assert _behind_gauge(sessions) == 0.0
    assert cars
    assert built == result.vehicles["vehicles"] == cars  # every car, not only those with new evidence
    engine.dispose()


def _golden_ids_after_a_run(directory: Path) -> dict[tuple[str, str, str], str]:
    settings, engine, sessions = _loaded_store(directory, 120, 9)
    match_full(settings)
    with sessions() as session:
        ids = {(x.source, x.entity_type, x.entity_key): x.golden_id for x in session.scalars(select(XrefRow))}
    engine.dispose()
    return ids


def test_a_run_repeated_after_a_crash_gives_the_same_new_golden_ids(tmp_path: Path) -> None:
    """The probe's rerun of a killed run gave the same clusters under 1 385 other ids: downstream systems that read
    the first run's feed would hold ids that no longer exist. A new id is derived from the cluster's members."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, again = _golden_ids_after_a_run(tmp_path / "a"), _golden_ids_after_a_run(tmp_path / "b")
    assert len(first) > 200
    assert {kind for _, kind, _ in first} == {"party", "vehicle"}
    assert first == again


@pytest.mark.postgres
def test_a_full_run_refreshes_the_planner_statistics_on_postgres(
    postgres_store_url: str, tmp_path: Path
) -> None:
    """A fresh store after a bulk load plans with an empty table's statistics (a common-name search took 4.6 s
    until ANALYZE): a full run analyzes the golden tables it rewrote before it reports done."""
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_store_url)
    settings = Settings(data_dir=tmp_path, database_url=postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    sessions = session_factory(engine)
    Loader(sessions, MappingRegistry.load(), pii_key=settings.pii_key).load(
        to_source_record(MappingRegistry.load()[g.source], g.stream, g.payload) for g in generate(10, seed=3)
    )
    with engine.connect() as conn:
        before = conn.scalar(text("SELECT now()"))
    match_full(settings)
    with engine.connect() as conn:
        analyzed = dict(conn.execute(text(
            "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname IN ('golden_record', 'xref')"
        )).all())  # fmt: skip
    engine.dispose()
    assert set(analyzed) == {"golden_record", "xref"}
    assert all(at is not None and at >= before for at in analyzed.values()), analyzed
