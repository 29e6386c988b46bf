"""An Airflow 3 installation in a temporary AIRFLOW_HOME (SQLite metadata), the demo sources served by their
fakes, and an SQLite hub store — the DAGs are run end to end with ``airflow dags test`` against them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
AIRFLOW = Path(sys.executable).with_name("airflow")
DAG_IDS = {"autohub_sync_erp", "autohub_sync_finance", "autohub_sync_insurance", "autohub_golden_matching",
           "autohub_dms_health", "autohub_quality", "autohub_recall_export"}  # fmt: skip


@dataclass
class AirflowHome:
    home: Path
    hub_dir: Path
    env: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return f"sqlite:///{(self.hub_dir / 'autohub.db').as_posix()}"

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return subprocess.run([str(AIRFLOW), *args], env={**self.env, **(env or {})}, cwd=self.home,
                              capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip

    def dag_test(self, dag_id: str, conf: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        args = ["dags", "test", dag_id, *(["--conf", json.dumps(conf)] if conf else [])]
        return self.run(*args, env=env)

    def asset_events(self, name: str) -> int:
        """How many events Airflow recorded for an Asset, by its name (Airflow stores ``autohub://golden`` with a
        trailing slash as the URI); read from the metadata DB by the test, never by a task."""
        with sqlite3.connect(self.home / "airflow.db") as db:
            row = db.execute("SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?",
                             (name,)).fetchone()  # fmt: skip
        return int(row[0])


def _clean_env(home: Path, hub_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOHUB_", "AIRFLOW"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AUTOHUB_DATA_DIR": str(hub_dir), "AUTOHUB_ENV": "test", "AUTOHUB_ORCHESTRATION__RETRIES": "0",
        "AUTOHUB_LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore",
    })  # fmt: skip
    return env


@pytest.fixture(scope="package")
def demo_payloads() -> dict[str, dict[str, list[dict[str, Any]]]]:
    from sample_data import generate

    payloads: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in generate(300, 7):
        payloads[record.source][record.stream].append(record.payload)
    return payloads


@pytest.fixture(scope="package")
def airflow_home(
    tmp_path_factory: pytest.TempPathFactory, demo_payloads: dict[str, Any]
) -> Iterator[AirflowHome]:
    """Airflow migrated and the DAGs serialized once; the ERP, finance and insurance fakes serve 300 people."""
    from fakes.erp_soap import ErpSoapServer
    from fakes.finance_db import create_accounting_db
    from fakes.insurance_api import InsuranceApi
    from store.migrate import upgrade

    home = tmp_path_factory.mktemp("airflow")
    hub_dir = tmp_path_factory.mktemp("hub")
    env = _clean_env(home, hub_dir)
    for step in (["db", "migrate"], ["dags", "reserialize"]):
        done = subprocess.run([str(AIRFLOW), *step], env=env, cwd=home, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, f"airflow {' '.join(step)}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    finance_url = f"sqlite:///{(hub_dir / 'accounting.db').as_posix()}"
    create_accounting_db(finance_url, demo_payloads["finance"]["customers"])
    erp = ErpSoapServer(records=demo_payloads["erp"])
    insurer = InsuranceApi(policies=demo_payloads["insurance"]["policies"])
    wsdl_url, insurer_url = erp.start(), insurer.start()
    airflow = AirflowHome(home, hub_dir, env)
    upgrade(airflow.store_url)
    env.update({"AUTOHUB_ERP__WSDL_URL": wsdl_url, "AUTOHUB_FINANCE__URL": finance_url,
                "AUTOHUB_INSURANCE__BASE_URL": insurer_url,
                "AUTOHUB_INSURANCE__CLIENT_SECRET": insurer.client_secret})  # fmt: skip
    try:
        yield airflow
    finally:
        erp.stop()
        insurer.stop()
