"""The jobs the DAGs run, called through their CLI twins on a matched store: quality, recall export, DMS health."""

from __future__ import annotations

import csv
import json
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import Result

from store.engine import create_store_engine, session_factory
from store.tables import GoldenRecordRow, PiiAccessRow, SourceRecordRow
from tests.conftest import WORLD_PII_KEY


@pytest.fixture
def world_cli(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]) -> Callable[..., Result]:  # fmt: skip
    """The CLI on a copy of the matched world (the store the DAG jobs would find)."""
    shutil.copyfile(world, tmp_path / "autohub.db")
    monkeypatch.setenv("AUTOHUB_PII_HASH_KEY", WORLD_PII_KEY)
    return hub_cli


def _rows(tmp_path: Path, statement: object) -> list[object]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'autohub.db'}")
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(statement))  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _vehicles(tmp_path: Path) -> list[GoldenRecordRow]:
    stmt = select(GoldenRecordRow).where(
        GoldenRecordRow.entity_type == "vehicle", GoldenRecordRow.status == "active"
    )
    return _rows(tmp_path, stmt)  # type: ignore[return-value]


def test_quality_files_the_api_shaped_scorecard(world_cli: Callable[..., Result], tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    done = world_cli("quality", "--output", str(target))
    assert done.exit_code == 0, done.output
    card = json.loads(target.read_text(encoding="utf-8"))
    received = {s["source"]: s["received"] for s in card["sources"]}
    raw = _rows(tmp_path, select(SourceRecordRow.source))
    assert received == {source: raw.count(source) for source in set(raw)}
    assert f"scorecard written to {target}" in done.output


def test_recall_export_by_criteria_masked_then_clear_and_audited(world_cli: Callable[..., Result], tmp_path: Path) -> None:  # fmt: skip
    vehicles = _vehicles(tmp_path)
    wmi = vehicles[0].body["vin"][:3]
    expected = {v.body["vin"] for v in vehicles if v.body["vin"].startswith(wmi)}
    masked, clear = tmp_path / "masked.csv", tmp_path / "clear.csv"
    done = world_cli(
        "recall", "export", "--campaign", "SAMR-T-1", "--wmi", wmi.lower(), "--output", str(masked)
    )
    assert done.exit_code == 0, done.output
    with masked.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["vin"] for r in rows} == expected
    assert any(r["mobile"] for r in rows)
    assert all("****" in r["mobile"] for r in rows if r["mobile"])
    assert _rows(tmp_path, select(PiiAccessRow)) == []  # nothing shown in clear, nothing to audit
    args = ("recall", "export", "--campaign", "SAMR-T-1", "--wmi", wmi, "--clear", "--output", str(clear))
    assert world_cli(*args).exit_code == 0
    with clear.open(encoding="utf-8", newline="") as f:
        clear_rows = list(csv.DictReader(f))
    clear_mobiles = [r["mobile"] for r in clear_rows if r["mobile"]]
    assert clear_mobiles
    assert all("****" not in m for m in clear_mobiles)
    audit = _rows(tmp_path, select(PiiAccessRow))
    assert [(a.key_name, a.action) for a in audit] == [
        ("job:recall export", "recall export campaign=SAMR-T-1")
    ]  # type: ignore[attr-defined]


def test_recall_export_of_a_vin_list_counts_invalid_and_unknown_vins(world_cli: Callable[..., Result], tmp_path: Path) -> None:  # fmt: skip
    known = _vehicles(tmp_path)[0].body["vin"]
    target = tmp_path / "list.csv"
    args = ["recall", "export", "--campaign", "C-2", "--output", str(target)]
    for vin in (known.lower(), "LFV3A28E9KF01676", "LFV2A21K7G3000001"):
        args += ["--vin", vin]
    done = world_cli(*args)
    assert done.exit_code == 0, done.output
    assert "1 invalid and 1 unknown VINs" in done.output
    with target.open(encoding="utf-8", newline="") as f:
        assert [r["vin"] for r in csv.DictReader(f)] == [known]


def test_recall_export_without_criteria_is_refused(world_cli: Callable[..., Result]) -> None:
    done = world_cli("recall", "export", "--campaign", "C-3")
    assert done.exit_code == 2
    assert "name at least one criterion" in done.output


def test_jobs_refuse_a_store_behind_the_schema(hub_cli: Callable[..., Result]) -> None:
    for args in (("quality",), ("recall", "export", "--campaign", "C", "--wmi", "LFV")):
        done = hub_cli(*args)
        assert done.exit_code == 2, args
        assert "autohub db upgrade" in done.output


@pytest.mark.rabbitmq
def test_dms_health_reports_depths_and_fails_past_the_limits(hub_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from connectors.dms_amqp import DmsAmqpConfig, connect, declare_topology, delete_topology

    tag = secrets.token_hex(4)
    names = {"exchange": f"autohub.t.{tag}", "queue": f"autohub.t.{tag}.events",
             "dead_letter_exchange": f"autohub.t.{tag}.dlx", "dead_letter_queue": f"autohub.t.{tag}.dead"}  # fmt: skip
    for key, value in names.items():
        monkeypatch.setenv(f"AUTOHUB_DMS__{key.upper()}", value)
    assert hub_cli("db", "upgrade").exit_code == 0  # the check reads the consumer's heartbeat in the store
    missing = hub_cli("dms", "health")
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    config = DmsAmqpConfig(**names)
    connection = connect(config)
    try:
        channel = connection.channel()
        declare_topology(channel, config)
        channel.basic_publish(config.exchange, "dms.D1.lead_created", b"{}")
        monkeypatch.setenv("AUTOHUB_ORCHESTRATION__DMS_REQUIRE_CONSUMER", "false")
        done = hub_cli("dms", "health")
        assert done.exit_code == 0, done.output
        assert f"{config.queue}: 1 waiting, 0 consumer(s)" in done.output.replace("\n", "")
        monkeypatch.setenv("AUTOHUB_ORCHESTRATION__DMS_MAX_READY", "0")
        behind = hub_cli("dms", "health")
        assert behind.exit_code == 1
        assert "1 event(s) waiting in" in behind.output.replace("\n", " ")
        monkeypatch.setenv("AUTOHUB_ORCHESTRATION__DMS_REQUIRE_CONSUMER", "true")
        unattended = hub_cli("dms", "health")
        assert unattended.exit_code == 1
        assert "no DMS consumer run is running in the store" in unattended.output.replace("\n", " ")
    finally:
        delete_topology(connection.channel(), config)
        connection.close()


@pytest.mark.rabbitmq
def test_dms_health_checks_every_declared_dealer_network_with_its_own_queues(
    hub_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from connectors.dms_amqp import DmsAmqpConfig, connect, declare_topology, delete_topology

    configs = {}
    for network in ("north", "south"):
        tag = f"{network}.{secrets.token_hex(4)}"
        configs[network] = DmsAmqpConfig(exchange=f"autohub.t.{tag}", queue=f"autohub.t.{tag}.events",
                                         dead_letter_exchange=f"autohub.t.{tag}.dlx",
                                         dead_letter_queue=f"autohub.t.{tag}.dead")  # fmt: skip
    declared = "\n".join(
        f"  {name}:\n    type: amqp\n    mapping: dms\n    settings: {{exchange: {c.exchange}, queue: {c.queue}, "
        f"dead_letter_exchange: {c.dead_letter_exchange}, dead_letter_queue: {c.dead_letter_queue}}}"
        for name, c in configs.items()
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"version: 1\nsources:\n{declared}\n", encoding="utf-8")
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(sources))
    monkeypatch.setenv("AUTOHUB_ORCHESTRATION__DMS_REQUIRE_CONSUMER", "false")
    monkeypatch.setenv("AUTOHUB_ORCHESTRATION__DMS_MAX_READY", "0")
    assert hub_cli("db", "upgrade").exit_code == 0
    connection = connect(configs["north"])
    try:
        for config in configs.values():
            declare_topology(connection.channel(), config)
        # south falls behind: one event waits in its own queue; north is healthy
        connection.channel().basic_publish(configs["south"].exchange, "dms.D1.lead_created", b"{}")
        behind = hub_cli("dms", "health")
        assert behind.exit_code == 1
        shown = " ".join(behind.output.split())
        assert f"south feed unhealthy: 1 event(s) waiting in {configs['south'].queue}" in shown
        assert "north feed unhealthy" not in shown
        north = hub_cli("dms", "health", "north")
        assert north.exit_code == 0, north.output
        assert f"north: {configs['north'].queue}: 0 waiting" in north.output.replace("\n", "")
        unknown = hub_cli("dms", "health", "west")
        assert unknown.exit_code != 0
        assert "no dealer network 'west'" in " ".join(unknown.output.split())
    finally:
        for config in configs.values():
            delete_topology(connection.channel(), config)
        connection.close()
