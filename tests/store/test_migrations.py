"""Every schema change is a migration: an empty database upgrades to head and matches the models exactly."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.orm import Session

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


def test_saved_watermarks_take_one_shape_and_resume_where_they_were(store_url: str) -> None:
    """Migration 0020: the SQL type's ``cursor`` and the insurance connector's ``updated_since`` become
    ``changed_since``, read by the one ``Watermark`` every type uses; down again, an older hub finds its cursor."""
    from connectors.incremental import Watermark
    from store import repository

    older = {
        ("finance", "customers"): {
            "cursor": "2024-03-01T10:00:01+08:00",
            "key": "F100",
            "timezone": "Asia/Shanghai",
        },
        ("finance", "capped"): {"cursor": "2024-03-01T10:00:01+08:00", "key": None, "timezone": None},
        ("insurance", "policies"): {"updated_since": "2024-03-02T08:00:00+00:00"},
        ("erp", "customers"): {"changed_since": "2024-03-01T10:06:00+08:00"},
        ("erp", "orders"): {"changed_since": None, "pass": {"since": None, "token": "2", "high": None}},
    }
    downgrade(store_url, "0019")
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            session = Session(bind=conn)
            for (source, stream), saved in older.items():
                repository.save_watermark(session, source, stream, saved)
            session.flush()
        upgrade(store_url)
        with Session(engine) as session:
            now = {key: repository.get_watermark(session, *key) for key in older}
        assert now == {
            ("finance", "customers"): {"changed_since": "2024-03-01T10:00:01+08:00", "key": "F100",
                                       "timezone": "Asia/Shanghai"},
            ("finance", "capped"): {"changed_since": "2024-03-01T10:00:01+08:00"},
            ("insurance", "policies"): {"changed_since": "2024-03-02T08:00:00+00:00"},
            ("erp", "customers"): {"changed_since": "2024-03-01T10:06:00+08:00"},
            ("erp", "orders"): {"changed_since": None, "pass": {"since": None, "token": "2", "high": None}},
        }  # fmt: skip
        finance = Watermark.load(now[("finance", "customers")], source="finance", stream="customers")
        assert (finance.since, finance.key) == (datetime.fromisoformat("2024-03-01T10:00:01+08:00"), "F100")
        assert Watermark.load(now[("erp", "orders")], source="erp", stream="orders").under_way is not None
        downgrade(store_url, "0019")
        with Session(engine) as session:
            back = repository.get_watermark(session, "finance", "customers")
        assert back is not None
        assert (back["cursor"], back["key"]) == ("2024-03-01T10:00:01+08:00", "F100")
    finally:
        engine.dispose()
        upgrade(store_url)
