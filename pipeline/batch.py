"""The batch core of loading: store a batch's raw records, map them, write canonical records and quarantine — in
one transaction — and isolate what the store refuses.

Why isolation: the screen (``pipeline.screen``) catches the hostile input we know of; the store may still refuse
a record for something it does not know (a value a column cannot hold). A batch the store refuses for its data is
written again in halves until the offending record stands alone, and only that one is quarantined, so one record
can never take the good records of its batch with it. A store that is down or a lost connection is not the data's
fault: that is raised, never bisected. Counts are what committed: every writer counts into a part of its own
(``LoadReport.part``) that is added to the run's report only after its transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.entities.source import SourceRecord
from core.errors import DataError
from mappings import MappingRegistry
from pipeline.records import earlier_error, map_one, quarantine_entry
from pipeline.report import LoadReport, Outcome
from pipeline.screen import InputLimits, UnsafeInput, record_name, safe_id, screen_record, stand_in
from store import repository
from store.engine import STORE_UNAVAILABLE
from store.repository import CanonicalEntity, QuarantineEntry

log = structlog.get_logger(__name__)
T = TypeVar("T")
# What one write counted: (the run's report, the part this write adds to it once committed).
Counted = list[tuple[LoadReport, LoadReport]]


class BatchWriter:
    """What every way of loading shares: the store, the mappings, the screen's limits and the batch core."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: MappingRegistry,
        *,
        pii_key: bytes,
        batch_size: int = 1000,
        limits: InputLimits | None = None,
    ):
        self.sessions = sessions
        self.registry = registry
        self.pii_key = pii_key
        self.batch_size = batch_size
        self.limits = limits or InputLimits()

    def _write_isolating(
        self,
        items: list[T],
        write: Callable[[Session, list[T]], Counted],
        refuse: Callable[[T, Exception], object],
    ) -> None:
        """Write ``items`` in one transaction and add what it counted to the runs' reports; when the store
        refuses it for something in the data, split the batch in halves until the offending item stands alone,
        and ``refuse`` only that one (quarantined)."""
        try:
            with self.sessions.begin() as session:
                counted = write(session, items)
        except Exception as exc:
            if not _is_data_fault(exc):
                raise
            if len(items) == 1:
                log.warning("store refused a record; quarantined", error=type(exc).__name__)
                refuse(items[0], exc)
                return
        else:
            for report, part in counted:
                report.add(part)
            return
        middle = len(items) // 2
        self._write_isolating(items[:middle], write, refuse)
        self._write_isolating(items[middle:], write, refuse)

    def _refuse(
        self, report: LoadReport, record: SourceRecord, exc: Exception, *, message_id: str | None = None
    ) -> DataError | str:
        """Keep a record the store refused as a stand-in, quarantined with the kind of refusal (never its text:
        a database message quotes the values, and those may be a name or a phone)."""
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        error = UnsafeInput(
            f"the store refused the record ({type(cause).__name__})", reason="unsafe_input.store_refused",
            record=record_name(record),
            fix="correct the record in the source system; the rest of its batch was stored",
        )  # fmt: skip
        substitute = stand_in(record, self.limits)
        part = report.part()
        answer: DataError | str = error
        part.records_in += 1
        with self.sessions.begin() as session:
            if message_id is not None and not repository.claim_messages(
                session, report.source, [safe_id(message_id)], report.run_id
            ):
                part.unchanged += 1
                answer = "duplicate"
            elif (
                row_id := repository.insert_source_records(session, [substitute], report.run_id)[0]
            ) is None:
                part.unchanged += 1
            else:
                repository.add_quarantine(
                    session, [quarantine_entry(substitute, row_id, error)], report.run_id
                )
                repository.set_outcome(session, [row_id], "quarantined")
                part.quarantined += 1
                part.reasons[error.reason] += 1
        report.add(part)
        return answer

    def _earlier_refusals(
        self, session: Session, source: str, records: list[SourceRecord], *, screened: bool = False
    ) -> list[DataError | None]:
        """Per record already in the raw store: the error it was quarantined with then, or None."""
        if not records:
            return []
        if not screened:
            records = [stand_in(r, self.limits) if screen_record(r, self.limits) else r for r in records]
        found = repository.quarantined_versions(session, source, records)
        errors: list[DataError | None] = []
        for record in records:
            hit = found.get((record.stream, record.source_id, record.payload_hash))
            errors.append(earlier_error(*hit) if hit else None)
        return errors

    def _store_batch(
        self,
        session: Session,
        report: LoadReport,
        records: list[SourceRecord],
        *,
        refusals: Sequence[DataError | None] | None = None,
        answer_repeats: bool = False,
    ) -> tuple[list[DataError | None], LoadReport]:
        """Store, map and quarantine one batch in ``session``; returns each record's quarantine error and what
        the batch counted (a part of ``report``, added by the caller once committed).

        A record the screen refuses is stored as its stand-in and quarantined; the others go on as usual. With
        ``answer_repeats`` (pushed input, whose sender is answered per record), a record stored before is
        answered with the error it was quarantined with then; a pull sync needs no answer and skips the query.
        """
        mapper = self.registry[report.source]
        part = report.part()
        errors: list[DataError | None] = [None] * len(records)
        if not records:
            return errors, part
        faults: list[DataError | None] = [screen_record(record, self.limits) for record in records]
        if refusals is not None:  # the screen's finding first: an unsafe record is stored as its stand-in
            faults = [fault or refusal for fault, refusal in zip(faults, refusals, strict=True)]
        unsafe = [isinstance(fault, UnsafeInput) for fault in faults]
        stored = [stand_in(r, self.limits) if bad else r for r, bad in zip(records, unsafe, strict=True)]
        row_ids = repository.insert_source_records(session, stored, report.run_id)
        canonical: list[tuple[int, CanonicalEntity]] = []
        quarantine: list[QuarantineEntry] = []
        outcomes: dict[Outcome, list[int]] = {"mapped": [], "partial": [], "quarantined": []}
        for position, (record, row_id) in enumerate(zip(records, row_ids, strict=True)):
            part.records_in += 1
            if row_id is None:
                part.unchanged += 1
                continue
            done = map_one(mapper, record, stored[position], row_id, faults[position])
            errors[position] = done.error
            done.count_in(part)
            outcomes[done.outcome].append(row_id)
            quarantine.extend(done.quarantine)
            canonical.extend((row_id, entity) for entity in done.canonical)
        unchanged = [n for n, row_id in enumerate(row_ids) if row_id is None]
        if unchanged and answer_repeats:  # a quarantined one is refused again with its reason, never "stored"
            earlier = self._earlier_refusals(
                session, report.source, [stored[n] for n in unchanged], screened=True
            )
            for n, error in zip(unchanged, earlier, strict=True):
                errors[n] = error
        part.older_than_stored += repository.save_canonical(
            session, report.source, canonical, mapping_version=mapper.version, pii_key=self.pii_key
        )
        repository.add_quarantine(session, quarantine, report.run_id)
        repository.set_outcomes(session, outcomes)
        return errors, part


def _is_data_fault(exc: Exception) -> bool:
    """Did the store refuse the data (split the batch), or is the store itself unwell (raise, retry later)?"""
    if isinstance(exc, STORE_UNAVAILABLE):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return False
    return isinstance(exc, StatementError | ValueError | TypeError | RecursionError | OverflowError)
