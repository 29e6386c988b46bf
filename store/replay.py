"""Queries of the quarantine replay: which quarantined raw records a corrected mapping may recover, and closing
their entries once they were mapped again (``pipeline.Loader.replay``, ``jobs.quarantine_replay``).

The selection works on unresolved quarantine entries (by source, reason, stream, creation time) and yields raw
records: a partly mapped record has one entry per rejected entity, and it is the record that is mapped again.
Records are walked in id order (keyset, ``after``) up to the newest entry that existed when the replay began
(``upto``), so that the entries a replay adds for what still fails are never selected by the same replay — a
second replay finds them, and only them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, not_, or_, select, update
from sqlalchemy.orm import Session

from canonical_model.entities.source import SourceRecord
from store.batching import chunks
from store.erasure import ERASED_PAYLOAD
from store.tables import QuarantineRow, SourceRecordRow

RESOLUTION_CHARS = 200  # quarantine.resolution


@dataclass(frozen=True)
class ReasonCodes:
    """A set of quarantine reasons: exact codes and families (a prefix ending in "."), less some exceptions."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    exceptions: frozenset[str] = frozenset()

    def __contains__(self, reason: object) -> bool:
        if not isinstance(reason, str) or reason in self.exceptions:
            return False
        return reason in self.exact or reason.startswith(self.prefixes)

    def condition(self) -> ColumnElement[bool]:
        """The same set as SQL on ``quarantine.reason``."""
        q = QuarantineRow.reason
        found = or_(q.in_(sorted(self.exact)), *(q.startswith(p, autoescape=True) for p in self.prefixes))
        return and_(found, q.not_in(sorted(self.exceptions))) if self.exceptions else found


@dataclass(frozen=True)
class EntryFilter:
    """Which unresolved quarantine entries a replay is about; None matches everything."""

    source: str | None = None
    reason: str | None = None  # an exact code, or a family prefix ending in "." (``invalid_vin.``)
    stream: str | None = None
    since: datetime | None = None  # entries created at or after this moment
    # Refused before any mapping ran: never replayed, only counted (see jobs.quarantine_replay).
    before_mapping: ReasonCodes = field(default_factory=ReasonCodes)

    def conditions(self) -> list[ColumnElement[bool]]:
        q = QuarantineRow
        found: list[ColumnElement[bool]] = [q.resolved_at.is_(None)]
        if self.source is not None:
            found.append(q.source == self.source)
        if self.stream is not None:
            found.append(q.stream == self.stream)
        if self.reason is not None:
            by_family = self.reason.endswith(".")
            found.append(
                q.reason.startswith(self.reason, autoescape=True) if by_family else q.reason == self.reason
            )
        if self.since is not None:
            found.append(q.created_at >= self.since)
        return found

    def replayable(self, upto: int) -> list[ColumnElement[bool]]:
        """Entries of this filter with a raw record a mapping can read, created before the replay began."""
        q = QuarantineRow
        return [
            *self.conditions(),
            q.id <= upto,
            q.source_record_id.is_not(None),
            not_(self.before_mapping.condition()),
        ]

    def not_replayable(self, upto: int) -> list[ColumnElement[bool]]:
        """Entries of this filter no mapping can recover: no raw record (unreadable input), or refused before it."""
        q = QuarantineRow
        return [
            *self.conditions(),
            q.id <= upto,
            or_(q.source_record_id.is_(None), self.before_mapping.condition()),
        ]


@dataclass(frozen=True)
class Selected:
    """A raw record a replay maps again, with the reason it was selected by (its first entry in the selection)."""

    record_id: int
    source: str
    reason: str


@dataclass(frozen=True)
class OpenEntry:
    """An unresolved quarantine entry of a record being replayed."""

    id: int
    reason: str
    entity_type: str | None  # None: the whole record waits
    field: str | None = None
    message: str = ""


@dataclass(frozen=True)
class StoredRecord:
    """A raw record as the store holds it, with its outcome and unresolved quarantine entries."""

    record_id: int
    record: SourceRecord
    outcome: str | None
    entries: tuple[OpenEntry, ...]

    @property
    def erased(self) -> bool:
        """Its payload was blanked by a PIPL erasure: there is nothing left to map (and nothing may come back)."""
        return self.record.payload == ERASED_PAYLOAD


def last_entry_id(session: Session) -> int:
    """The newest quarantine entry's id: the bound of one replay's selection (``upto``)."""
    return int(session.scalar(select(func.coalesce(func.max(QuarantineRow.id), 0))) or 0)


def sources_of(session: Session, where: EntryFilter, *, upto: int) -> list[str]:
    """The sources of the records a replay would map again (each must have a mapping)."""
    stmt = select(QuarantineRow.source).where(*where.replayable(upto)).distinct()
    return sorted(session.scalars(stmt))


def count_records(session: Session, where: EntryFilter, *, upto: int) -> int:
    """How many raw records a replay would map again (for a progress bar, and ``more``)."""
    ids = select(QuarantineRow.source_record_id).where(*where.replayable(upto)).distinct().subquery()
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)


def select_records(
    session: Session, where: EntryFilter, *, upto: int, after: int, limit: int
) -> list[Selected]:
    """The next ``limit`` raw records of the selection after record id ``after``, in id order."""
    q = QuarantineRow
    ids = list(session.scalars(select(q.source_record_id).where(*where.replayable(upto), q.source_record_id > after)
                               .distinct().order_by(q.source_record_id).limit(limit)))  # fmt: skip
    first: dict[int, Selected] = {}
    for chunk in chunks([int(i) for i in ids if i is not None]):
        rows = session.execute(select(q.source_record_id, q.source, q.reason)
                               .where(*where.replayable(upto), q.source_record_id.in_(chunk)).order_by(q.id))  # fmt: skip
        for record_id, source, reason in rows:
            if record_id is not None:
                first.setdefault(record_id, Selected(record_id, source, reason))
    return [first[record_id] for record_id in sorted(first)]


def not_replayable(session: Session, where: EntryFilter, *, upto: int) -> list[tuple[str, str, int]]:
    """(source, reason, entries) of the selection's entries that no mapping can recover."""
    q = QuarantineRow
    stmt = (select(q.source, q.reason, func.count()).where(*where.not_replayable(upto))
            .group_by(q.source, q.reason).order_by(q.source, q.reason))  # fmt: skip
    return [(source, reason, int(n)) for source, reason, n in session.execute(stmt)]


def stored_records(session: Session, record_ids: Sequence[int]) -> list[StoredRecord]:
    """The raw records ``record_ids`` (those still there), in id order, each with all its unresolved entries."""
    s, q = SourceRecordRow, QuarantineRow
    rows: dict[int, Any] = {}
    entries: dict[int, list[OpenEntry]] = {}
    for chunk in chunks(sorted(set(record_ids))):
        rows.update((row.id, row) for row in session.execute(select(s).where(s.id.in_(chunk))).scalars())
        open_entries = session.execute(select(q.id, q.source_record_id, q.reason, q.entity_type, q.field, q.message)
                                       .where(q.source_record_id.in_(chunk), q.resolved_at.is_(None)).order_by(q.id))  # fmt: skip
        for entry_id, record_id, reason, entity_type, field_, message in open_entries:
            if record_id is not None:
                entries.setdefault(record_id, []).append(
                    OpenEntry(entry_id, reason, entity_type, field_, message)
                )
    stored = []
    for record_id in sorted(rows):
        row = rows[record_id]
        record = SourceRecord(source=row.source, stream=row.stream, source_id=row.source_id, payload=row.payload,
                              received_at=row.received_at, payload_hash=row.payload_hash)  # fmt: skip
        stored.append(StoredRecord(record_id, record, row.outcome, tuple(entries.get(record_id, ()))))
    return stored


def resolution_text(what: str, *, run_id: int, actor: str) -> str:
    """An entry's ``resolution`` after a replay: what became of it, in which run, on whose request (the audit)."""
    return f"replayed: {what} (run {run_id}, {actor[:60]})"[:RESOLUTION_CHARS]


def resolve_entries(session: Session, resolutions: dict[int, str], at: datetime | None = None) -> int:
    """Mark entries resolved, each with its text; only those still unresolved. Returns how many were."""
    table = cast(Table, QuarantineRow.__table__)
    moment = at or datetime.now(UTC)
    by_text: dict[str, list[int]] = {}
    for entry_id, text in resolutions.items():
        by_text.setdefault(text, []).append(entry_id)
    done = 0
    for text, entry_ids in by_text.items():
        for chunk in chunks(sorted(entry_ids)):
            result = session.execute(update(table).where(table.c.id.in_(chunk), table.c.resolved_at.is_(None))
                                     .values(resolved_at=moment, resolution=text))  # fmt: skip
            done += int(getattr(result, "rowcount", 0) or 0)
    return done
