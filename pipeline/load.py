"""Loads source records into the store through their source's mapping, in batches, one transaction each.

A batch's raw records, canonical records, quarantine entries and outcomes commit together; a crash leaves
no half-mapped batch behind, and a re-run finds the raw records already stored and skips them (idempotent).

A record whose mapping rejected some of its entities (``quarantine_entity``, mappings/policies.py) is
*partly mapped*: its good entities become canonical records, each rejected entity gets its own quarantine
entry linked to the record, and the record's outcome is ``partial`` — counted apart, so that the
reconciliation stays exact.

``Loader`` is what callers hold; its parts live in the rooms of this folder: the batch core and its isolation
of refused records (``batch``), runs and heartbeats (``runs``), pushed messages and dead letters (``inbox``),
replay after a fix (``replay``), and the decision on one record (``records``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from canonical_model.entities.source import SourceRecord
from core.errors import DataError
from mappings import MappingRegistry
from pipeline.batch import Counted
from pipeline.inbox import InboxLoading
from pipeline.records import batches, to_source_record
from pipeline.replay import Replaying
from pipeline.report import LoadReport
from pipeline.runs import RunKeeping
from pipeline.screen import InputLimits

__all__ = ["LoadReport", "Loader", "to_source_record"]


class Loader(RunKeeping, InboxLoading, Replaying):
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
        super().__init__(sessions, registry, pii_key=pii_key, batch_size=batch_size, limits=limits)
        self.abandoned_after_s = abandoned_after_s
        self.analyze_after_records = analyze_after_records

    def load(
        self, records: Iterable[SourceRecord], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, LoadReport]:
        """Records of any sources, in batches of ``batch_size``, each batch one transaction for all its sources."""
        reports: dict[str, LoadReport] = {}

        def write(session: Session, part: list[SourceRecord]) -> Counted:
            by_source: dict[str, list[SourceRecord]] = {}
            for record in part:
                by_source.setdefault(record.source, []).append(record)
            # Sources in one order in every loader: each source's canonical writes are serialised across
            # loaders (store.repository.save_canonical), and taking them in one order cannot deadlock.
            return [
                (reports[s], self._store_batch(session, reports[s], by_source[s])[1])
                for s in sorted(by_source)
            ]

        try:
            for batch in batches(records, self.batch_size):
                for record in batch:
                    if record.source not in reports:
                        reports[record.source] = self.begin(record.source)
                self._write_isolating(
                    batch, write, lambda record, exc: self._refuse(reports[record.source], record, exc)
                )
                if on_progress:
                    on_progress(len(batch))
        except Exception as exc:
            self.finish(reports.values(), error=f"{type(exc).__name__}: {exc}")
            raise
        self.finish(reports.values(), error=None)
        return reports

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

        def write(session: Session, part: list[tuple[SourceRecord, DataError | None]]) -> Counted:
            counted = self._store_batch(session, report, [r for r, _ in part], refusals=[e for _, e in part])[
                1
            ]
            return [(report, counted)]

        for batch in batches(items, self.batch_size):
            self._write_isolating(batch, write, lambda item, exc: self._refuse(report, item[0], exc))
