"""Locks per neighbourhood, so that several matching followers on one PostgreSQL store never re-cluster the same
people at once (issue #16).

Why advisory locks and not row locks: what two followers must not do together is decided before any row is
written — a follower reads a neighbourhood (the candidates sharing a blocking key with its records, the golden
records they belong to, those records' members), clusters it and writes it back. Two followers doing that on
overlapping people would each write a golden record from a membership the other was changing. So a follower
locks, in its transaction:

1. the **blocking values** of the records it is about to match (a mobile, an ID number, a car, a name with a
   birth date …), before it looks for candidates: two new records that could link share one of them, so the
   second waits until the first is committed and then finds it among its candidates;
2. the **golden records** its neighbourhood touches, before it reads their members: a golden record's
   membership changes only under its lock, so what it reads stays true until it commits.

Each set is locked in one statement in a fixed order (the keys' numbers, ascending), so two followers locking
sets never deadlock; a follower that must lock more golden records after its first set (a record moved while it
waited) can still meet another in a cycle, which PostgreSQL detects and breaks by failing one transaction — the
follower takes it as a transient error and matches that batch again. Transaction-scoped locks
(``pg_advisory_xact_lock``) go with the commit or rollback: a killed follower holds none.

Loaders side by side (pipeline/partition.py) take one more: the writing of one source's canonical records
(``lock_canonical_writes``), so that two batches sharing entity keys never lock them in crossing orders.

SQLite allows one writer at a time and has no such locks: there, one follower per store (docs/scaling.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

# The ordered locking idiom: the inner query sorts, the outer takes each lock in that order.
_LOCK_IN_ORDER = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(:keys) AS k ORDER BY k) AS ordered"
).bindparams(bindparam("keys", type_=postgresql.ARRAY(postgresql.BIGINT)))


def lock_number(*parts: Any) -> int:
    """A stable signed 64-bit number for a lock name (Python's ``hash`` differs between processes)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def locks_apply(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_blocking_values(session: Session, values: Iterable[tuple[Any, ...]]) -> None:
    """Lock these blocking values (``matching.splink_model.blocking_values``) until the transaction ends."""
    _lock(session, {lock_number("key", *value) for value in values})


def lock_golden(session: Session, entity_type: str, golden_ids: Iterable[str]) -> None:
    """Lock these golden records' membership until the transaction ends."""
    _lock(session, {lock_number("golden", entity_type, g) for g in golden_ids})


def lock_canonical_writes(session: Session, source: str) -> None:
    """Lock the writing of ``source``'s canonical records until the transaction ends (parallel loaders)."""
    _lock(session, {lock_number("canonical", source)})


def _lock(session: Session, numbers: set[int]) -> None:
    if numbers and locks_apply(session):
        session.execute(_LOCK_IN_ORDER, {"keys": sorted(numbers)})


@contextmanager
def held(sessions: sessionmaker[Session], name: str) -> Iterator[None]:
    """One named lock held across several transactions (a vehicle rebuild reads in one and writes in another):
    a session-scoped advisory lock on a connection of its own, released on exit — or by the server when the
    connection dies with its process."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield
        return
    number = lock_number("held", name)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:n)"), {"n": number})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:n)"), {"n": number})
            connection.commit()
