"""A fake accounting database: the finance ``customers`` table in any SQLAlchemy database, filled from payloads.

The demo uses an SQLite file (no server needed), the benchmark the real MariaDB. Amounts are VARCHAR as in
the legacy accounting schemas the hub meets, so a typo such as ``15万`` reaches the hub and is quarantined
there instead of failing the insert; ``updated_at`` is a naive local DATETIME, as accounting systems keep it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, create_engine

metadata = MetaData()
customers = Table(
    "customers", metadata,
    Column("cust_id", String(20), primary_key=True), Column("cust_name", String(100)),
    Column("cust_type", String(10)), Column("id_type", String(20)), Column("id_number", String(30)),
    Column("phone", String(30)), Column("credit_grade", String(10)), Column("credit_term_days", Integer),
    Column("credit_limit", String(30)), Column("currency", String(3)), Column("receivable_balance", String(30)),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_customers_cursor", "updated_at", "cust_id"),
)  # fmt: skip


def _row(payload: dict[str, Any]) -> dict[str, Any]:
    row = {column.name: payload.get(column.name) for column in customers.columns}
    row["updated_at"] = datetime.fromisoformat(str(payload["updated_at"]))
    return row


def create_accounting_db(url: str, payloads: Iterable[dict[str, Any]], *, chunk: int = 5_000) -> int:
    """(Re)create the table at ``url`` and insert the payloads; returns how many rows were written."""
    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        written = 0
        rows = (_row(p) for p in payloads)
        with engine.begin() as conn:
            while batch := list(islice(rows, chunk)):
                conn.execute(customers.insert(), batch)
                written += len(batch)
        return written
    finally:
        engine.dispose()
