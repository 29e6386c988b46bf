"""Golden matching: incremental when a source's Asset changed, a full re-run on the weekly schedule.

Calls ``jobs.matching.match`` — the function behind ``autohub match run``. Asset-triggered runs match only the
parties written since the last run — from any source, the pushed DMS and portal records included — and
refresh the golden vehicles whose evidence or owners changed (a new store gets its first full run); the
weekly and manual runs re-match everything and rebuild every golden vehicle. Param ``mode`` overrides
(full | incremental). Emits ``autohub://golden``.

The matching follower (``autohub match follow``) matches the pushed sources within a second but is no Airflow
task and emits no ``autohub://golden`` event: from outside Airflow an asset event needs the REST API and an API
user's credential in every follower, and under load it would be one event per batch. A downstream DAG that
needs the follower's freshness polls the change feed (``GET /v1/changes``) instead; this DAG's event still
marks each scheduled run (docs/scaling.md, "Matching as records arrive").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import (
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)

from jobs.config import declared_pull_sources, orchestration_settings

GOLDEN = Asset("autohub://golden")
_settings = orchestration_settings()
# Every declared pull source's Asset (its sync DAG updates it when new records landed): a source added to the
# sources file wakes matching as the shipped ones do.
_pulled = [Asset(f"autohub://canonical/{source}") for source in declared_pull_sources(_settings)]
_weekly = (
    CronTriggerTimetable(_settings.full_match_schedule, timezone="UTC")
    if _settings.full_match_schedule
    else None
)
_schedule: Any = (
    AssetOrTimeSchedule(timetable=_weekly, assets=AssetAny(*_pulled))
    if _weekly and _pulled
    else _weekly or (AssetAny(*_pulled) if _pulled else None)
)


@dag(
    dag_id="autohub_golden_matching",
    schedule=_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # golden writes of two runs would contend for the same clusters
    default_args=_settings.task_defaults(),
    params={
        "mode": Param(
            "auto",
            enum=["auto", "full", "incremental"],
            description="auto: incremental when woken by a source, else full",
        )
    },
    tags=["autohub", "matching"],
    doc_md=__doc__,
)
def autohub_golden_matching() -> None:
    @task(outlets=[GOLDEN])
    def match() -> dict[str, Any]:
        from core.settings import get_settings
        from jobs.matching import FullMatch, describe
        from jobs.matching import match as run_match
        from jobs.under_airflow import failing_fast

        context = get_current_context()
        mode = context["params"]["mode"]
        if mode == "auto":
            mode = "auto" if context["triggering_asset_events"] else "full"
        with failing_fast():
            result = run_match(get_settings(), mode)
        print(describe(result))
        if isinstance(result, FullMatch):
            return {
                "mode": "full",
                "run_id": result.parties.run_id,
                "golden": result.parties.clusters,
                "vehicles": result.vehicles["vehicles"],
            }
        return {
            "mode": "incremental",
            "run_id": result.parties.run_id,
            "records": result.parties.records,
            "vehicles": result.vehicles["vehicles"],
        }

    match()


autohub_golden_matching()
