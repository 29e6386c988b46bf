"""Pull one source (ERP, finance, insurance) from its saved watermarks into the store."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from autohub.settings import Settings
from connectors.base import Connector
from jobs.store_access import store_loader
from pipeline import LoadReport


class PullSource(StrEnum):
    """The sources the hub pulls on a schedule; the DMS and the portal push (consumer, webhook)."""

    ERP = "erp"
    FINANCE = "finance"
    INSURANCE = "insurance"


def connector_for(source: PullSource, settings: Settings) -> Connector:
    """The configured connector of a pull source (its settings block: ``AUTOHUB_ERP__*`` and so on)."""
    if source is PullSource.ERP:
        from connectors.erp_soap import ErpSoapConnector

        return ErpSoapConnector(settings.erp, cache_path=settings.data_dir / "zeep-cache.db")
    if source is PullSource.FINANCE:
        from connectors.finance_sql import FinanceSqlConnector

        return FinanceSqlConnector(settings.finance)
    from connectors.insurance_rest import InsuranceRestConnector

    return InsuranceRestConnector(settings.insurance)


def sync_source(
    source: PullSource, settings: Settings, on_progress: Callable[[int], None] | None = None
) -> LoadReport:
    """One incremental, idempotent sync: records after the watermark are loaded page by page, each page
    committed before its watermark moves, so a re-run after a failure starts where the last commit left off."""
    from connectors.runner import run_sync

    connector = connector_for(source, settings)
    with store_loader(settings) as loader:
        return run_sync(connector, loader, on_progress=on_progress)


def describe(report: LoadReport) -> str:
    """One line a person or a scheduler's log can read."""
    line = (f"{report.source}: run {report.run_id} · {report.records_in:,} records in · {report.unchanged:,} unchanged · "
            f"{report.mapped:,} mapped · {report.quarantined:,} quarantined · {report.partial:,} partly mapped")  # fmt: skip
    return line + "".join(f"\n  quarantined {n:,} × {reason}" for reason, n in report.reasons.most_common())
