"""Data-quality scorecard per source and per dealer, filed as JSON for the data stewards.

Calls ``jobs.quality.file_scorecard`` — the function behind ``autohub quality``; the file has the same shape
as ``GET /v1/quality``. Runs daily and after each golden-matching run is not needed: the scorecard reads the
store as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

from jobs.config import orchestration_settings

_settings = orchestration_settings()


@dag(
    dag_id="autohub_quality",
    schedule=_settings.quality_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=_settings.task_defaults(),
    tags=["autohub", "quality"],
    doc_md=__doc__,
)
def autohub_quality() -> None:
    @task
    def scorecard() -> str:
        from core.settings import get_settings
        from jobs.quality import file_scorecard
        from jobs.under_airflow import failing_fast

        with failing_fast():
            report = file_scorecard(get_settings())
        print("\n".join(report.summary))
        return str(report.path)

    scorecard()


autohub_quality()
