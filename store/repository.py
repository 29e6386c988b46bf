"""Writes of the ingest path: raw records, canonical records, quarantine, runs and watermarks.

Functions take an open ``Session`` and never commit: the caller owns the transaction, so a batch of raw
records, what they were mapped to and their quarantine entries land together or not at all — and the
watermark is saved only after that commit (the dlt/Singer rule).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from canonical_model.entities.source import SourceRecord
from store import match_queue, search_keys
from store.batching import chunks, one_of
from store.bulk import append_rows, inserted_flag, upserts
from store.dialect import insert_for
from store.match_locks import lock_canonical_writes
from store.pii import protect_identifiers
from store.tables import (
    CanonicalIdentifierRow,
    CanonicalRecordRow,
    InboxMessageRow,
    QuarantineRow,
    SourceRecordRow,
    SyncRun,
    SyncStateRow,
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CanonicalEntity:
    """One canonical entity a mapping produced from a source record, ready to be stored."""

    entity_type: str
    entity_key: str
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    as_of: datetime | None = None  # when the source says this version was true (the stream's ``as_of``)


@dataclass(frozen=True)
class QuarantineEntry:
    source: str
    stream: str
    source_id: str | None
    stage: str
    reason: str
    message: str
    field: str | None = None
    source_record_id: int | None = None
    raw_text: str | None = None
    entity_type: str | None = None  # one rejected entity of a partly mapped record; None: the whole record


# --- runs -----------------------------------------------------------------------------------------------


def start_run(session: Session, source: str) -> SyncRun:
    now = _now()
    run = SyncRun(source=source, started_at=now, heartbeat_at=now, status="running")
    session.add(run)
    session.flush()
    return run


def checkpoint_run(session: Session, run_id: int, counts: dict[str, int]) -> None:
    """A running run's counts so far and a heartbeat; a run closed as abandoned by mistake (a stall longer than
    the limit, not a death) is running again."""
    session.execute(update(SyncRun).where(SyncRun.id == run_id, SyncRun.status.in_(("running", "abandoned")))
                    .values(**counts, heartbeat_at=_now(), status="running", error_message=None))  # fmt: skip


def add_to_run(session: Session, run_id: int, counts: dict[str, int]) -> None:
    """Counts added to a run's stored ones, whatever its status."""
    session.execute(update(SyncRun).where(SyncRun.id == run_id).values(
        {getattr(SyncRun, column): getattr(SyncRun, column) + n for column, n in counts.items()}))  # fmt: skip


def close_abandoned_runs(session: Session, source: str, silent_since: datetime) -> int:
    """Close the source's runs still "running" whose last heartbeat is older than ``silent_since``, with the counts
    of what each stored (``stored_counts``) rather than of its last heartbeat: a process killed between two
    heartbeats had committed records the heartbeat never counted, and its run would have said fewer came in than
    the raw store holds."""
    silent = (SyncRun.source == source, SyncRun.status == "running", SyncRun.last_beat < silent_since)
    found = session.execute(select(SyncRun.id, SyncRun.started_at).where(*silent))
    runs: dict[int, datetime] = {run_id: started for run_id, started in found}
    if not runs:
        return 0
    recounted = stored_counts(session, runs)
    closed = 0
    for run_id in runs:
        values: dict[str, Any] = {"status": "abandoned", "finished_at": _now(), "error_message": (
            "no heartbeat since its last counts: the process was killed or lost the store; what it committed is "
            "counted, the rest will be read again")}  # fmt: skip
        if run_id in recounted:
            values.update(recounted[run_id])
            # Records found already stored leave no row under the run: those the last heartbeat counted stay counted.
            values["records_in"] = SyncRun.records_unchanged + sum(recounted[run_id].values())
        # The silence is checked again per run: a run that beat meanwhile (a stall, not a death) is left running.
        done = session.execute(update(SyncRun).where(SyncRun.id == run_id, *silent).values(values))
        closed += int(getattr(done, "rowcount", 0) or 0)
    return closed


def stored_counts(session: Session, runs: dict[int, datetime]) -> dict[int, dict[str, int]]:
    """Per run (id → start), the sync_run counts of the records it stored — by each raw record's outcome, and the
    unreadable input it quarantined without a raw record — for the runs that stored anything.

    ``records_unchanged`` is not among them: a record found already stored writes nothing under the run that read
    it. A run that stored nothing is left out, which keeps a quarantine replay's counts as its heartbeat wrote
    them: a replay writes no raw records (the records it maps again keep the id of the run that stored them), so
    its counts cannot be recounted from the store. An outcome a replay changed since is counted as it is now."""
    counts: dict[int, dict[str, int]] = {}
    column = {"mapped": "records_mapped", "partial": "records_partial", "quarantined": "records_quarantined"}
    raw = (select(SourceRecordRow.sync_run_id, SourceRecordRow.outcome, func.count())
           .where(SourceRecordRow.sync_run_id.in_(list(runs)))
           .group_by(SourceRecordRow.sync_run_id, SourceRecordRow.outcome))  # fmt: skip
    for run_id, outcome, n in session.execute(raw):
        # NULL (in flight) cannot be committed: outcomes are set in the transaction that stores the records.
        if run_id is not None and outcome in column:
            run = counts.setdefault(run_id, dict.fromkeys(column.values(), 0))
            run[column[outcome]] += n
    # Bounded by the runs' start too: quarantine has no index on the run, its creation time has one.
    q = QuarantineRow
    unreadable = (select(q.sync_run_id, func.count())
                  .where(q.sync_run_id.in_(list(runs)), q.source_record_id.is_(None), q.created_at >= min(runs.values()))
                  .group_by(q.sync_run_id))  # fmt: skip
    for run_id, n in session.execute(unreadable):
        if run_id is not None:
            counts.setdefault(run_id, dict.fromkeys(column.values(), 0))["records_quarantined"] += n
    return counts


def finish_run(session: Session, run: SyncRun, *, error: str | None = None) -> None:
    run.finished_at = _now()
    run.status = "failed" if error else "succeeded"
    run.error_message = error
    session.merge(run)


# --- raw records ----------------------------------------------------------------------------------------


def insert_source_records(
    session: Session, records: Sequence[SourceRecord], run_id: int | None
) -> list[int | None]:
    """Store each record unless this exact version is already there.

    Returns, per input record, the new row id, or None when the same source/stream/id/payload hash was
    stored before (a re-run or a redelivery): re-running a sync never duplicates raw data.
    """
    ids: dict[tuple[str, str, str, str], int] = {}
    rows = [
        {
            "source": r.source, "stream": r.stream, "source_id": r.source_id, "payload_hash": r.payload_hash,
            "payload": r.payload, "received_at": r.received_at, "sync_run_id": run_id,
        }
        for r in records
    ]  # fmt: skip
    table = cast(Table, SourceRecordRow.__table__)
    for stmt, params in upserts(session, table, rows):
        # staged by COPY on PostgreSQL, an executemany elsewhere (store/bulk.py); RETURNING gives the new rows.
        stmt = stmt.on_conflict_do_nothing(
            index_elements=["source", "stream", "source_id", "payload_hash"]
        ).returning(table.c.id, table.c.source, table.c.stream, table.c.source_id, table.c.payload_hash)
        for row in session.execute(stmt, params):
            ids[(row.source, row.stream, row.source_id, row.payload_hash)] = row.id
    result: list[int | None] = []
    for r in records:
        # A record repeated inside one batch is new only the first time.
        result.append(ids.pop((r.source, r.stream, r.source_id, r.payload_hash), None))
    return result


def quarantined_versions(
    session: Session, source: str, records: Sequence[SourceRecord]
) -> dict[tuple[str, str, str], tuple[str, str, str | None]]:
    """Of these records already in the raw store, the ones that were quarantined, with (reason, message, field).

    A redelivered poison message finds its raw version stored before: it must be answered with its original
    reason again (dead-lettered, refused), never taken for a good duplicate and acknowledged quietly.
    """
    found: dict[tuple[str, str, str], tuple[str, str, str | None]] = {}
    wanted = {(r.stream, r.source_id, r.payload_hash) for r in records}
    for chunk in chunks(sorted({r.source_id for r in records})):
        rows = session.execute(
            select(SourceRecordRow.stream, SourceRecordRow.source_id, SourceRecordRow.payload_hash,
                   QuarantineRow.reason, QuarantineRow.message, QuarantineRow.field)
            .join(QuarantineRow, QuarantineRow.source_record_id == SourceRecordRow.id)
            .where(SourceRecordRow.source == source, SourceRecordRow.outcome == "quarantined",
                   SourceRecordRow.source_id.in_(chunk))
        )  # fmt: skip
        for row in rows:
            if (key := (row.stream, row.source_id, row.payload_hash)) in wanted:
                found[key] = (row.reason, row.message, row.field)
    return found


_Outcome = TypeVar("_Outcome", bound=str)


def set_outcomes(session: Session, outcomes: Mapping[_Outcome, Sequence[int]]) -> None:
    """Set each raw record's outcome (outcome → raw ids). On PostgreSQL one ``UPDATE … FROM unnest(…)`` for all
    of them, a statement whose text never changes; elsewhere one per outcome."""
    pairs = [(row_id, outcome) for outcome, ids in outcomes.items() for row_id in ids]
    if not pairs:
        return
    if session.get_bind().dialect.name != "postgresql":
        for outcome, ids in outcomes.items():
            set_outcome(session, ids, outcome)
        return
    session.execute(
        text("UPDATE source_record SET outcome = v.outcome FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id, "
             "unnest(CAST(:outcomes AS varchar[])) AS outcome) AS v WHERE source_record.id = v.id"),
        {"ids": [row_id for row_id, _ in pairs], "outcomes": [outcome for _, outcome in pairs]},
    )  # fmt: skip


def set_outcome(session: Session, source_record_ids: Sequence[int], outcome: str) -> None:
    # On the table, not the ORM class: the ORM form first looks for loaded rows to synchronise, per statement.
    table = cast(Table, SourceRecordRow.__table__)
    for where in one_of(session, table.c.id, source_record_ids):
        session.execute(update(table).where(where).values(outcome=outcome))


# --- canonical records ----------------------------------------------------------------------------------


def save_canonical(
    session: Session,
    source: str,
    items: Sequence[tuple[int, CanonicalEntity]],
    *,
    mapping_version: str,
    pii_key: bytes,
    in_load_order: bool = False,
) -> int:
    """Upsert canonical entities and re-index their identifier hashes; return how many were older than the
    version already stored and left it in place.

    ``items`` pairs each entity with the id of the source record it came from. The newest version wins: by
    the source's own time where both versions have one (``as_of``), else the one loaded last — so an extract
    loaded out of order never overwrites a newer address with an older one.

    ``in_load_order``: "loaded last" means the source record received last (the higher raw id), not the one
    written last — for a replay, which maps records received long ago again: an undated old version recovered by
    a mapping fix must not replace the version a later record already gave. For a fresh load the two are the
    same (its raw records are the newest), which is why it does not ask for it.
    """
    # Loaders side by side (pipeline/partition.py) may write one source's entities at once: one at a time per
    # source, or two batches sharing keys in different orders could deadlock. Held until the commit.
    lock_canonical_writes(session, source)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    hashes: dict[tuple[str, str], list[Any]] = {}
    now = _now()
    older = 0
    for source_record_id, entity in items:
        key = (entity.entity_type, entity.entity_key)
        if key in latest and _older(entity.as_of, latest[key]["as_of"]):
            older += 1
            continue
        body = dict(entity.body)
        hashes[key] = protect_identifiers(body, pii_key)
        latest[key] = {
            "source": source, "entity_type": entity.entity_type, "entity_key": entity.entity_key,
            "source_record_id": source_record_id, "body": body, "warnings": list(entity.warnings),
            "mapping_version": mapping_version, "updated_at": now, "as_of": entity.as_of,
            "party_key": entity.entity_key if entity.entity_type == "party" else _party_key(body),
        }  # fmt: skip
    table = cast(Table, CanonicalRecordRow.__table__)
    canonical_ids: dict[tuple[str, str], int] = {}
    new_ids: set[int] = set()  # inserted, not replaced: no identifiers or search keys of theirs to remove
    for stmt, params in upserts(session, table, list(latest.values())):
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "entity_type", "entity_key"],
            set_={name: stmt.excluded[name] for name in _REPLACED},
            # A stored version the source dated later than this one stays (both dated; else the newest load).
            where=_newer(table, stmt.excluded, in_load_order),
        ).returning(table.c.id, table.c.entity_type, table.c.entity_key, inserted_flag(session))
        for row in session.execute(stmt, params):
            canonical_ids[(row.entity_type, row.entity_key)] = row.id
            if row.inserted:
                new_ids.add(row.id)
    older += len(latest) - len(canonical_ids)  # refused by the WHERE: no row came back
    hashes = {key: hashes[key] for key in canonical_ids}
    _reindex_identifiers(session, canonical_ids, hashes, new_ids)
    search_keys.reindex(session, {canonical_ids[key]: (key[0], latest[key]["body"]) for key in canonical_ids},
                        new=new_ids)  # fmt: skip
    # In this transaction: a record is never stored without being queued for matching (store/match_queue.py).
    match_queue.enqueue(session, {record_id: key[0] for key, record_id in canonical_ids.items()})
    return older


def _newer(table: Table, excluded: Any, in_load_order: bool) -> ColumnElement[bool]:
    """The upsert's condition for replacing the stored version: dated later, or (either undated) loaded later."""
    dated = excluded.as_of >= table.c.as_of
    undated = or_(table.c.as_of.is_(None), excluded.as_of.is_(None))
    if not in_load_order:
        return or_(undated, dated)
    return or_(and_(~undated, dated), and_(undated, excluded.source_record_id >= table.c.source_record_id))


_REPLACED = ("source_record_id", "body", "warnings", "mapping_version", "updated_at", "as_of", "party_key")


def _older(candidate: datetime | None, kept: datetime | None) -> bool:
    """Whether a version dated ``candidate`` is older than one dated ``kept``; undated versions never are."""
    return candidate is not None and kept is not None and candidate < kept


def _party_key(body: dict[str, Any]) -> str | None:
    key = body.get("party_source_id") or body.get("holder_source_id")  # policies name their holder so
    return str(key)[:300] if key else None


def _reindex_identifiers(
    session: Session,
    canonical_ids: dict[tuple[str, str], int],
    hashes: dict[tuple[str, str], list[Any]],
    new_ids: Collection[int],
) -> None:
    table = cast(Table, CanonicalIdentifierRow.__table__)
    replaced = [record_id for record_id in canonical_ids.values() if record_id not in new_ids]
    for where in one_of(session, table.c.canonical_record_id, replaced):
        session.execute(delete(table).where(where))
    rows = [
        {"canonical_record_id": canonical_ids[key], "id_type": h.id_type, "value_hash": h.value_hash,
         "masked": h.masked}
        for key, entries in hashes.items()
        for h in entries
    ]  # fmt: skip
    append_rows(session, table, rows)


# --- quarantine -----------------------------------------------------------------------------------------


def add_quarantine(session: Session, entries: Sequence[QuarantineEntry], run_id: int | None) -> None:
    now = _now()
    rows = [{**entry.__dict__, "sync_run_id": run_id, "created_at": now} for entry in entries]
    append_rows(session, cast(Table, QuarantineRow.__table__), rows)


# --- inbox (exactly-once for message input) --------------------------------------------------------------


def claim_messages(session: Session, source: str, message_ids: Sequence[str], run_id: int | None) -> set[str]:
    """Claim message ids in the caller's transaction; returns the ids that were new (the rest are repeats)."""
    table = InboxMessageRow.__table__
    now = _now()
    claimed: set[str] = set()
    rows = [
        {"source": source, "message_id": m, "received_at": now, "sync_run_id": run_id}
        for m in dict.fromkeys(message_ids)
    ]
    for chunk in chunks(rows):
        stmt = (
            insert_for(session, table)
            .on_conflict_do_nothing(index_elements=["source", "message_id"])
            .returning(table.c.message_id)
        )
        claimed.update(row.message_id for row in session.execute(stmt, list(chunk)))
    return claimed


def mark_dead_lettered(session: Session, source: str, message_ids: Sequence[str]) -> None:
    """Record that these claimed messages' dead-letter copies are confirmed by the broker."""
    m = InboxMessageRow
    for chunk in chunks(sorted(set(message_ids))):
        session.execute(
            update(m).where(m.source == source, m.message_id.in_(chunk)).values(dead_lettered_at=_now())
        )


def dead_lettered(session: Session, source: str, message_ids: Sequence[str]) -> set[str]:
    """Which of these messages already have a confirmed dead-letter copy."""
    m = InboxMessageRow
    return {mid for chunk in chunks(sorted(set(message_ids))) for mid in session.scalars(
        select(m.message_id).where(m.source == source, m.message_id.in_(chunk), m.dead_lettered_at.is_not(None)))}  # fmt: skip


# --- watermarks -----------------------------------------------------------------------------------------


def get_watermark(session: Session, source: str, stream: str) -> dict[str, Any] | None:
    row = session.get(SyncStateRow, (source, stream))
    return dict(row.watermark) if row else None


def save_watermark(
    session: Session, source: str, stream: str, watermark: dict[str, Any], run_id: int | None = None
) -> None:
    stmt = insert_for(session, SyncStateRow.__table__).values(
        source=source, stream=stream, watermark=watermark, updated_at=_now(), sync_run_id=run_id
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "stream"],
        set_={"watermark": stmt.excluded.watermark, "updated_at": stmt.excluded.updated_at,
              "sync_run_id": stmt.excluded.sync_run_id},
    )  # fmt: skip
    session.execute(stmt)
