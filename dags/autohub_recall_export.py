"""Recall export: a campaign's affected cars with their current owners, as a CSV file for the filing.

Triggered by hand (or by another system through Airflow's API) with the campaign's criteria as params; calls
``jobs.recall_export.export_recall`` — the function behind ``autohub recall export``. Contacts are masked
unless ``clear`` is set; a clear file is audited with the campaign. Re-running writes the same file again
(written to a temporary name, then renamed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

from jobs.config import orchestration_settings

_settings = orchestration_settings()
_LIST = ["null", "array"]


@dag(
    dag_id="autohub_recall_export",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args=_settings.task_defaults(),
    params={
        "campaign": Param("", type="string", minLength=1, description="the campaign's filing number"),
        "vins": Param(None, type=_LIST, description="affected VINs, instead of criteria"),
        "wmi": Param(None, type=_LIST, description="world manufacturer identifiers"),
        "models": Param(None, type=_LIST),
        "model_years": Param(None, type=_LIST),
        "plants": Param(None, type=_LIST),
        "produced_from": Param(None, type=["null", "string"], format="date"),
        "produced_to": Param(None, type=["null", "string"], format="date"),
        "clear": Param(False, type="boolean", description="owners' contacts in clear (audited)"),
        "output": Param(None, type=["null", "string"], description="CSV path; default in the artefacts dir"),
    },
    tags=["autohub", "recall"],
    doc_md=__doc__,
)
def autohub_recall_export() -> None:
    @task
    def export() -> dict[str, Any]:
        from pathlib import Path

        from core.settings import get_settings
        from jobs.recall_export import export_recall, recall_request
        from jobs.under_airflow import failing_fast

        p = get_current_context()["params"]
        with failing_fast():  # criteria missing or a wrong setting: a retry cannot help
            request = recall_request(p["campaign"], vins=p["vins"], wmi=p["wmi"], models=p["models"],
                                     model_years=p["model_years"], plants=p["plants"],
                                     produced_from=p["produced_from"], produced_to=p["produced_to"])  # fmt: skip
            done = export_recall(
                get_settings(), request, path=Path(p["output"]) if p["output"] else None, clear=p["clear"]
            )
        print(f"{done.vehicles:,} affected cars, {done.without_owner:,} without a known owner, "
              f"{done.invalid_vins:,} invalid and {done.not_found:,} unknown VINs → {done.path}")  # fmt: skip
        return {"path": str(done.path), "vehicles": done.vehicles, "without_owner": done.without_owner}

    export()


autohub_recall_export()
