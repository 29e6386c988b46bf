"""Runs a connector: pages in, records loaded and committed, then the state saved — in that order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog

from connectors.base import Connector
from connectors.sync_clock import SyncClock, sync_clock
from pipeline import Loader, LoadReport
from store import repository

log = structlog.get_logger(__name__)


def run_sync(
    connector: Connector,
    loader: Loader,
    *,
    streams: Iterable[str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    clock: SyncClock | None = None,
) -> LoadReport:
    """Sync the given streams (default: all) of one connector into the store; returns the run's counts.

    Idempotent: a re-run reads from the saved watermarks; pages read twice (after a crash between the
    commit and the state save, or inside a look-back window) are recognised by the raw store. ``clock`` (default:
    started now, the settings' defaults) caps every watermark at the run's start and bounds the run's time.
    """
    report = loader.begin(connector.source)
    clock = clock or SyncClock()
    try:
        with sync_clock(clock):  # read while iterating: a generator runs in the context of whoever pulls it
            for stream in streams or connector.streams:
                _sync_stream(connector, loader, report, stream, clock, on_progress)
    except Exception as exc:
        loader.finish([report], error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        connector.close()
    loader.finish([report], error=None)
    return report


def _sync_stream(
    connector: Connector, loader: Loader, report: LoadReport, stream: str, clock: SyncClock,
    on_progress: Callable[[int], None] | None,
) -> None:  # fmt: skip
    with loader.sessions() as session:
        state = repository.get_watermark(session, connector.source, stream)
    pages = 0
    for page in connector.read(stream, state):
        loader.load_page(report, page.records, refused=page.refused)
        loader.quarantine_unreadable(report, stream, page.unreadable)
        with loader.sessions.begin() as session:  # the page's watermark and the run's heartbeat
            if not page.keeps_state:
                repository.save_watermark(session, connector.source, stream, page.state, report.run_id)
            loader.checkpoint(report, session)
        pages += 1
        if on_progress:
            on_progress(len(page.records) + len(page.unreadable) + len(page.refused))
        clock.check(connector.source)  # past the run's deadline: stop here, with this page stored
    log.info("stream synced", source=connector.source, stream=stream, pages=pages,
             records_in=report.records_in)  # fmt: skip
