"""A bulk load refreshes PostgreSQL's planner statistics of the tables it wrote (a fresh store's empty-table
statistics made a common-name search take 4.6 s until ANALYZE); a small load leaves it to autovacuum."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, text

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from sample_data import generate
from store.engine import create_store_engine, session_factory
from tests.conftest import _empty_postgres

pytestmark = pytest.mark.postgres


def _analyzed(engine: Engine, since: datetime) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, last_analyze FROM pg_stat_user_tables"
                                 " WHERE relname IN ('source_record', 'canonical_record')")).all()  # fmt: skip
    return {name for name, at in rows if at is not None and at >= since}


@pytest.mark.parametrize(
    ("threshold", "expected"), [(20, {"source_record", "canonical_record"}), (10**6, set())]
)
def test_a_load_of_at_least_the_threshold_analyzes_what_it_wrote(
    postgres_store_url: str, threshold: int, expected: set[str]
) -> None:
    _empty_postgres(postgres_store_url)
    engine = create_store_engine(postgres_store_url)
    registry = MappingRegistry.load()
    loader = Loader(session_factory(engine), registry, pii_key=b"k", analyze_after_records=threshold)
    with engine.connect() as conn:
        before = conn.scalar(text("SELECT now()"))
    reports = loader.load(
        to_source_record(registry[g.source], g.stream, g.payload) for g in generate(10, seed=4)
    )
    written = sum(r.mapped + r.partial + r.quarantined for r in reports.values())
    assert written >= 20
    assert _analyzed(engine, before) == expected
    engine.dispose()
