"""The change feed of golden records: appended in the writer's transaction, read by cursor.

A consumer keeps the ``seq`` of the last change it handled and asks for what comes after. That is only
safe if no change with a smaller ``seq`` can become visible later — which a plain sequence does not promise
on PostgreSQL: transaction A takes seq 10, B takes seq 11 and commits first, a reader sees 11, stores it as
its cursor and never sees 10. So appending takes a transaction-scoped advisory lock first: change writers
queue behind each other from their first change to their commit, and seq order is commit order. Matching
writes its changes in one bulk statement near the end of its transaction, so the lock is held briefly.
SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from store.tables import ChangeLogRow

_FEED_LOCK = 0x6175_746F_6875_62  # "autohub": one advisory lock id for every change writer

CHANGE_TYPES = ("created", "updated", "merged", "unmerged", "erased", "restricted")


def lock_for_append(session: Session) -> None:
    """Call before inserting change rows; held until the transaction ends (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FEED_LOCK})


def read(
    session: Session, after_seq: int, limit: int, *, entity_type: str | None = None
) -> Sequence[ChangeLogRow]:
    stmt = select(ChangeLogRow).where(ChangeLogRow.seq > after_seq)
    if entity_type:
        stmt = stmt.where(ChangeLogRow.entity_type == entity_type)
    return session.scalars(stmt.order_by(ChangeLogRow.seq).limit(limit)).all()


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(ChangeLogRow.seq), 0))) or 0)


def as_event(row: ChangeLogRow) -> dict[str, Any]:
    """The one wire form of a change, for the HTTP feed and the broker alike (consumers dedupe on event_id)."""
    return {
        "event_id": row.event_id,
        "seq": row.seq,
        "golden_id": row.golden_id,
        "entity_type": row.entity_type,
        "change_type": row.change_type,
        "payload": row.payload,
        "occurred_at": row.occurred_at.isoformat(),
    }
