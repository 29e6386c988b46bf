"""Loads source records into the store through their source's mapping, in batches, one transaction each.

A batch's raw records, canonical records, quarantine entries and outcomes commit together; a crash leaves
no half-mapped batch behind, and a re-run finds the raw records already stored and skips them (idempotent).

A record whose mapping rejected some of its entities (``quarantine_entity``, mappings/policies.py) is
*partly mapped*: its good entities become canonical records, each rejected entity gets its own quarantine
entry linked to the record, and the record's outcome is ``partial`` — counted apart, so that the
reconciliation stays exact.

A record already in the raw store can be *replayed* (``replay``): mapped again through the registry as it is
now — after a mapping, a code table or a rule was corrected — by the same code a fresh load runs, so that what a
fix recovers is exactly what a re-sent record would have given, without asking the source for it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Literal, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.entities.source import SourceRecord, payload_hash
from core.errors import DataError, RetriableError
from mappings import Mapper, MappingRegistry, RejectedEntity
from pipeline.screen import (
    MAX_KEY_CHARS,
    InputLimits,
    UnsafeInput,
    record_name,
    safe_id,
    safe_text,
    screen_record,
    stand_in,
)
from store import replay as replay_store
from store import repository
from store.engine import STORE_UNAVAILABLE
from store.replay import OpenEntry
from store.repository import CanonicalEntity, QuarantineEntry
from store.statistics import LOADED_TABLES, refresh_statistics
from store.tables import SyncRun

log = structlog.get_logger(__name__)
T = TypeVar("T")
Outcome = Literal["mapped", "partial", "quarantined"]


@dataclass
class LoadReport:
    """What one source's load did; ``records_in == unchanged + mapped + partial + quarantined`` always holds.

    ``partial`` records are stored (their good entities are canonical) but also have quarantine entries, one
    per rejected entity; ``reasons`` counts quarantine entries, of whole records and of entities alike.
    """

    source: str
    run_id: int
    records_in: int = 0
    unchanged: int = 0
    mapped: int = 0
    quarantined: int = 0
    partial: int = 0
    warnings: int = 0
    # Entities whose stored version the source dated later (its stream's ``as_of``): mapped, but left in place.
    older_than_stored: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        return self.records_in == self.unchanged + self.mapped + self.partial + self.quarantined


@dataclass(frozen=True)
class Replayed:
    """What a replay made of one stored record.

    ``after`` is the record's outcome now, or ``not_replayable`` (its payload was erased: nothing to map) or
    ``refused`` (the store refused what the mapping gave now: the record was left exactly as it was).
    ``waiting_before`` counts its unresolved quarantine entries before, ``waiting`` the reasons of those now.
    """

    record_id: int
    before: str | None
    after: Outcome | Literal["not_replayable", "refused"]
    waiting_before: int
    waiting: tuple[str, ...] = ()


class ReplayConflict(RetriableError):
    """Another replay (or a steward) resolved some of these quarantine entries while this one re-mapped them."""


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


def _batches(records: Iterable[T], size: int) -> Iterator[list[T]]:
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
        limits: InputLimits | None = None,
        abandoned_after_s: float = 600.0,
        analyze_after_records: int = 0,
    ):
        self.sessions = sessions
        self.registry = registry
        self.pii_key = pii_key
        self.batch_size = batch_size
        self.limits = limits or InputLimits()
        # A running run silent this long belonged to a process that died: closed as abandoned at the next begin.
        self.abandoned_after_s = abandoned_after_s
        # A run that wrote this many records refreshes the planner statistics of what it wrote (0: never).
        self.analyze_after_records = analyze_after_records

    def load(
        self, records: Iterable[SourceRecord], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, LoadReport]:
        reports: dict[str, LoadReport] = {}
        try:
            for batch in _batches(records, self.batch_size):
                for record in batch:
                    if record.source not in reports:
                        reports[record.source] = self.begin(record.source)
                self._write_isolating(list(reports.values()), batch, lambda session, part: self._store_sources(session, reports, part),
                                      lambda record, exc: self._refuse(reports[record.source], record, exc))  # fmt: skip
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
            silent_since = datetime.now(UTC) - timedelta(seconds=self.abandoned_after_s)
            if closed := repository.close_abandoned_runs(session, source, silent_since):
                log.warning("earlier sync runs closed as abandoned", source=source, runs=closed,
                            silent_s=self.abandoned_after_s)  # fmt: skip
            run = repository.start_run(session, source)
            return LoadReport(source=source, run_id=run.id)

    def checkpoint(self, report: LoadReport, session: Session | None = None) -> None:
        """Write a running run's counts so far and a heartbeat (a long-running consumer, a pull sync per page),
        in ``session`` or a transaction of its own: a scheduler sees live counts, and a run that stops beating
        is known dead."""
        if session is not None:
            repository.checkpoint_run(session, report.run_id, _run_counts(report))
            return
        with self.sessions.begin() as own:
            repository.checkpoint_run(own, report.run_id, _run_counts(report))

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

    def load_page(
        self,
        report: LoadReport,
        records: list[SourceRecord],
        *,
        refused: Sequence[tuple[SourceRecord, DataError]] = (),
    ) -> None:
        """Load one page of a source's records, committed in batches of ``batch_size``.

        ``refused`` are records the connector read but will not pass on (a row without a change time): stored
        raw beside the others and quarantined with the connector's error.
        """
        items: list[tuple[SourceRecord, DataError | None]] = [(r, None) for r in records] + list(refused)
        for batch in _batches(items, self.batch_size):
            self._write_isolating([report], batch,
                                  lambda session, part: self._store_batch(session, report, [r for r, _ in part],
                                                                          refusals=[e for _, e in part]),
                                  lambda item, exc: self._refuse(report, item[0], exc))  # fmt: skip

    def load_messages(
        self, report: LoadReport, messages: list[tuple[str, SourceRecord]]
    ) -> dict[str, DataError | str]:
        """Load records that arrived as messages ``(message id, record)``, exactly once per message id.

        The ids are claimed in the transaction that stores the records. Returns per message id either
        ``"duplicate"`` (taken in before: acknowledge, store nothing), ``"stored"``, or the ``DataError``
        that quarantined it — what a webhook answers and what a consumer dead-letters.
        """
        outcome: dict[str, DataError | str] = {}

        def write(session: Session, part: list[tuple[str, SourceRecord]]) -> None:
            outcome.update(self._store_messages(session, report, part))

        def refuse(message: tuple[str, SourceRecord], exc: Exception) -> None:
            outcome[message[0]] = self._refuse(report, message[1], exc, message_id=message[0])

        self._write_isolating([report], messages, write, refuse)
        return outcome

    def _store_messages(
        self, session: Session, report: LoadReport, messages: list[tuple[str, SourceRecord]]
    ) -> dict[str, DataError | str]:
        # An id longer than the inbox column is claimed by its stable short form (prefix + hash).
        claim_ids = [safe_id(m) for m, _ in messages]
        new_ids = repository.claim_messages(session, report.source, claim_ids, report.run_id)
        fresh = [(m, record) for (m, record), c in zip(messages, claim_ids, strict=True) if c in new_ids]
        duplicates = len(messages) - len(fresh)
        report.records_in += duplicates
        report.unchanged += duplicates
        errors = self._store_batch(session, report, [record for _, record in fresh], answer_repeats=True)
        outcome: dict[str, DataError | str] = {m: "duplicate" for m, _ in messages}
        # A repeat of a message that was quarantined keeps its refusal, so that it reaches the dead-letter
        # queue even when the first delivery's copy was lost in a crash between the commit and the ack.
        repeats = [
            (m, record) for (m, record), c in zip(messages, claim_ids, strict=True) if c not in new_ids
        ]
        refused = self._earlier_refusals(session, report.source, [record for _, record in repeats])
        for (message_id, _), error in zip(repeats, refused, strict=True):
            if error is not None:
                outcome[message_id] = error
        for (message_id, _), error in zip(fresh, errors, strict=True):
            outcome[message_id] = error or "stored"
        return outcome

    def _write_isolating(
        self,
        reports: list[LoadReport],
        items: list[T],
        write: Callable[[Session, list[T]], object],
        refuse: Callable[[T, Exception], object],
    ) -> None:
        """Write ``items`` in one transaction; when the store refuses it for something in the data, split the
        batch in halves until the offending item stands alone, and refuse only that one (quarantined).

        The screen catches the hostile input we know of; this is the net for what it does not know, so one
        record can never take the good records of its batch with it. Counts move only with a commit. A
        database that is down or a lost connection is not the data's fault: that is raised, never bisected.
        """
        before = [_copy_report(r) for r in reports]
        try:
            with self.sessions.begin() as session:
                write(session, items)
            return
        except Exception as exc:
            for report, copy in zip(reports, before, strict=True):
                _restore_report(report, copy)
            if not _is_data_fault(exc):
                raise
            if len(items) == 1:
                log.warning("store refused a record; quarantined", error=type(exc).__name__)
                refuse(items[0], exc)
                return
        middle = len(items) // 2
        self._write_isolating(reports, items[:middle], write, refuse)
        self._write_isolating(reports, items[middle:], write, refuse)

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
        with self.sessions.begin() as session:
            if message_id is not None and not repository.claim_messages(
                session, report.source, [safe_id(message_id)], report.run_id
            ):
                report.records_in += 1
                report.unchanged += 1
                return "duplicate"
            (row_id,) = repository.insert_source_records(session, [substitute], report.run_id)
            report.records_in += 1
            if row_id is None:
                report.unchanged += 1
                return error
            repository.add_quarantine(session, [_quarantine_entry(substitute, row_id, error)], report.run_id)
            repository.set_outcome(session, [row_id], "quarantined")
        report.quarantined += 1
        report.reasons[error.reason] += 1
        return error

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
            errors.append(_earlier_error(*hit) if hit else None)
        return errors

    def _store_sources(
        self, session: Session, reports: dict[str, LoadReport], records: list[SourceRecord]
    ) -> None:
        """One batch of several sources in one transaction: a commit per batch, not per source and batch."""
        by_source: dict[str, list[SourceRecord]] = {}
        for record in records:
            by_source.setdefault(record.source, []).append(record)
        for source, group in by_source.items():
            self._store_batch(session, reports[source], group)

    def _store_batch(
        self,
        session: Session,
        report: LoadReport,
        records: list[SourceRecord],
        *,
        refusals: Sequence[DataError | None] | None = None,
        answer_repeats: bool = False,
    ) -> list[DataError | None]:
        """Store, map and quarantine one batch in ``session``; returns each record's quarantine error.

        A record the screen refuses is stored as its stand-in and quarantined; the others go on as usual. With
        ``answer_repeats`` (pushed input, whose sender is answered per record), a record stored before is
        answered with the error it was quarantined with then; a pull sync needs no answer and skips the query.
        """
        mapper = self.registry[report.source]
        errors: list[DataError | None] = [None] * len(records)
        if not records:
            return errors
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
            report.records_in += 1
            if row_id is None:
                report.unchanged += 1
                continue
            done = _map_one(mapper, record, stored[position], row_id, faults[position])
            errors[position] = done.error
            _tally(report, done)
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
        report.older_than_stored += repository.save_canonical(
            session, report.source, canonical, mapping_version=mapper.version, pii_key=self.pii_key
        )
        repository.add_quarantine(session, quarantine, report.run_id)
        for outcome, ids in outcomes.items():
            repository.set_outcome(session, ids, outcome)
        return errors

    def replay(
        self, record_ids: Sequence[int], reports: dict[str, LoadReport] | None, *, actor: str
    ) -> list[Replayed]:
        """Map raw records already in the store again, through the registry as loaded now; one per id, in order.

        Why here: a replay must do exactly what a fresh load of the same record would — the screen, the mapping,
        partial acceptance, newest-wins — so it runs the same ``_map_one`` as ``_store_batch``. With ``reports``
        (one running run per source of these records, from ``begin``) the result is written in one transaction:
        the entities that map are upserted (an older version never replaces a newer one: by the source's time
        where both have one, else by the order the records were received), every unresolved quarantine entry of
        each record is resolved with what became of it, what still fails gets one new entry (linked to the
        replay's run), and the record's outcome is updated — so the reconciliation stays exact. A record the
        store refuses is left as it was (``refused``), the rest of the batch is written. ``reports`` None: a dry
        run, nothing is written.

        Raises ``ReplayConflict`` when another replay resolved some of the entries meanwhile (nothing of this
        batch is written then; run it again).
        """
        if reports is None:
            with self.sessions() as session:
                return self._replay_batch(session, record_ids, None, actor)
        done: dict[int, Replayed] = {}

        def write(session: Session, part: list[int]) -> None:
            done.update((r.record_id, r) for r in self._replay_batch(session, part, reports, actor))

        def refuse(record_id: int, exc: Exception) -> None:
            cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            log.warning("store refused a replayed record; left as it was", record_id=record_id,
                        error=type(cause).__name__)  # fmt: skip
            done[record_id] = Replayed(record_id, None, "refused", 0)

        self._write_isolating(list(reports.values()), list(record_ids), write, refuse)
        return [done[record_id] for record_id in record_ids if record_id in done]

    def _replay_batch(
        self, session: Session, record_ids: Sequence[int], reports: dict[str, LoadReport] | None, actor: str
    ) -> list[Replayed]:
        results: list[Replayed] = []
        canonical: dict[str, list[tuple[int, CanonicalEntity]]] = {}
        quarantine: dict[str, list[QuarantineEntry]] = {}
        resolutions: dict[int, str] = {}
        outcomes: dict[Outcome, list[int]] = {"mapped": [], "partial": [], "quarantined": []}
        for item in replay_store.stored_records(session, record_ids):
            if item.erased:
                results.append(Replayed(item.record_id, item.outcome, "not_replayable", len(item.entries)))
                continue
            record = item.record
            done = _map_one(self.registry[record.source], record, record, item.record_id,
                            screen_record(record, self.limits))  # fmt: skip
            waiting = tuple(entry.reason for entry in done.quarantine)
            results.append(Replayed(item.record_id, item.outcome, done.outcome, len(item.entries), waiting))
            if reports is None:
                continue
            report = reports[record.source]
            report.records_in += 1
            _tally(report, done)
            outcomes[done.outcome].append(item.record_id)
            canonical.setdefault(record.source, []).extend((item.record_id, e) for e in done.canonical)
            kept, added = _unchanged_failures(item.entries, done.quarantine)
            quarantine.setdefault(record.source, []).extend(added)
            for entry in item.entries:
                if entry.id not in kept:
                    what = _replay_resolution(entry, done)
                    resolutions[entry.id] = replay_store.resolution_text(
                        what, run_id=report.run_id, actor=actor
                    )
        if reports is None:
            return results
        resolved = replay_store.resolve_entries(session, resolutions)
        if resolved != len(resolutions):
            raise ReplayConflict(
                f"{len(resolutions) - resolved} of {len(resolutions)} quarantine entries were resolved by someone "
                "else while this replay re-mapped them; nothing of this batch was written",
                fix="run the replay again: it selects only what is still unresolved",
            )  # fmt: skip
        for source, items in canonical.items():
            reports[source].older_than_stored += repository.save_canonical(
                session, source, items, mapping_version=self.registry[source].version, pii_key=self.pii_key,
                in_load_order=True,
            )  # fmt: skip
        for source, entries in quarantine.items():
            repository.add_quarantine(session, entries, reports[source].run_id)
        for outcome, ids in outcomes.items():
            repository.set_outcome(session, ids, outcome)
        return results

    def mark_dead_lettered(self, source: str, message_ids: list[str]) -> None:
        """The broker confirmed these poison messages' dead-letter copies; a redelivery will not copy again."""
        if message_ids:
            with self.sessions.begin() as session:
                repository.mark_dead_lettered(session, source, [safe_id(m) for m in message_ids])

    def dead_lettered(self, source: str, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` already have a confirmed dead-letter copy (``mark_dead_lettered``)."""
        if not message_ids:
            return set()
        claims = {safe_id(m): m for m in message_ids}
        with self.sessions() as session:
            return {claims[c] for c in repository.dead_lettered(session, source, list(claims))}

    def quarantine_unreadable(
        self,
        report: LoadReport,
        stream: str,
        entries: list[tuple[str, str]],
        *,
        message_ids: list[str] | None = None,
    ) -> None:
        """Input that never became a source record (not JSON, not an object) is kept as text with its reason.

        With ``message_ids`` (pushed input), each id is claimed in the same transaction, so that a redelivery
        of the same unreadable message is not quarantined a second time.
        """
        if not entries:
            return
        rows = [
            QuarantineEntry(source=report.source, stream=stream, source_id=None, stage="receive", reason=reason,
                            message=f"[{report.source}/{stream}] unreadable input: {reason}",
                            raw_text=safe_text(text[: self.limits.max_raw_chars]))
            for reason, text in entries
        ]  # fmt: skip
        with self.sessions.begin() as session:
            if message_ids is not None:
                claims = [safe_id(m) for m in message_ids]
                new_ids = repository.claim_messages(session, report.source, claims, report.run_id)
                fresh = [row for row, claim in zip(rows, claims, strict=True) if claim in new_ids]
                report.records_in += len(rows) - len(fresh)
                report.unchanged += len(rows) - len(fresh)
                rows = fresh
            repository.add_quarantine(session, rows, report.run_id)
        report.records_in += len(rows)
        report.quarantined += len(rows)
        report.reasons.update(row.reason for row in rows)

    def add_to_run(self, part: LoadReport) -> None:
        """Add ``part``'s counts to its run as stored (a run already finished: a delivery that straddled its end)."""
        with self.sessions.begin() as session:
            repository.add_to_run(session, part.run_id, _run_counts(part))

    def finish(self, reports: Iterable[LoadReport], *, error: str | None) -> None:
        """Close the runs with their counts: succeeded, or failed with the error a scheduler should show; after a
        bulk load, refresh the planner statistics (store/statistics.py)."""
        reports = list(reports)
        with self.sessions.begin() as session:
            for report in reports:
                run = session.get(SyncRun, report.run_id)
                if run is None:
                    continue
                for column, value in _run_counts(report).items():
                    setattr(run, column, value)
                repository.finish_run(session, run, error=error)
                log.info(
                    "load finished", source=report.source, run_id=report.run_id, records_in=report.records_in,
                    unchanged=report.unchanged, mapped=report.mapped, partial=report.partial,
                    quarantined=report.quarantined, older_than_stored=report.older_than_stored,
                    status="failed" if error else "succeeded",
                )  # fmt: skip
        written = sum(r.mapped + r.partial + r.quarantined for r in reports)
        if self.analyze_after_records and written >= self.analyze_after_records:
            refresh_statistics(self.sessions, LOADED_TABLES, why=f"a load run wrote {written:,} records")


@dataclass(frozen=True)
class _Mapped:
    """What the mapping made of one stored record: its outcome, canonical entities and new quarantine entries."""

    outcome: Outcome
    canonical: list[CanonicalEntity]
    quarantine: list[QuarantineEntry]
    error: DataError | None = None  # the whole record's failure (outcome quarantined)
    warnings: int = 0


def _map_one(
    mapper: Mapper, record: SourceRecord, stored: SourceRecord, row_id: int, fault: DataError | None
) -> _Mapped:
    """Map one record whose raw row is ``row_id`` (``stored``: what the raw store holds, a stand-in for an unsafe
    record); ``fault`` is the screen's (or a connector's) refusal, which quarantines it whole. The one place a
    record's outcome is decided, for a fresh load and a replay alike."""
    try:
        if fault is not None:
            raise fault
        result = mapper.map(record)
        _check_keys(record, result.entities)
    except DataError as exc:
        return _Mapped("quarantined", [], [_quarantine_entry(stored, row_id, exc)], error=exc)
    entries = [_entity_quarantine_entry(stored, row_id, rejected) for rejected in result.rejected]
    canonical = [CanonicalEntity(e.entity_type, e.entity_key, e.body, result.warnings, result.as_of)
                 for e in result.entities]  # fmt: skip
    return _Mapped(
        "partial" if result.rejected else "mapped", canonical, entries, warnings=len(result.warnings)
    )


def _tally(report: LoadReport, done: _Mapped) -> None:
    """Count one mapped record in its run's report (``records_in`` is counted by the caller)."""
    if done.outcome == "quarantined":
        report.quarantined += 1
    elif done.outcome == "partial":
        report.partial += 1
    else:
        report.mapped += 1
    report.reasons.update(entry.reason for entry in done.quarantine)
    report.warnings += done.warnings
    report.entities.update(entity.entity_type for entity in done.canonical)


def _unchanged_failures(
    entries: Sequence[OpenEntry], failures: Sequence[QuarantineEntry]
) -> tuple[set[int], list[QuarantineEntry]]:
    """Pair a replayed record's new failures with its open entries: one that fails exactly as before (same entity,
    reason, field and message) keeps its entry — its age and its run stay true, and replaying an unfixed failure
    twice changes nothing. Returns the ids of the entries kept and the failures that need an entry of their own."""
    waiting: dict[tuple[str | None, str, str | None, str], list[int]] = {}
    for entry in entries:
        waiting.setdefault((entry.entity_type, entry.reason, entry.field, entry.message), []).append(entry.id)
    kept: set[int] = set()
    added: list[QuarantineEntry] = []
    for failure in failures:
        same = waiting.get((failure.entity_type, failure.reason, failure.field, failure.message))
        if same:
            kept.add(same.pop(0))
        else:
            added.append(failure)
    return kept, added


def _replay_resolution(entry: OpenEntry, done: _Mapped) -> str:
    """What became of one old quarantine entry when its record was mapped again (its ``resolution``)."""
    if done.outcome == "quarantined":
        return f"quarantined again as {done.quarantine[0].reason}"
    if entry.entity_type is None:  # the whole record had waited
        return "mapped" if done.outcome == "mapped" else "partly mapped"
    again = [q.reason for q in done.quarantine if q.entity_type == entry.entity_type]
    if again:
        return f"quarantined again as {again[0]}"
    if any(entity.entity_type == entry.entity_type for entity in done.canonical):
        return "mapped"
    return "not emitted by the mapping any more"


def _run_counts(report: LoadReport) -> dict[str, int]:
    """The sync_run columns a report's counts go into."""
    return {"records_in": report.records_in, "records_unchanged": report.unchanged, "records_mapped": report.mapped,
            "records_quarantined": report.quarantined, "records_partial": report.partial}  # fmt: skip


def _copy_report(report: LoadReport) -> LoadReport:
    return replace(report, entities=Counter(report.entities), reasons=Counter(report.reasons))


def _restore_report(report: LoadReport, copy: LoadReport) -> None:
    """Put the counts back as they were before a transaction that rolled back (the caller holds ``report``)."""
    for name in (f.name for f in fields(LoadReport)):  # every count, including any added later
        setattr(report, name, getattr(copy, name))


def _is_data_fault(exc: Exception) -> bool:
    """Did the store refuse the data (split the batch), or is the store itself unwell (raise, retry later)?"""
    if isinstance(exc, STORE_UNAVAILABLE):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return False
    return isinstance(exc, StatementError | ValueError | TypeError | RecursionError | OverflowError)


def _earlier_error(reason: str, message: str, field: str | None) -> DataError:
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


def _quarantine_entry(record: SourceRecord, row_id: int, exc: DataError) -> QuarantineEntry:
    stage = _stage(exc.reason)
    return QuarantineEntry(
        source=record.source, stream=record.stream, source_id=record.source_id, stage=stage, reason=exc.reason,
        message=safe_text(str(exc)), field=safe_id(exc.field) if exc.field else None, source_record_id=row_id,
    )  # fmt: skip


def trial_map(
    mapper: Mapper, record: SourceRecord, limits: InputLimits, fault: DataError | None = None
) -> tuple[Outcome, list[str]]:
    """What a load would make of ``record`` — its outcome and the quarantine reasons — without a store.

    Why: ``autohub sources check`` must say what a sync of a new source would do before anything is written,
    by the same screen and the same per-record code a load runs.
    """
    done = _map_one(mapper, record, record, 0, fault or screen_record(record, limits))
    return done.outcome, [entry.reason for entry in done.quarantine]
