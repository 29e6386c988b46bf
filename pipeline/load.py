"""Loads source records into the store through their source's mapping, in batches, one transaction each.

A batch's raw records, canonical records, quarantine entries and outcomes commit together; a crash leaves
no half-mapped batch behind, and a re-run finds the raw records already stored and skips them (idempotent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from autohub.errors import DataError
from canonical_model.entities.source import SourceRecord, payload_hash
from mappings import Mapper, MappingRegistry
from store import repository
from store.repository import CanonicalEntity, QuarantineEntry
from store.tables import SyncRun

log = structlog.get_logger(__name__)


@dataclass
class LoadReport:
    """What one source's load did; ``records_in == unchanged + mapped + quarantined`` always holds."""

    source: str
    run_id: int
    records_in: int = 0
    unchanged: int = 0
    mapped: int = 0
    quarantined: int = 0
    warnings: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        return self.records_in == self.unchanged + self.mapped + self.quarantined


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


def _batches(records: Iterable[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


class Loader:
    """Loads records of any registered source; one sync run per source per ``load`` call."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: MappingRegistry,
        *,
        pii_key: bytes,
        batch_size: int = 1000,
    ):
        self.sessions = sessions
        self.registry = registry
        self.pii_key = pii_key
        self.batch_size = batch_size

    def load(
        self, records: Iterable[SourceRecord], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, LoadReport]:
        reports: dict[str, LoadReport] = {}
        try:
            for batch in _batches(records, self.batch_size):
                by_source: dict[str, list[SourceRecord]] = {}
                for record in batch:
                    by_source.setdefault(record.source, []).append(record)
                for source in by_source:
                    if source not in reports:
                        reports[source] = self.begin(source)
                self._load_sources(reports, by_source)
                if on_progress:
                    on_progress(len(batch))
        except Exception as exc:
            self.finish(reports.values(), error=f"{type(exc).__name__}: {exc}")
            raise
        self.finish(reports.values(), error=None)
        return reports

    def begin(self, source: str) -> LoadReport:
        """Start a sync run for one source (for a connector that loads page by page with ``load_page``)."""
        self.registry[source]  # an unknown source fails before anything is written
        with self.sessions.begin() as session:
            run = repository.start_run(session, source)
            return LoadReport(source=source, run_id=run.id)

    @contextmanager
    def run(self, source: str) -> Iterator[LoadReport]:
        """One sync run around a block (a file, a consumer session, one webhook): begun before it, finished
        after it — failed, with the error a scheduler should show, when the block raised."""
        report = self.begin(source)
        error = None
        try:
            yield report
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.finish([report], error=error)

    def load_page(self, report: LoadReport, records: list[SourceRecord]) -> None:
        """Load one page of a source's records, committed in batches of ``batch_size``."""
        for batch in _batches(records, self.batch_size):
            self._load_batch(report, batch)

    def load_messages(
        self, report: LoadReport, messages: list[tuple[str, SourceRecord]]
    ) -> dict[str, DataError | str]:
        """Load records that arrived as messages ``(message id, record)``, exactly once per message id.

        The ids are claimed in the transaction that stores the records. Returns per message id either
        ``"duplicate"`` (taken in before: acknowledge, store nothing), ``"stored"``, or the ``DataError``
        that quarantined it — what a webhook answers and what a consumer dead-letters.
        """
        with self.sessions.begin() as session:
            new_ids = repository.claim_messages(
                session, report.source, [m for m, _ in messages], report.run_id
            )
            fresh = [(m, record) for m, record in messages if m in new_ids]
            duplicates = len(messages) - len(fresh)
            report.records_in += duplicates
            report.unchanged += duplicates
            errors = self._store_batch(session, report, [record for _, record in fresh])
        outcome: dict[str, DataError | str] = {m: "duplicate" for m, _ in messages}
        for (message_id, _), error in zip(fresh, errors, strict=True):
            outcome[message_id] = error or "stored"
        return outcome

    def _load_sources(self, reports: dict[str, LoadReport], by_source: dict[str, list[SourceRecord]]) -> None:
        """One batch of several sources in one transaction: a commit per batch, not per source and batch.

        The counts move only when the batch commits, so a failed run reports what was stored.
        """
        before = {source: _copy_report(reports[source]) for source in by_source}
        try:
            with self.sessions.begin() as session:
                for source, records in by_source.items():
                    self._store_batch(session, reports[source], records)
        except BaseException:
            reports.update(before)
            raise

    def _load_batch(self, report: LoadReport, records: list[SourceRecord]) -> None:
        with self.sessions.begin() as session:
            self._store_batch(session, report, records)

    def _store_batch(
        self, session: Session, report: LoadReport, records: list[SourceRecord]
    ) -> list[DataError | None]:
        """Store, map and quarantine one batch in ``session``; returns each record's quarantine error."""
        mapper = self.registry[report.source]
        errors: list[DataError | None] = [None] * len(records)
        if not records:
            return errors
        row_ids = repository.insert_source_records(session, records, report.run_id)
        canonical: list[tuple[int, CanonicalEntity]] = []
        quarantine: list[QuarantineEntry] = []
        mapped_ids: list[int] = []
        for position, (record, row_id) in enumerate(zip(records, row_ids, strict=True)):
            report.records_in += 1
            if row_id is None:
                report.unchanged += 1
                continue
            try:
                result = mapper.map(record)
            except DataError as exc:
                errors[position] = exc
                quarantine.append(_quarantine_entry(record, row_id, exc))
                report.quarantined += 1
                report.reasons[exc.reason] += 1
                continue
            mapped_ids.append(row_id)
            report.mapped += 1
            report.warnings += len(result.warnings)
            for entity in result.entities:
                report.entities[entity.entity_type] += 1
                body = CanonicalEntity(entity.entity_type, entity.entity_key, entity.body, result.warnings)
                canonical.append((row_id, body))
        repository.save_canonical(
            session, report.source, canonical, mapping_version=mapper.version, pii_key=self.pii_key
        )
        repository.add_quarantine(session, quarantine, report.run_id)
        repository.set_outcome(session, mapped_ids, "mapped")
        repository.set_outcome(
            session, [q.source_record_id for q in quarantine if q.source_record_id], "quarantined"
        )
        return errors

    def quarantine_unreadable(self, report: LoadReport, stream: str, entries: list[tuple[str, str]]) -> None:
        """Input that never became a source record (not JSON, not an object) is kept as text with its reason."""
        if not entries:
            return
        rows = [
            QuarantineEntry(source=report.source, stream=stream, source_id=None, stage="receive", reason=reason,
                            message=f"[{report.source}/{stream}] unreadable input: {reason}", raw_text=text)
            for reason, text in entries
        ]  # fmt: skip
        with self.sessions.begin() as session:
            repository.add_quarantine(session, rows, report.run_id)
        report.records_in += len(rows)
        report.quarantined += len(rows)
        report.reasons.update(reason for reason, _ in entries)

    def finish(self, reports: Iterable[LoadReport], *, error: str | None) -> None:
        """Close the runs with their counts: succeeded, or failed with the error a scheduler should show."""
        with self.sessions.begin() as session:
            for report in reports:
                run = session.get(SyncRun, report.run_id)
                if run is None:
                    continue
                run.records_in, run.records_unchanged = report.records_in, report.unchanged
                run.records_mapped, run.records_quarantined = report.mapped, report.quarantined
                repository.finish_run(session, run, error=error)
                log.info(
                    "load finished", source=report.source, run_id=report.run_id, records_in=report.records_in,
                    unchanged=report.unchanged, mapped=report.mapped, quarantined=report.quarantined,
                    status="failed" if error else "succeeded",
                )  # fmt: skip


def _copy_report(report: LoadReport) -> LoadReport:
    return replace(report, entities=Counter(report.entities), reasons=Counter(report.reasons))


def _quarantine_entry(record: SourceRecord, row_id: int, exc: DataError) -> QuarantineEntry:
    stage = "validation" if exc.reason.startswith(("invalid_", "schema.")) else "mapping"
    return QuarantineEntry(
        source=record.source, stream=record.stream, source_id=record.source_id, stage=stage, reason=exc.reason,
        message=str(exc), field=exc.field, source_record_id=row_id,
    )  # fmt: skip
