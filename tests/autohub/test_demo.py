"""`autohub demo` end to end on an SQLite file: five sources in, counts reconcile, ground truth holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autohub.cli import app
from autohub.demo import run_demo
from core.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_demo_command_loads_five_sources_and_reports(demo_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--people", "150", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (demo_dir / "autohub.db").exists()
    for source in ("erp", "finance", "insurance", "dms", "portal"):
        assert source in result.output
    assert "clean records quarantined: 0" in result.output
    assert "defective records let through: 0" in result.output
    assert "Golden matching:" in result.output
    assert "precision 1.0000" in result.output  # 150 people: every golden record is one real person
    assert "SOAP (zeep)" in result.output
    assert "REST (httpx, OAuth2)" in result.output


def test_demo_reconciles_and_a_second_run_on_the_same_store_changes_nothing(demo_dir: Path) -> None:
    settings = Settings(data_dir=demo_dir)
    first = run_demo(settings, people=120, seed=5)
    assert {r.source for r in first.reconciliation} == {"erp", "finance", "insurance", "dms", "portal"}
    assert all(r.balanced for r in first.reconciliation)
    # Each defective record is quarantined whole, or kept in part with its bad entities quarantined.
    assert sum(r.quarantined + r.partial for r in first.loads.values()) == len(first.expected_quarantine) > 0
    assert (
        sum(r.partial for r in first.loads.values()) > 0
    )  # e.g. a repair order's bad VIN keeps its customer
    assert first.actual_quarantine == first.expected_quarantine
    assert first.matching is not None
    assert first.matching_score is not None
    assert first.matching_score.precision == 1.0
    # 120 people is a tiny population: every name and phone looks frequent, so term-frequency adjustment
    # weakens the evidence and recall drops (≈0.8 here, ≈0.99 at 1 000 people — bench/RESULTS.md).
    assert first.matching_score.recall > 0.7
    assert first.false_merges == 0
    second = run_demo(settings, people=120, seed=5, fresh=False)
    assert all(r.unchanged == r.records_in for r in second.loads.values())
    assert second.canonical == first.canonical
    assert second.matching is not None
    assert second.matching.cluster_of == first.matching.cluster_of  # golden ids survive the re-run
    assert second.matching.created == 0
    assert all(r.balanced for r in second.reconciliation)


def test_demo_syncs_each_source_through_its_connector(demo_dir: Path) -> None:
    result = run_demo(Settings(data_dir=demo_dir), people=80, seed=9, dms="file")
    assert result.transports["erp"].startswith("SOAP (zeep) ← fake ERP at http://127.0.0.1:")
    assert result.transports["finance"].startswith("SQL (SQLAlchemy)")
    assert (demo_dir / "demo-accounting.db").exists()
    assert result.transports["insurance"].startswith("REST (httpx, OAuth2)")
    assert result.transports["dms"].startswith(
        f"file {demo_dir / 'demo-dms-events.jsonl'} ← asked for --dms file"
    )
    assert "signed webhooks" in result.transports["portal"]
    assert result.actual_quarantine == result.expected_quarantine


@pytest.mark.rabbitmq
def test_demo_uses_rabbitmq_when_it_answers(demo_dir: Path) -> None:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F")).close()
    except Exception as exc:
        pytest.skip(f"RabbitMQ not reachable: {exc}")
    result = run_demo(Settings(data_dir=demo_dir), people=80, seed=9)
    assert result.transports["dms"].startswith("RabbitMQ at 127.0.0.1:5672/%2F ← ")
    own = re.search(r"dead-lettered to (autohub\.demo\.[0-9a-f]{8}\.dms\.dead)", result.transports["dms"])
    assert own, result.transports["dms"]
    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    try:  # this run's queues are gone from the broker
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            connection.channel().queue_declare(own.group(1), passive=True)
    finally:
        connection.close()
    dms = result.loads["dms"]
    assert dms.records_in == dms.mapped + dms.partial + dms.quarantined > 0
    assert result.actual_quarantine == result.expected_quarantine


def test_demo_falls_back_to_the_event_file_and_says_why(demo_dir: Path) -> None:
    settings = Settings(
        data_dir=demo_dir, sections={"dms": {"url": "amqp://guest:guest@127.0.0.1:1/%2F"}}
    )  # nothing listens
    result = run_demo(settings, people=40, seed=9)
    assert "RabbitMQ not reachable (" in result.transports["dms"]
    assert all(r.balanced for r in result.reconciliation)
