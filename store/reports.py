"""Read-side summaries of the ingest path: reconciliation, quarantine by reason, canonical counts.

The reconciliation is the store's promise in one query: every raw record is mapped, partly mapped (some of
its entities kept, the others quarantined one by one) or quarantined, none is lost in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.batching import chunks
from store.tables import CanonicalRecordRow, GoldenRecordRow, QuarantineRow, SourceRecordRow, SyncRun
from store.types import aware_utc


@dataclass(frozen=True)
class SourceReconciliation:
    source: str
    raw: int
    mapped: int
    quarantined: int
    in_flight: int  # outcome not set: a crashed batch (should be 0 after a finished sync)
    quarantine_entries_without_raw: int  # input that never became a source record (e.g. not JSON)
    partial: int = 0  # mapped in part: some entities canonical, the rest quarantined as entities

    @property
    def balanced(self) -> bool:
        return self.raw == self.mapped + self.partial + self.quarantined and self.in_flight == 0


def reconcile(session: Session) -> list[SourceReconciliation]:
    outcomes: dict[str, dict[str | None, int]] = {}
    for source, outcome, count in session.execute(
        select(SourceRecordRow.source, SourceRecordRow.outcome, func.count()).group_by(
            SourceRecordRow.source, SourceRecordRow.outcome
        )
    ):
        outcomes.setdefault(source, {})[outcome] = count
    orphans = dict(
        session.execute(
            select(QuarantineRow.source, func.count())
            .where(QuarantineRow.source_record_id.is_(None))
            .group_by(QuarantineRow.source)
        ).all()
    )
    result = []
    for source in sorted(set(outcomes) | set(orphans)):
        by_outcome = outcomes.get(source, {})
        result.append(
            SourceReconciliation(
                source=source,
                raw=sum(by_outcome.values()),
                mapped=by_outcome.get("mapped", 0),
                quarantined=by_outcome.get("quarantined", 0),
                partial=by_outcome.get("partial", 0),
                in_flight=by_outcome.get(None, 0),
                quarantine_entries_without_raw=orphans.get(source, 0),
            )
        )
    return result


def quarantine_by_reason(session: Session, source: str | None = None) -> list[tuple[str, str, int]]:
    """(source, reason, count), most frequent first; unresolved entries only."""
    stmt = (
        select(QuarantineRow.source, QuarantineRow.reason, func.count().label("n"))
        .where(QuarantineRow.resolved_at.is_(None))
        .group_by(QuarantineRow.source, QuarantineRow.reason)
        .order_by(func.count().desc(), QuarantineRow.source, QuarantineRow.reason)
    )
    if source:
        stmt = stmt.where(QuarantineRow.source == source)
    return [(row.source, row.reason, row.n) for row in session.execute(stmt)]


def canonical_counts(session: Session) -> dict[tuple[str, str], int]:
    """(source, entity_type) → number of canonical records."""
    stmt = select(CanonicalRecordRow.source, CanonicalRecordRow.entity_type, func.count()).group_by(
        CanonicalRecordRow.source, CanonicalRecordRow.entity_type
    )
    return {(source, entity_type): count for source, entity_type, count in session.execute(stmt)}


def list_quarantine(
    session: Session,
    *,
    source: str | None = None,
    reason: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> Sequence[QuarantineRow]:
    """Quarantine entries in id order, cursor-paginated by ``after_id`` (the last id a caller saw)."""
    stmt = select(QuarantineRow).where(QuarantineRow.id > after_id).order_by(QuarantineRow.id).limit(limit)
    if source:
        stmt = stmt.where(QuarantineRow.source == source)
    if reason:
        stmt = stmt.where(QuarantineRow.reason == reason)
    return session.scalars(stmt).all()


def record_outcomes(session: Session, source_record_ids: Sequence[int]) -> dict[int, str | None]:
    """The outcome (mapped | partial | quarantined) of each of these raw records, by id."""
    found: dict[int, str | None] = {}
    for chunk in chunks(sorted(set(source_record_ids))):
        stmt = select(SourceRecordRow.id, SourceRecordRow.outcome).where(SourceRecordRow.id.in_(chunk))
        found.update((row.id, row.outcome) for row in session.execute(stmt))
    return found


def quarantined_keys(session: Session) -> list[tuple[str, str, str]]:
    """(source, stream, source_id) of every unresolved quarantine entry that has a source id."""
    stmt = select(QuarantineRow.source, QuarantineRow.stream, QuarantineRow.source_id).where(
        QuarantineRow.resolved_at.is_(None), QuarantineRow.source_id.is_not(None)
    )
    return [(row.source, row.stream, str(row.source_id)) for row in session.execute(stmt)]


@dataclass(frozen=True)
class RunTotals:
    """Counts summed over several sync runs of one source (push sources run once per message)."""

    runs: int
    last_run_id: int
    records_in: int
    unchanged: int
    mapped: int
    quarantined: int
    partial: int


def run_totals(session: Session, source: str, *, after_run_id: int = 0) -> RunTotals:
    row = session.execute(
        select(
            func.count(SyncRun.id), func.coalesce(func.max(SyncRun.id), 0),
            func.coalesce(func.sum(SyncRun.records_in), 0), func.coalesce(func.sum(SyncRun.records_unchanged), 0),
            func.coalesce(func.sum(SyncRun.records_mapped), 0), func.coalesce(func.sum(SyncRun.records_quarantined), 0),
            func.coalesce(func.sum(SyncRun.records_partial), 0),
        ).where(SyncRun.source == source, SyncRun.id > after_run_id)
    ).one()  # fmt: skip
    return RunTotals(*(int(v) for v in row))


def last_run_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(SyncRun.id), 0))) or 0)


def list_sync_runs(
    session: Session, *, source: str | None, status: str | None, before_id: int, limit: int
) -> list[SyncRun]:
    """Sync runs newest first (``before_id`` 0: from the newest)."""
    stmt = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
    if source:
        stmt = stmt.where(SyncRun.source == source)
    if status:
        stmt = stmt.where(SyncRun.status == status)
    if before_id:
        stmt = stmt.where(SyncRun.id < before_id)
    return list(session.scalars(stmt))


def newest_running(session: Session, source: str) -> SyncRun | None:
    """The source's running run that beat last (a live consumer's, if there is one)."""
    stmt = (
        select(SyncRun)
        .where(SyncRun.source == source, SyncRun.status == "running")
        .order_by(SyncRun.last_beat.desc())
    )
    return session.scalars(stmt.limit(1)).first()


@dataclass(frozen=True)
class SourceHealth:
    """What monitoring needs of one source instance: when it last synced, what its last run did, whether one
    runs now and when it last beat (a consumer's run stays ``running`` for its life)."""

    source: str
    last_succeeded_at: datetime | None
    last_finished_status: str | None  # succeeded | failed | abandoned …
    last_finished_counts: dict[str, int]  # records in, mapped, partial, quarantined, unchanged
    running: int
    last_beat_at: datetime | None


def source_health(session: Session) -> list[SourceHealth]:
    """One row per source that ever ran: three grouped reads of the small ``sync_run`` table."""
    r = SyncRun
    succeeded = dict(session.execute(
        select(r.source, func.max(r.finished_at)).where(r.status == "succeeded").group_by(r.source)).all())  # fmt: skip
    running = {source: (int(n), beat) for source, n, beat in session.execute(
        select(r.source, func.count(), func.max(r.last_beat)).where(r.status == "running").group_by(r.source))}  # fmt: skip
    newest = select(func.max(r.id)).where(r.status != "running").group_by(r.source)
    finished = {run.source: run for run in session.scalars(select(r).where(r.id.in_(newest)))}
    health = []
    for source in sorted(set(succeeded) | set(running) | set(finished)):
        run = finished.get(source)
        counts = {} if run is None else {
            "in": run.records_in, "mapped": run.records_mapped, "partial": run.records_partial,
            "quarantined": run.records_quarantined, "unchanged": run.records_unchanged,
        }  # fmt: skip
        beating = running.get(source, (0, None))
        health.append(SourceHealth(source, _maybe(succeeded.get(source)), run.status if run else None, counts,
                                   beating[0], _maybe(beating[1])))  # fmt: skip
    return health


def _maybe(moment: datetime | str | None) -> datetime | None:
    return None if moment is None else aware_utc(moment)


def golden_counts(session: Session) -> list[tuple[str, str, int]]:
    """Golden records by (entity type, status): what ``/metrics`` reports."""
    g = GoldenRecordRow
    stmt = select(g.entity_type, g.status, func.count()).group_by(g.entity_type, g.status)
    return [(kind, status, int(n)) for kind, status, n in session.execute(stmt)]


def unresolved_quarantine_by_source(session: Session) -> list[tuple[str, int]]:
    q = QuarantineRow
    stmt = select(q.source, func.count()).where(q.resolved_at.is_(None)).group_by(q.source)
    return [(source, int(n)) for source, n in session.execute(stmt)]
