"""Every schema change is a migration: an empty database upgrades to head and matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store.engine import create_store_engine
from store.migrate import current_revision, downgrade, head_revision, upgrade
from store.tables import Base

EXPECTED_TABLES = {
    "sync_run", "source_record", "canonical_record", "canonical_identifier", "quarantine", "sync_state",
    "golden_record", "xref", "attribute_lineage", "merge_history", "change_log", "inbox_message",
}  # fmt: skip


def test_head_is_reached_and_tables_exist(store_url: str) -> None:
    assert current_revision(store_url) == head_revision()
    engine = create_store_engine(store_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables >= EXPECTED_TABLES


def test_migrations_match_the_models(store_url: str) -> None:
    """A model change without a migration shows up here as a difference."""
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/roundtrip.db"
    upgrade(url)
    downgrade(url, "base")
    engine = create_store_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)
    assert current_revision(url) == head_revision()
