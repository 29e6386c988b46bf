"""Pull one declared source (an ERP, a database, a partner API …) from its saved watermarks into the store."""

from __future__ import annotations

from collections.abc import Callable

from connectors.sources import DeclaredSource, declared_source
from core.settings import Settings
from jobs.store_access import store_loader
from pipeline import LoadReport


def pull_source(name: str, settings: Settings) -> DeclaredSource:
    """The declared pull source ``name`` (the sources file, core/sources.yaml by default)."""
    from core.errors import ConfigError

    source = declared_source(settings, name)
    if not source.pull:
        raise ConfigError(f"source {name!r} pushes to the hub ({source.kind.name}); it is not synced",
                          field="source", fix="its receiver stores records as they come: autohub dms consume, or the webhook route")  # fmt: skip
    return source


def sync_source(
    name: str, settings: Settings, on_progress: Callable[[int], None] | None = None
) -> LoadReport:
    """One incremental, idempotent sync: records after the watermark are loaded page by page, each page
    committed before its watermark moves, so a re-run after a failure starts where the last commit left off."""
    from connectors.runner import run_sync
    from connectors.sync_clock import SyncClock

    source = pull_source(name, settings)
    connector = source.connector(settings.data_dir)
    with store_loader(settings, aliases={name: source.mapping}) as loader:
        clock = SyncClock(
            clock_margin_s=settings.sync_clock_margin_s, deadline_s=settings.sync_run_deadline_s
        )
        return run_sync(connector, loader, on_progress=on_progress, clock=clock)


def describe(report: LoadReport) -> str:
    """One line a person or a scheduler's log can read."""
    line = (f"{report.source}: run {report.run_id} · {report.records_in:,} records in · {report.unchanged:,} unchanged · "
            f"{report.mapped:,} mapped · {report.quarantined:,} quarantined · {report.partial:,} partly mapped")  # fmt: skip
    return line + "".join(f"\n  quarantined {n:,} × {reason}" for reason, n in report.reasons.most_common())
