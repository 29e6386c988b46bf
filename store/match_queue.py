"""The matching queue: canonical records written since they were last matched, oldest first.

Why a queue and not the ``updated_at`` watermark the scheduled incremental run reads: a time taken in Python
before a commit is not commit order — a loader's batch dated 10:00:00.1 may commit after a matcher read at
10:00:00.2, and a watermark then skips it for good. A row written in the record's own transaction cannot be
skipped: whoever sees the record sees its row, and the row goes only in the transaction that matched it.

Each row carries a ``version``, bumped whenever its record is written again: a matcher deletes only the
version it read (``done``), so a record changed while it was being matched stays queued for another pass.
On PostgreSQL the enqueue also sends ``NOTIFY autohub_match_pending``, delivered at commit, which wakes a
listening follower at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Select, Table, case, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from store.batching import one_of, tuple_in
from store.bulk import upserts
from store.matching_input import EVIDENCE_ENTITIES
from store.tables import CanonicalRecordRow, MatchQueueRow
from store.types import aware_utc

CHANNEL = "autohub_match_pending"
# What golden records are made of: parties, and what a golden vehicle is built from (the car's own record,
# the relationships naming it, the visits that reveal a resale). Consents, credit profiles … change no match.
QUEUED_ENTITIES = frozenset({"party", "vehicle", *EVIDENCE_ENTITIES})


@dataclass(frozen=True)
class Queued:
    """One queued record as a follower took it: ``version`` is what it may delete when done."""

    record_id: int
    entity_type: str
    version: int
    queued_at: datetime


@dataclass(frozen=True)
class QueueLag:
    """How far matching is behind the loaders: what waits, since when, and what keeps failing."""

    records: int = 0
    oldest_queued_at: datetime | None = None
    failing: int = 0  # rows whose last match failed (retried; parked after ``follow.max_attempts``)
    by_entity: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # entity type → (rows, oldest)

    def oldest_seconds(self, now: datetime | None = None) -> float:
        if self.oldest_queued_at is None:
            return 0.0
        return max(((now or datetime.now(UTC)) - self.oldest_queued_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class Evidence:
    """What queued vehicle records and relationships point at: the parties to re-match, the cars to rebuild."""

    parties: dict[int, list[int]] = field(default_factory=dict)  # party record id → the queued ids naming it
    vins: set[str] = field(default_factory=set)


def enqueue(session: Session, written: Mapping[int, str]) -> int:
    """Queue the records just written (record id → entity type) in the caller's transaction; return how many.

    A record already waiting keeps its place (its first ``queued_at``) and gets a new version; its failure
    count starts again, since the new version may well match."""
    now = datetime.now(UTC)
    rows = [
        {"record_id": record_id, "entity_type": entity_type, "queued_at": now, "version": 1, "attempts": 0,
         "last_error": None}
        for record_id, entity_type in sorted(written.items())  # one lock order for concurrent loaders
        if entity_type in QUEUED_ENTITIES
    ]  # fmt: skip
    table = cast(Table, MatchQueueRow.__table__)
    for stmt, params in upserts(session, table, rows):
        stmt = stmt.on_conflict_do_update(
            index_elements=["record_id"],
            # written again: whoever may take it (a follower that claimed the older version deletes only that)
            set_={"version": table.c.version + 1, "attempts": 0, "last_error": None, "claimed_until": None},
        )
        session.execute(stmt, params)
    if rows and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return len(rows)


def take(
    session: Session,
    limit: int,
    *,
    max_attempts: int,
    claimant: str = "",
    lease_s: float = 60.0,
    besides: Collection[int] = (),
) -> list[Queued]:
    """Claim the oldest ``limit`` queued records not yet given up on (fewer than ``max_attempts`` failures) and
    not claimed by another follower whose lease still runs; the caller commits the claim.

    Several followers on one store take disjoint batches this way (``FOR UPDATE SKIP LOCKED`` on PostgreSQL:
    two claiming at once never wait on each other). Rows ``claimant`` itself claimed are taken again at once —
    a follower restarted under its name after a kill picks up its batch without waiting out the lease — except
    ``besides``, rows it holds on purpose (a follower's cars waiting for their rebuild)."""
    q = MatchQueueRow
    now = datetime.now(UTC)
    free = or_(q.claimed_until.is_(None), q.claimed_until < now, q.claimed_by == claimant)
    oldest = (
        select(q.record_id)
        .where(q.attempts < max_attempts, free, q.record_id.not_in(sorted(besides)))
        .order_by(q.queued_at, q.record_id)
        .limit(limit)
    )
    chosen: Select[int] | list[int] = oldest
    if session.get_bind().dialect.name == "postgresql":
        # The batch is chosen by a statement of its own and claimed by id. Inside ``UPDATE … WHERE record_id IN
        # (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` PostgreSQL may plan a semi-join that runs the subquery
        # again for every queue row (with the statistics of an empty queue, what autovacuum records whenever
        # the follower keeps up); rows a loader holds locked are skipped differently on each run, and the
        # claim grew to thousands of rows for a limit of 200.
        chosen = list(session.scalars(oldest.with_for_update(skip_locked=True)))
        if not chosen:
            return []
    stmt = (
        update(q)
        .where(q.record_id.in_(chosen))
        .values(claimed_by=claimant, claimed_until=now + timedelta(seconds=lease_s))
        .returning(q.record_id, q.entity_type, q.version, q.queued_at)
        .execution_options(synchronize_session=False)
    )
    taken = [
        Queued(r.record_id, r.entity_type, r.version, aware_utc(r.queued_at)) for r in session.execute(stmt)
    ]
    return sorted(taken, key=lambda item: (item.queued_at, item.record_id))


def snapshot(session: Session) -> list[Queued]:
    """Every queued record, for a full run to clear when it has matched them all (``done``)."""
    q = MatchQueueRow
    stmt = select(q.record_id, q.entity_type, q.version, q.queued_at)
    return [Queued(r.record_id, r.entity_type, r.version, r.queued_at) for r in session.execute(stmt)]


def done(session: Session, items: Iterable[Queued]) -> int:
    """Delete the rows of these records as they were taken; a row written again since then stays."""
    q = MatchQueueRow
    deleted = 0
    for where in tuple_in(session, (q.record_id, q.version), [(i.record_id, i.version) for i in items]):
        result = session.execute(delete(q).where(where).execution_options(synchronize_session=False))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def failed(session: Session, items: Iterable[Queued], error: str) -> None:
    """Count a failed match against these rows (the version taken only); ``error`` must name no person."""
    q = MatchQueueRow
    for item in items:
        session.execute(
            update(q).where(q.record_id == item.record_id, q.version == item.version)
            .values(attempts=q.attempts + 1, last_error=error[:200], claimed_until=None)
        )  # fmt: skip


def lag(session: Session) -> QueueLag:
    """The queue's size and the age of its oldest row, in total and per entity type (one grouped query)."""
    q = MatchQueueRow
    failures = func.sum(case((q.attempts > 0, 1), else_=0))
    stmt = select(q.entity_type, func.count(), func.min(q.queued_at), failures)
    by_entity: dict[str, tuple[int, datetime]] = {}
    failing = 0
    for entity_type, count, oldest, failing_rows in session.execute(stmt.group_by(q.entity_type)):
        by_entity[entity_type] = (int(count), aware_utc(oldest))
        failing += int(failing_rows or 0)
    if not by_entity:
        return QueueLag()
    return QueueLag(
        records=sum(n for n, _ in by_entity.values()),
        oldest_queued_at=min(t for _, t in by_entity.values()),
        failing=failing,
        by_entity=by_entity,
    )


def evidence_of(session: Session, record_ids: Iterable[int]) -> Evidence:
    """The party records and VINs that queued vehicle records and relationships name (by the party-key index)."""
    c = CanonicalRecordRow
    vins: set[str] = set()
    naming: dict[tuple[str, str], list[int]] = defaultdict(list)
    for where in one_of(session, c.id, set(record_ids)):
        stmt = select(c.id, c.source, c.entity_type, c.entity_key, c.party_key, c.body).where(where)
        for row in session.execute(stmt):
            vin = row.entity_key if row.entity_type == "vehicle" else row.body.get("vin")
            if vin:
                vins.add(str(vin))
            if row.entity_type in EVIDENCE_ENTITIES and row.party_key:
                naming[(row.source, row.party_key)].append(row.id)
    parties: dict[int, list[int]] = {}
    for pairs in tuple_in(session, (c.source, c.entity_key), naming):
        stmt_parties = select(c.id, c.source, c.entity_key).where(c.entity_type == "party", pairs)
        for party_id, source, key in session.execute(stmt_parties):
            parties[party_id] = naming[(source, key)]
    return Evidence(parties, vins)


@dataclass(frozen=True)
class Settlement:
    """Which queue rows each party's match settles — its own, and those of the relationships and visits that name
    it — and the cars those rows name (rebuilt once the parties are matched)."""

    by_party: dict[int, list[Queued]]
    evidence: Evidence


def settlement(session: Session, queued: Iterable[Queued]) -> Settlement:
    """The party → queue rows map for ``queued`` (a full snapshot or a follower's batch): the one way both the
    scheduled incremental run and the follower read what a queue row asks to match."""
    rows = {q.record_id: q for q in queued}
    evidence = evidence_of(session, [r for r, q in rows.items() if q.entity_type != "party"])
    by_party: dict[int, list[Queued]] = defaultdict(list)
    for q in rows.values():
        if q.entity_type == "party":
            by_party[q.record_id].append(q)
    for party_id, naming in evidence.parties.items():
        by_party[party_id].extend(rows[r] for r in naming)
    return Settlement(dict(by_party), evidence)
