"""The sources file: declared source instances, bound to connector types found through entry points."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors import types
from connectors.finance_sql import FinanceSqlConfig
from connectors.sources import declared_source, declared_sources
from connectors.types import ConnectorType
from core.errors import ConfigError
from core.settings import Settings
from jobs.config import declared_pull_sources
from store.tables import CanonicalRecordRow, SourceRecordRow
from tests.connectors.test_finance_sql import _insert, _row, finance_url

__all__ = ["finance_url"]  # the MariaDB fixture, used here by name


def _file(tmp_path: Path, sources: dict[str, Any]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


def _refusal(tmp_path: Path, sources: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        declared_sources(Settings(), _file(tmp_path, sources))
    return caught.value


def test_the_shipped_file_declares_the_five_sources_with_their_types() -> None:
    sources = declared_sources(Settings())
    assert {n: (s.kind.name, s.kind.mode) for n, s in sources.items()} == {
        "erp": ("soap", "pull"), "finance": ("sql", "pull"), "insurance": ("rest", "pull"),
        "dms": ("amqp", "push"), "portal": ("webhook", "push"),
    }  # fmt: skip
    assert {n: s.mapping for n, s in sources.items()} == {n: n for n in sources}
    assert declared_pull_sources() == {
        "erp": "*/15 * * * *",
        "finance": "0 * * * *",
        "insurance": "*/30 * * * *",
    }


def test_a_legacy_variable_that_is_set_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, {"finance": {"type": "sql", "settings": {"table": "kunden", "page_size": 50}}})
    monkeypatch.setenv("AUTOHUB_FINANCE__PAGE_SIZE", "7")
    monkeypatch.setenv("AUTOHUB_ORCHESTRATION__FINANCE_SCHEDULE", "none")
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    config = declared_sources(Settings(), path)["finance"].config
    assert isinstance(config, FinanceSqlConfig)
    assert (config.table, config.page_size) == ("kunden", 7)
    assert declared_pull_sources() == {"finance": None}  # the schedule switched off by its variable


@pytest.mark.parametrize(
    ("sources", "field", "words"),
    [
        ({"ins_b": {"type": "graphql"}}, "type", "unknown connector type 'graphql'"),
        (
            {"ins_b": {"type": "rest", "settings": {"client_secret": "s3cr3t-inline"}}},
            "settings.client_secret",
            "a secret is written out",
        ),
        (
            {"fin_b": {"type": "sql", "settings": {"url": "mysql+pymysql://app:pw@db/acc"}}},
            "settings.url",
            "a secret is written out",
        ),
        (
            {"ins_b": {"type": "rest", "settings": {"client_secret": {"env": "AUTOHUB_TEST_UNSET_SECRET"}}}},
            "settings.client_secret",
            "AUTOHUB_TEST_UNSET_SECRET is not set",
        ),
        ({"dms_b": {"type": "amqp", "schedule": "@hourly"}}, "schedule", "cannot have a schedule"),
        ({"fin_b": {"type": "sql", "settings": {"page_size": "many"}}}, "settings.page_size", "fin_b"),
        ({"Fin-B": {"type": "sql"}}, "sources.Fin-B", "String should match pattern"),
        ({"fin_b": {"type": "sql", "shedule": "@daily"}}, "sources.fin_b.shedule", "Extra inputs"),
    ],
)
def test_a_wrong_declaration_names_the_file_the_source_and_the_field(
    tmp_path: Path, sources: dict[str, Any], field: str, words: str
) -> None:
    refusal = _refusal(tmp_path, sources)
    assert refusal.field == field
    assert words in str(refusal)
    assert str(tmp_path / "sources.yaml") in str(refusal)
    assert "s3cr3t-inline" not in str(refusal)
    assert ":pw@" not in str(refusal)


def test_secrets_come_from_the_environment_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGAN_SECRET", "from-the-environment")
    (tmp_path / "secret").write_text("from-a-file\n", encoding="utf-8")
    path = _file(tmp_path, {
        "ins_a": {"type": "rest", "mapping": "insurance", "settings": {"client_secret": {"env": "PINGAN_SECRET"}}},
        "ins_b": {"type": "rest", "mapping": "insurance",
                  "settings": {"client_secret": {"file": str(tmp_path / "secret")}}},
    })  # fmt: skip
    sources = declared_sources(Settings(), path)
    secrets = [sources[n].config.client_secret.get_secret_value() for n in ("ins_a", "ins_b")]
    assert secrets == ["from-the-environment", "from-a-file"]
    assert "from-the-environment" not in repr(sources["ins_a"])


def test_a_second_database_is_synced_by_name_under_its_own_source(
    finance_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    _insert(finance_url, _row("F001", "2024-03-01 10:00:00"), _row("F002", "2024-03-02 10:00:00"))
    monkeypatch.setenv("ACQUIRED_FINANCE_URL", finance_url)
    path = _file(tmp_path, {"finance_acquired": {"type": "sql", "mapping": "finance", "schedule": "@daily",
                                                 "settings": {"url": {"env": "ACQUIRED_FINANCE_URL"}}}})  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    assert hub_cli("db", "upgrade").exit_code == 0
    listed = hub_cli("sources", "list")
    assert listed.exit_code == 0, listed.output
    assert "finance_acquired" in listed.output
    assert "@daily" in listed.output
    checked = hub_cli("sources", "check", "finance_acquired")
    assert checked.exit_code == 0, checked.output
    assert "nothing stored" in checked.output
    assert checked.output.count("│ 2 ") >= 2  # both rows read, both mapped
    engine = create_engine(f"sqlite:///{tmp_path / 'autohub.db'}")
    with Session(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(SourceRecordRow)) == 0
        )  # the check wrote nothing
    synced = hub_cli("sync", "finance_acquired")
    assert synced.exit_code == 0, synced.output
    assert "finance_acquired: run" in synced.output
    assert "2 records in" in synced.output
    with Session(engine) as session:
        sources = set(session.scalars(select(CanonicalRecordRow.source)))
    engine.dispose()
    assert sources == {"finance_acquired"}  # read with the finance mapping, kept under its own name
    assert hub_cli("sync", "finance").exit_code != 0  # not declared in this file
    pushed = hub_cli("sync", "nowhere")
    assert pushed.exit_code != 0
    assert "no source 'nowhere' is declared" in pushed.output


def test_a_connector_type_from_another_package_is_found_by_its_entry_point(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shipped = list(types.entry_points(group=types.ENTRY_POINT_GROUP))
    plugin = EntryPoint("csvdrop", "tests.autohub.test_sources:csvdrop_type", types.ENTRY_POINT_GROUP)
    path = _file(tmp_path, {"dealer_files": {"type": "csvdrop", "mapping": "dms",
                                             "settings": {"folder": str(tmp_path)}}})  # fmt: skip
    with monkeypatch.context() as patched:
        patched.setattr(types, "entry_points", lambda group: [*shipped, plugin])
        types.connector_types.cache_clear()
        try:
            declared = declared_sources(Settings(), path)["dealer_files"]
        finally:
            types.connector_types.cache_clear()
    assert (declared.kind.name, json.loads(declared.config.model_dump_json())) == (
        "csvdrop",
        {"folder": str(tmp_path)},
    )
    with pytest.raises(ConfigError, match="unknown connector type 'csvdrop'"):
        declared_sources(Settings(), path)  # without the package, the type is not there


def csvdrop_type() -> ConnectorType:
    from pydantic import BaseModel

    class DropFolder(BaseModel):
        folder: str

    return ConnectorType("csvdrop", "a test plugin", "pull", DropFolder, None)


def test_an_unknown_source_is_named_with_the_declared_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        declared_source(Settings(), "erp2")
    assert "declared: dms, erp, finance, insurance, portal" in str(caught.value)


def test_one_source_is_bound_without_reading_the_others_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, {
        "ins_a": {"type": "rest", "mapping": "insurance", "settings": {"client_secret": {"env": "AUTOHUB_TEST_A"}}},
        "ins_b": {"type": "rest", "mapping": "insurance", "settings": {"client_secret": {"env": "AUTOHUB_TEST_B"}}},
        "portal_b": {"type": "webhook", "mapping": "portal", "settings": {"secret": {"env": "AUTOHUB_TEST_P"}}},
    })  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    monkeypatch.setenv("AUTOHUB_TEST_A", "a-secret")
    monkeypatch.setenv("AUTOHUB_TEST_P", "p-secret")
    assert declared_source(Settings(), "ins_a").name == "ins_a"  # ins_b's variable is not needed
    assert set(declared_sources(Settings(), path, types={"webhook"})) == {"portal_b"}  # what the API binds
    with pytest.raises(ConfigError, match="AUTOHUB_TEST_B is not set"):
        declared_sources(Settings(), path)  # `autohub sources list` checks the whole file


def test_the_dag_files_find_the_sources_file_where_the_settings_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTOHUB_SOURCES_FILE in a .env file counts for the DAG files' reader as for the settings object."""
    from jobs.config import sources_file

    path = _file(tmp_path, {"erp_b": {"type": "soap", "mapping": "erp", "schedule": "@daily"}})
    (tmp_path / ".env").write_text(f"AUTOHUB_SOURCES_FILE={path}\n", encoding="utf-8")
    monkeypatch.delenv("AUTOHUB_SOURCES_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert sources_file() == Settings().sources_file == path
    assert declared_pull_sources() == {"erp_b": "@daily"}


@pytest.mark.rabbitmq
def test_checking_a_pushed_source_looks_at_its_receiving_end_and_takes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    import secrets

    from connectors.dms_amqp import DmsAmqpConfig, connect, declare_topology, delete_topology

    tag = secrets.token_hex(4)
    queues = {"exchange": f"autohub.t.{tag}", "queue": f"autohub.t.{tag}.events",
              "dead_letter_exchange": f"autohub.t.{tag}.dlx", "dead_letter_queue": f"autohub.t.{tag}.dead"}  # fmt: skip
    path = _file(tmp_path, {
        "dms_north": {"type": "amqp", "mapping": "dms", "settings": queues},
        "portal_b": {"type": "webhook", "mapping": "portal"},  # no signing secret declared
    })  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    missing = hub_cli("sources", "check", "dms_north")
    assert missing.exit_code != 0
    assert "does not exist on the broker" in " ".join(missing.output.split())
    config = DmsAmqpConfig(**queues)
    connection = connect(config)
    try:
        declare_topology(connection.channel(), config)
        connection.channel().basic_publish(config.exchange, "dms.D1.lead_created", b"{}")
        checked = hub_cli("sources", "check", "dms_north")
        assert checked.exit_code == 0, checked.output
        shown = " ".join(checked.output.split())
        assert f"{config.queue}: 1 waiting, 0 consumer(s)" in shown
        assert "mapping 'dms' loads" in shown
        again = hub_cli("sources", "check", "dms_north")  # the event is still there: nothing was taken
        assert f"{config.queue}: 1 waiting" in " ".join(again.output.split())
    finally:
        delete_topology(connection.channel(), config)
        connection.close()
    unsigned = hub_cli("sources", "check", "portal_b")
    assert unsigned.exit_code != 0
    assert "no signing secret" in " ".join(unsigned.output.split())
