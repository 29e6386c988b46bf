"""Every DAG run end to end with ``airflow dags test`` on the demo sources (the tests run in file order: the
syncs fill the store that matching, quality and the recall export then read)."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.dags.conftest import AirflowHome

PULL_SOURCES = ("erp", "finance", "insurance")


def _store_count(airflow_home: AirflowHome, statement: object) -> int:
    from store.engine import create_store_engine, session_factory

    engine = create_store_engine(airflow_home.store_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(statement) or 0)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _raw_records(airflow_home: AirflowHome, source: str) -> int:
    from store.tables import SourceRecordRow

    return _store_count(
        airflow_home,
        select(func.count()).select_from(SourceRecordRow).where(SourceRecordRow.source == source),
    )


def _ok(done: object) -> None:
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"  # type: ignore[attr-defined]


def test_each_sync_dag_loads_its_source_and_announces_its_asset(airflow_home: AirflowHome) -> None:
    for source in PULL_SOURCES:
        _ok(airflow_home.dag_test(f"autohub_sync_{source}"))
        assert _raw_records(airflow_home, source) > 0, source
        assert airflow_home.asset_events(f"autohub://canonical/{source}") == 1, source


def test_a_sync_with_nothing_new_does_not_wake_matching(airflow_home: AirflowHome) -> None:
    before = _raw_records(airflow_home, "erp")
    _ok(airflow_home.dag_test("autohub_sync_erp"))
    assert _raw_records(airflow_home, "erp") == before
    assert airflow_home.asset_events("autohub://canonical/erp") == 1  # announce skipped: no new event


def test_a_failed_sync_carries_the_connector_message_and_its_rerun_is_idempotent(
    airflow_home: AirflowHome,
) -> None:
    before = _raw_records(airflow_home, "insurance")
    broken = {"AUTOHUB_INSURANCE__CLIENT_SECRET": "wrong-secret"}
    failed = airflow_home.dag_test("autohub_sync_insurance", env=broken)
    assert failed.returncode != 0
    log = failed.stdout + failed.stderr
    assert "insurance API refused our client credentials" in log, log[-4000:]
    _ok(airflow_home.dag_test("autohub_sync_insurance"))
    assert _raw_records(airflow_home, "insurance") == before


def _golden(airflow_home: AirflowHome, entity_type: str) -> list[dict[str, object]]:
    from store.engine import create_store_engine, session_factory
    from store.tables import GoldenRecordRow

    engine = create_store_engine(airflow_home.store_url)
    try:
        with session_factory(engine)() as session:
            rows = session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == entity_type,
                                                                 GoldenRecordRow.status == "active"))  # fmt: skip
            return [dict(r.body) for r in rows]
    finally:
        engine.dispose()


def test_golden_matching_dag_builds_golden_records_and_announces_them(airflow_home: AirflowHome) -> None:
    _ok(airflow_home.dag_test("autohub_golden_matching"))  # a manual run: the full re-run
    parties, vehicles = _golden(airflow_home, "party"), _golden(airflow_home, "vehicle")
    assert parties
    assert vehicles
    assert airflow_home.asset_events("autohub://golden") == 1
    incremental = airflow_home.dag_test("autohub_golden_matching", conf={"mode": "incremental"})
    _ok(incremental)
    assert "new or changed party records" in incremental.stdout + incremental.stderr
    assert len(_golden(airflow_home, "party")) == len(parties)  # nothing changed since the full run
    assert airflow_home.asset_events("autohub://golden") == 2


def test_quality_dag_files_the_scorecard(airflow_home: AirflowHome) -> None:
    _ok(airflow_home.dag_test("autohub_quality"))
    filed = sorted((airflow_home.hub_dir / "artefacts").glob("quality-*.json"))
    assert len(filed) == 1
    card = json.loads(filed[0].read_text(encoding="utf-8"))
    by_source = {s["source"]: s for s in card["sources"]}
    assert set(PULL_SOURCES) <= set(by_source)
    for source in PULL_SOURCES:
        assert by_source[source]["received"] == _raw_records(airflow_home, source)


def test_recall_export_dag_writes_the_campaign_file(airflow_home: AirflowHome, tmp_path: Path) -> None:
    vehicles = _golden(airflow_home, "vehicle")
    wmi = str(vehicles[0]["vin"])[:3]
    expected = {str(v["vin"]) for v in vehicles if str(v["vin"]).startswith(wmi)}
    target = tmp_path / "recall.csv"
    _ok(airflow_home.dag_test("autohub_recall_export", conf={"campaign": "SAMR-TEST-1", "wmi": [wmi],
                                                             "output": str(target)}))  # fmt: skip
    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["vin"] for r in rows} == expected
    assert all(r["legal_basis"] == "legal_obligation" for r in rows)
    assert all("****" in r["mobile"] for r in rows if r["mobile"])  # masked unless clear is asked for


def test_recall_export_dag_refuses_a_campaign_without_criteria(airflow_home: AirflowHome) -> None:
    refused = airflow_home.dag_test("autohub_recall_export", conf={"campaign": "SAMR-TEST-2"})
    assert refused.returncode != 0
    assert "name at least one criterion" in refused.stdout + refused.stderr


@pytest.mark.rabbitmq
def test_dms_health_dag_fails_loudly_past_the_limits(airflow_home: AirflowHome) -> None:
    import secrets

    from connectors.dms_amqp import DmsAmqpConfig, connect, declare_topology, delete_topology, publish_events

    tag = secrets.token_hex(4)
    names = {"exchange": f"autohub.test.{tag}", "queue": f"autohub.test.{tag}.events",
             "dead_letter_exchange": f"autohub.test.{tag}.dlx", "dead_letter_queue": f"autohub.test.{tag}.dead"}  # fmt: skip
    config = DmsAmqpConfig(**names)
    connection = connect(config)
    declare_topology(connection.channel(), config)
    connection.close()
    env = {f"AUTOHUB_DMS__{k.upper()}": v for k, v in names.items()}
    try:
        event = {"event_id": "e-1", "event_type": "lead_created", "dealer_code": "D1", "occurred_at": "2026-01-01T00:00:00Z", "data": {}}  # fmt: skip
        publish_events(config, [event, {**event, "event_id": "e-2"}, {**event, "event_id": "e-3"}])
        backlog = airflow_home.dag_test(
            "autohub_dms_health", env={**env, "AUTOHUB_ORCHESTRATION__DMS_MAX_READY": "2"}
        )
        assert backlog.returncode != 0
        assert "3 event(s) waiting in" in backlog.stdout + backlog.stderr
        healthy = {**env, "AUTOHUB_ORCHESTRATION__DMS_MAX_READY": "10", "AUTOHUB_ORCHESTRATION__DMS_REQUIRE_CONSUMER": "false"}  # fmt: skip
        _ok(airflow_home.dag_test("autohub_dms_health", env=healthy))
        connection = connect(config)
        connection.channel().basic_publish(config.dead_letter_exchange, "", b"{}")  # one poison event
        connection.close()
        dead = airflow_home.dag_test("autohub_dms_health", env=healthy)
        assert dead.returncode != 0
        assert "1 event(s) dead-lettered in" in dead.stdout + dead.stderr
        unattended = airflow_home.dag_test(
            "autohub_dms_health",
            env={
                **env,
                "AUTOHUB_ORCHESTRATION__DMS_MAX_READY": "10",
                "AUTOHUB_ORCHESTRATION__DMS_MAX_DEAD": "1",
            },
        )
        assert unattended.returncode != 0
        assert "no consumer is attached" in unattended.stdout + unattended.stderr
    finally:
        connection = connect(config)
        delete_topology(connection.channel(), config)
        connection.close()


DEALER_MAPPING = """
source: dealer_csv
version: 1
streams:
  customers:
    source_id: 客户编号
    required: [客户编号, 客户名称]
    emit:
      - entity: party
        key: [$source_id]
        fields:
          kind: infer
          name: {from: 客户名称, transform: person_name}
          contact_points:
            - {from: 手机, transform: mobile_contact, on_error: drop}
"""


def test_a_source_declared_with_a_mapping_only_is_synced_by_its_own_dag(
    airflow_home: AirflowHome, tmp_path: Path
) -> None:
    """Issue #17: a dealer's monthly file — a declaration in a sources file and a YAML mapping, no Python — gets a
    sync DAG of its own that loads it and announces its Asset."""
    shipped = (Path(__file__).resolve().parents[2] / "core" / "sources.yaml").read_text(encoding="utf-8")
    drop, maps = tmp_path / "drop", tmp_path / "maps"
    drop.mkdir()
    maps.mkdir()
    (maps / "dealer_csv.yaml").write_text(DEALER_MAPPING, encoding="utf-8")
    rows = "客户编号,客户名称,手机\r\nK001,王建国,13957190301\r\nK002,杭州明达物流有限公司,13957190302\r\n"
    (drop / "customers_2026-11.csv").write_bytes(rows.encode("gbk"))  # an older dealer tool's encoding
    declaration = (f"  dealer_csv:\n    type: file\n    description: a dealer's monthly customer file\n"
                   f"    settings:\n      folder: {drop.as_posix()}\n      pattern: '*.csv'\n"
                   f"      stream: customers\n      id_field: 客户编号\n      encoding: gbk\n")  # fmt: skip
    sources = tmp_path / "sources.yaml"
    sources.write_text(shipped.rstrip("\n") + "\n" + declaration, encoding="utf-8")
    env = {"AUTOHUB_SOURCES_FILE": str(sources), "AUTOHUB_MAPPINGS_DIR": str(maps)}
    _ok(airflow_home.run("dags", "reserialize", env=env))
    _ok(airflow_home.dag_test("autohub_sync_dealer_csv", env=env))
    assert _raw_records(airflow_home, "dealer_csv") == 2
    assert airflow_home.asset_events("autohub://canonical/dealer_csv") == 1
    assert [p.name for p in (drop / "processed").iterdir()] == ["customers_2026-11.csv"]
    assert not list(drop.glob("*.csv"))  # read once: set aside


def test_a_configuration_error_fails_the_sync_task_at_once_without_its_retries(
    airflow_home: AirflowHome, tmp_path: Path
) -> None:
    """A declared source whose secret variable is not set is no outage: three retries with backoff would only
    delay the message. The task fails on its first try, saying which variable to set."""
    declaration = ("version: 1\nsources:\n  insurer_c:\n    type: http\n    mapping: insurance\n    settings:\n"
                   "      base_url: http://127.0.0.1:9/api\n"
                   "      auth: {kind: api_key, name: X-Key, api_key: {env: INSURER_C_KEY_NOT_SET}}\n"
                   "      streams: {policies: {path: /policies, id_path: id}}\n")  # fmt: skip
    sources = tmp_path / "sources.yaml"
    sources.write_text(declaration, encoding="utf-8")
    env = {"AUTOHUB_SOURCES_FILE": str(sources), "AUTOHUB_ORCHESTRATION__RETRIES": "3",
           "AUTOHUB_ORCHESTRATION__RETRY_DELAY_S": "600"}  # fmt: skip
    _ok(airflow_home.run("dags", "reserialize", env=env))
    started = time.monotonic()
    failed = airflow_home.dag_test("autohub_sync_insurer_c", env=env)
    log = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "INSURER_C_KEY_NOT_SET is not set" in log, log[-3000:]
    assert "AirflowFailException" in log
    assert "up_for_retry" not in log.lower()
    assert time.monotonic() - started < 300
