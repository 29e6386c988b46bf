"""One sync DAG per declared pull source (the sources file: the ERP, finance and insurance as shipped, and any
other declared there): sync from the watermarks, then announce the Asset.

The task calls ``jobs.sync.sync_source`` — the function behind ``autohub sync SOURCE``. A re-run of a failed run
is idempotent (pages are committed before their watermark moves; records read twice are recognised). A
configuration error — a source declared wrongly, a variable it references missing, credentials refused — fails
the task at once (``jobs.under_airflow.failing_fast``); an outage is retried with backoff. The
Asset ``autohub://canonical/SOURCE`` is updated only when new records landed, so matching is not woken for
nothing; the announce task is skipped otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from jobs.config import declared_pull_sources, orchestration_settings


def canonical_asset(source: str) -> Asset:
    return Asset(f"autohub://canonical/{source}")


def _sync_dag(source: str, schedule: str | None, defaults: dict[str, Any]) -> None:
    @dag(
        dag_id=f"autohub_sync_{source}",
        schedule=schedule,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,  # two syncs of one source would race for the same watermark
        default_args=defaults,
        tags=["autohub", "sync", source],
        doc_md=__doc__,
    )
    def sync_source_dag() -> None:
        @task
        def sync() -> dict[str, Any]:
            from core.settings import get_settings
            from jobs.sync import describe, sync_source
            from jobs.under_airflow import failing_fast

            with failing_fast():  # a source declared wrongly or refused credentials: no retries
                report = sync_source(source, get_settings())
            print(describe(report))
            return {"run_id": report.run_id, "records_in": report.records_in, "mapped": report.mapped,
                    "partial": report.partial, "unchanged": report.unchanged,
                    "quarantined": report.quarantined}  # fmt: skip

        @task(outlets=[canonical_asset(source)])
        def announce(report: dict[str, Any]) -> int:
            landed = int(report["mapped"]) + int(report.get("partial", 0))  # a partly mapped record lands too
            if not landed:
                raise AirflowSkipException(f"no new {source} records landed; matching is not woken")
            return landed

        announce(sync())

    sync_source_dag()


_settings = orchestration_settings()
for _source, _schedule in declared_pull_sources(_settings).items():
    _sync_dag(_source, _schedule, _settings.task_defaults())
