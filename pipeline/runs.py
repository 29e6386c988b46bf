"""Sync runs: begun before a load, checkpointed while it goes on, finished with its counts — what a scheduler and
``GET /v1/sync-runs`` read.

Why a heartbeat: a run whose process was killed never finishes itself. A running run writes its counts and a
heartbeat as it goes (a pull sync after every page, a consumer every few seconds), and one silent for
``abandoned_after_s`` is closed as abandoned when its source next begins a run, with the counts of what it stored.
After a bulk load the planner statistics of what it wrote are refreshed (``store.statistics``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from pipeline.batch import BatchWriter
from pipeline.report import LoadReport
from store import repository
from store.statistics import LOADED_TABLES, refresh_statistics
from store.tables import SyncRun

log = structlog.get_logger(__name__)


class RunKeeping(BatchWriter):
    # A running run silent this long belonged to a process that died: closed as abandoned at the next begin.
    abandoned_after_s: float
    # A run that wrote this many records refreshes the planner statistics of what it wrote (0: never).
    analyze_after_records: int

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
            repository.checkpoint_run(session, report.run_id, report.run_counts)
            return
        with self.sessions.begin() as own:
            repository.checkpoint_run(own, report.run_id, report.run_counts)

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

    def add_to_run(self, part: LoadReport) -> None:
        """Add ``part``'s counts to its run as stored (a run already finished: a delivery that straddled its end)."""
        with self.sessions.begin() as session:
            repository.add_to_run(session, part.run_id, part.run_counts)

    def finish(self, reports: Iterable[LoadReport], *, error: str | None) -> None:
        """Close the runs with their counts: succeeded, or failed with the error a scheduler should show; after a
        bulk load, refresh the planner statistics (store/statistics.py)."""
        reports = list(reports)
        with self.sessions.begin() as session:
            for report in reports:
                run = session.get(SyncRun, report.run_id)
                if run is None:
                    continue
                for column, value in report.run_counts.items():
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
