"""Bulk writes (store/bulk.py): COPY and staged upserts on PostgreSQL, executemany on SQLite — the same rows,
the same conflicts settled, and an inserted row told from a replaced one only where the store can tell."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from store.bulk import append_rows, inserted_flag, upserts
from store.engine import create_store_engine
from store.tables import SourceRecordRow

RECORDS = cast(Table, SourceRecordRow.__table__)


def _rows(*ids: str, payload: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [{"source": "erp", "stream": "customers", "source_id": i, "payload_hash": f"h-{i}",
             "payload": payload or {"name": f"客户{i}"}, "received_at": datetime.now(UTC), "sync_run_id": None}
            for i in ids]  # fmt: skip


def _upsert(session: Session, rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    returned: list[tuple[str, bool]] = []
    for stmt, params in upserts(session, RECORDS, rows):
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "stream", "source_id", "payload_hash"],
            set_={"payload": stmt.excluded.payload},
        ).returning(RECORDS.c.source_id, inserted_flag(session))
        returned.extend((row.source_id, bool(row.inserted)) for row in session.execute(stmt, params))
    return sorted(returned)


def test_an_upsert_tells_inserted_rows_from_replaced_ones_where_the_store_can(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        fresh = "postgresql" in store_url  # SQLite cannot tell: its callers remove old keys of every row
        with Session(engine) as session, session.begin():
            assert _upsert(session, _rows("1", "2")) == [("1", fresh), ("2", fresh)]
        with Session(engine) as session, session.begin():
            # a second batch in one transaction: the staging table holds only this batch's rows
            assert _upsert(session, _rows("2", payload={"name": "改"})) == [("2", False)]
            assert _upsert(session, _rows("3")) == [("3", fresh)]
        with Session(engine) as session:
            payloads = dict(session.execute(select(RECORDS.c.source_id, RECORDS.c.payload)).all())
        assert payloads == {"1": {"name": "客户1"}, "2": {"name": "改"}, "3": {"name": "客户3"}}
    finally:
        engine.dispose()


def _stage_then_fail(session: Session) -> None:
    with session.begin():
        _upsert(session, _rows("9"))
        raise RuntimeError("the batch failed after staging")  # the staging table goes with the transaction


def test_rows_are_taken_in_their_order_and_a_rolled_back_stage_is_made_again(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with Session(engine) as session, pytest.raises(RuntimeError):
            _stage_then_fail(session)
        with Session(engine) as session, session.begin():
            _upsert(session, _rows("c", "a", "b"))
        with Session(engine) as session:
            order = session.scalars(select(RECORDS.c.source_id).order_by(RECORDS.c.id)).all()
        assert order == ["c", "a", "b"]  # ids in the batch's order: "loaded last" keeps its meaning
    finally:
        engine.dispose()


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    with session.begin():
        append_rows(session, RECORDS, rows)


def test_a_row_the_store_refuses_in_a_copy_is_a_data_fault_that_names_no_value(store_url: str) -> None:
    """COPY goes around SQLAlchemy: its refusal must still be SQLAlchemy's DataError (the loader splits the batch
    on it) and carry no value. SQLite does not enforce the column's length: there the row is stored."""
    engine = create_store_engine(store_url)
    long_id = "x" * 300  # source_id is at most 200 characters
    try:
        with Session(engine) as session:
            if store_url.startswith("postgresql"):
                with pytest.raises(DataError) as refused:
                    _append(session, _rows("ok", long_id))
                assert long_id[:50] not in str(refused.value)
            else:
                _append(session, _rows("ok", long_id))
        with Session(engine) as session:
            stored = session.scalars(select(RECORDS.c.source_id)).all()
        assert sorted(stored) == ([] if store_url.startswith("postgresql") else ["ok", long_id])
    finally:
        engine.dispose()
