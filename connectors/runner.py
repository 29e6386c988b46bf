"""Runs a connector: pages in, records loaded and committed, then the state saved — in that order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog

from connectors.base import Connector
from pipeline import Loader, LoadReport
from store import repository

log = structlog.get_logger(__name__)


def run_sync(
    connector: Connector,
    loader: Loader,
    *,
    streams: Iterable[str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Sync the given streams (default: all) of one connector into the store; returns the run's counts.

    Idempotent: a re-run reads from the saved watermarks; pages read twice (after a crash between the
    commit and the state save, or inside a look-back window) are recognised by the raw store.
    """
    report = loader.begin(connector.source)
    try:
        for stream in streams or connector.streams:
            with loader.sessions() as session:
                state = repository.get_watermark(session, connector.source, stream)
            pages = 0
            for page in connector.read(stream, state):
                loader.load_page(report, page.records, refused=page.refused)
                loader.quarantine_unreadable(report, stream, page.unreadable)
                with loader.sessions.begin() as session:  # the page's watermark and the run's heartbeat
                    if not page.keeps_state:
                        repository.save_watermark(
                            session, connector.source, stream, page.state, report.run_id
                        )
                    loader.checkpoint(report, session)
                pages += 1
                if on_progress:
                    on_progress(len(page.records) + len(page.unreadable) + len(page.refused))
            log.info("stream synced", source=connector.source, stream=stream, pages=pages,
                     records_in=report.records_in)  # fmt: skip
    except Exception as exc:
        loader.finish([report], error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        connector.close()
    loader.finish([report], error=None)
    return report
