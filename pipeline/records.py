"""What the mapping makes of one stored record: its outcome, its canonical entities and its quarantine entries.

Why a module of its own: a fresh load, a replay after a mapping fix and ``autohub sources check``'s dry run must
decide a record's fate by the same code — the screen's refusal first, then the mapping, partial acceptance, the
key-length guard — so that what a fix recovers is exactly what a re-sent record would have given, and what a
check promises is what a sync does. ``map_one`` is that one place; the writers only store what it decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from canonical_model.entities.source import SourceRecord, payload_hash
from core.errors import DataError
from mappings import Mapper, RejectedEntity
from pipeline.report import LoadReport, Outcome
from pipeline.screen import (
    MAX_KEY_CHARS,
    InputLimits,
    UnsafeInput,
    record_name,
    safe_id,
    safe_text,
    screen_record,
)
from store.repository import CanonicalEntity, QuarantineEntry

T = TypeVar("T")


@dataclass(frozen=True)
class Mapped:
    """What the mapping made of one stored record: its outcome, canonical entities and new quarantine entries."""

    outcome: Outcome
    canonical: list[CanonicalEntity]
    quarantine: list[QuarantineEntry]
    error: DataError | None = None  # the whole record's failure (outcome quarantined)
    warnings: int = 0

    def count_in(self, report: LoadReport) -> None:
        report.count(self.outcome, [entry.reason for entry in self.quarantine], self.warnings,
                     [entity.entity_type for entity in self.canonical])  # fmt: skip


def map_one(
    mapper: Mapper, record: SourceRecord, stored: SourceRecord, row_id: int, fault: DataError | None
) -> Mapped:
    """Map one record whose raw row is ``row_id`` (``stored``: what the raw store holds, a stand-in for an unsafe
    record); ``fault`` is the screen's (or a connector's) refusal, which quarantines it whole. The one place a
    record's outcome is decided, for a fresh load and a replay alike."""
    try:
        if fault is not None:
            raise fault
        result = mapper.map(record)
        _check_keys(record, result.entities)
    except DataError as exc:
        return Mapped("quarantined", [], [quarantine_entry(stored, row_id, exc)], error=exc)
    entries = [_entity_quarantine_entry(stored, row_id, rejected) for rejected in result.rejected]
    canonical = [CanonicalEntity(e.entity_type, e.entity_key, e.body, e.warnings, result.as_of)
                 for e in result.entities]  # fmt: skip
    return Mapped(
        "partial" if result.rejected else "mapped", canonical, entries, warnings=len(result.warnings)
    )


def trial_map(
    mapper: Mapper, record: SourceRecord, limits: InputLimits, fault: DataError | None = None
) -> tuple[Outcome, list[str]]:
    """What a load would make of ``record`` — its outcome and the quarantine reasons — without a store.

    Why: ``autohub sources check`` must say what a sync of a new source would do before anything is written,
    by the same screen and the same per-record code a load runs.
    """
    done = map_one(mapper, record, record, 0, fault or screen_record(record, limits))
    return done.outcome, [entry.reason for entry in done.quarantine]


def to_source_record(
    mapper: Mapper, stream: str, payload: dict[str, Any], *, fallback_id: str | None = None
) -> SourceRecord:
    """Wrap a payload as it arrived. A record without its id is still kept (and quarantined by the mapping
    as ``missing_required``) under a stand-in: ``fallback_id`` (a message or delivery id) when the transport
    gives one, else an id derived from the content, so that re-runs stay idempotent."""
    source_id = (
        mapper.source_id_of(stream, payload) or fallback_id or f"missing-id:{payload_hash(payload)[:16]}"
    )
    return SourceRecord(source=mapper.source, stream=stream, source_id=source_id, payload=payload)


def batches(records: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def earlier_error(reason: str, message: str, field: str | None) -> DataError:
    """The error a record was quarantined with before, as its stored entry tells it."""
    error = DataError(message, reason=reason)  # the stored message already names the record and the field
    error.field = field
    return error


def _check_keys(record: SourceRecord, entities: Iterable[Any]) -> None:
    for entity in entities:
        if len(entity.entity_key) > MAX_KEY_CHARS:
            raise UnsafeInput(
                f"{entity.entity_type} key of {len(entity.entity_key):,} characters (limit {MAX_KEY_CHARS})",
                reason="unsafe_input.key_too_long", record=record_name(record),
                field=entity.entity_type, fix="an id in the record is far longer than any real one: correct it in the source",
            )  # fmt: skip


def _stage(reason: str) -> str:
    if reason.startswith("unsafe_input."):
        return "receive"
    return "validation" if reason.startswith(("invalid_", "schema.")) else "mapping"


def _entity_quarantine_entry(record: SourceRecord, row_id: int, rejected: RejectedEntity) -> QuarantineEntry:
    """One rejected entity of a partly mapped record: its reason, and a field that names the entity."""
    return QuarantineEntry(
        source=record.source, stream=record.stream, source_id=record.source_id, stage=_stage(rejected.reason),
        reason=rejected.reason, message=safe_text(rejected.message), field=safe_id(rejected.field),
        source_record_id=row_id, entity_type=rejected.entity_type,
    )  # fmt: skip


def quarantine_entry(record: SourceRecord, row_id: int, exc: DataError) -> QuarantineEntry:
    stage = _stage(exc.reason)
    return QuarantineEntry(
        source=record.source, stream=record.stream, source_id=record.source_id, stage=stage, reason=exc.reason,
        message=safe_text(str(exc)), field=safe_id(exc.field) if exc.field else None, source_record_id=row_id,
    )  # fmt: skip
