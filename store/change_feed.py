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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from store.tables import ChangeLogRow

_FEED_LOCK = 0x6175_746F_6875_62  # "autohub": one advisory lock id for every change writer
_RELAY_LOCK = 0x6F75_7462_6F78  # "outbox": held by the relay publishing a batch, so relays take turns

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


# --- the outbox: changes not yet confirmed by the broker (outbox/relay.py publishes them) -----------------------


def unpublished_backlog(session: Session) -> tuple[int, datetime | None, int]:
    """How many changes wait for the broker, since when, and the most attempts one of them has had."""
    c = ChangeLogRow
    count, oldest, attempts = session.execute(
        select(func.count(), func.min(c.occurred_at), func.max(c.publish_attempts)).where(
            c.published_at.is_(None)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest, int(attempts or 0)


def take_relay_turn(session: Session) -> bool:
    """On PostgreSQL, whether this relay may publish the next batch (held until the batch commits): relays in
    several API workers publish one batch at a time, in seq order."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK}))


def unpublished(session: Session, limit: int) -> Sequence[ChangeLogRow]:
    """The oldest ``limit`` changes the broker has not confirmed, in seq order."""
    stmt = (
        select(ChangeLogRow)
        .where(ChangeLogRow.published_at.is_(None))
        .order_by(ChangeLogRow.seq)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def mark_published(session: Session, seqs: list[int]) -> None:
    now = datetime.now(UTC)
    for start in range(0, len(seqs), 1_000):
        chunk = seqs[start : start + 1_000]
        session.execute(update(ChangeLogRow).where(ChangeLogRow.seq.in_(chunk))
                        .values(published_at=now, publish_attempts=ChangeLogRow.publish_attempts + 1))  # fmt: skip


def count_failed_attempt(session: Session, seq: int) -> None:
    session.execute(update(ChangeLogRow).where(ChangeLogRow.seq == seq)
                    .values(publish_attempts=ChangeLogRow.publish_attempts + 1))  # fmt: skip
