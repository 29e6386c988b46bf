"""A match run killed between its customers and its vehicles leaves no lasting gap: the next run, even an
incremental one, builds every golden vehicle, so a recall finds every car again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from autohub.settings import Settings
from jobs.matching import match_incremental
from mappings import MappingRegistry
from matching.run import run_party_matching
from pipeline import Loader, to_source_record
from sample_data import generate
from store import golden as store_golden
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import CanonicalRecordRow, GoldenRecordRow


def test_the_run_after_a_killed_one_builds_the_missing_golden_vehicles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url)
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=settings.pii_key)
    loader.load(
        to_source_record(loader.registry[g.source], g.stream, g.payload) for g in generate(150, seed=5)
    )
    run_party_matching(sessions, settings.matching)  # … and killed here, before the vehicles
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
    assert cars
    assert built == result.vehicles["vehicles"] == cars  # every car, not only those with new evidence
    engine.dispose()
