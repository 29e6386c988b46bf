"""Connector types by entry point: every registered pull type runs the conformance checks as a declared source;
every type's settings refuse a key they do not have, naming it where it is written with the nearest valid one."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from connectors.erp_config import ErpSoapConfig
from connectors.finance_sql import FinanceSqlConfig
from connectors.origin import SourceOrigin
from connectors.sources import declared_source, declared_sources
from connectors.types import connector_types
from core.errors import ConfigError
from core.settings import Settings
from tests.connectors.conformance import CONFORMANCE_TESTS


def test_every_registered_pull_type_has_a_conformance_test_that_builds_it_by_its_type() -> None:
    pulled = {name for name, kind in connector_types().items() if kind.mode == "pull"}
    assert pulled == set(CONFORMANCE_TESTS), (
        "a pull type needs a conformance test (tests/connectors/conformance.py)"
    )
    for name, (module, test) in CONFORMANCE_TESTS.items():
        function = getattr(importlib.import_module(module), test)
        assert f'by_type("{name}"' in inspect.getsource(function), f"{test} must build {name} by its type"


def test_a_pushed_type_builds_no_connector_and_every_type_has_a_config_model() -> None:
    for kind in connector_types().values():
        assert (kind.build is None) == (kind.mode == "push"), kind.name
        assert kind.config_model.model_json_schema()["type"] == "object"


# --- a misspelt settings key is refused, named where it is written, with the nearest valid key ----------------


def _declare(tmp_path: Path, sources: dict[str, Any]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


SAP_STREAM = {"operation": "CustomerSimpleByNameAndAddressQueryResponse_In", "records_field": "Customer",
              "id_field": "InternalID", "changed_since_param": None, "page_token_param": None,
              "next_token_field": None}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "settings", "place", "nearest"),
    [
        ("soap", {"wsdl_url": "http://127.0.0.1:9/sap?wsdl", "user_name": "autohub", "streams": {"customers": SAP_STREAM}},
         "user_name", "username"),
        ("soap", {"wsdl_url": "http://127.0.0.1:9/sap?wsdl",
                  "streams": {"customers": {**SAP_STREAM, "page_size_parm": "ProcessingConditions.QueryHitsMaximumNumberValue"}}},
         "streams.customers.page_size_parm", "page_size_param"),
        ("http", {"base_url": "http://127.0.0.1:9/api", "streams": {"policies": {
            "path": "/policies", "records_path": "items", "id_path": "policyNo",
            "paging": {"kind": "cursor", "cursor_path": "next", "page_size_parm": 100}}}},
         "streams.policies.paging.page_size_parm", "page_size"),
        ("sql", {"url": {"env": "AUTOHUB_TEST_SQL_URL"}, "cursor_colum": "changed"}, "cursor_colum", "cursor_column"),
        ("file", {"folder": "/tmp", "stream": "customers", "id_feild": "客户编号"}, "id_feild", "id_field"),
        ("amqp", {"queue_nme": "north.dms.events"}, "queue_nme", "queue"),
    ],
)  # fmt: skip
def test_a_misspelt_settings_key_fails_sources_check_and_sync_naming_key_place_and_nearest_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result],
    kind: str, settings: dict[str, Any], place: str, nearest: str,
) -> None:  # fmt: skip
    """Ignored, ``user_name:`` logged on without a user and ``page_size_parm:`` paged by the default, silently."""
    monkeypatch.setenv("AUTOHUB_TEST_SQL_URL", "sqlite://")
    path = _declare(tmp_path, {"sap_ecc": {"type": kind, "mapping": "erp", "settings": settings}})
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    for command in (("sources", "check", "sap_ecc"), ("sync", "sap_ecc")):
        refused = hub_cli(*command)
        shown = " ".join(refused.output.split())
        assert refused.exit_code != 0, shown
        assert f"{path}: sap_ecc.settings.{place}: unknown setting {place.rsplit('.', 1)[-1]!r}" in shown
        assert f"did you mean {nearest!r}?" in shown
    listed = hub_cli("sources", "list")  # the whole file is checked there too
    assert listed.exit_code != 0
    assert f"sap_ecc.settings.{place}" in " ".join(listed.output.split())


def test_without_a_near_key_the_valid_ones_are_listed() -> None:
    """A key too far from any valid one gets no guess; the list says what could be meant."""
    with pytest.raises(ConfigError) as caught:
        connector_types()["webhook"].configure(
            {"hmac": "x"}, SourceOrigin("portal_b", file=Path("sources.yaml"))
        )
    assert str(caught.value).startswith("sources.yaml: portal_b.settings.hmac: unknown setting 'hmac'")
    valid = "max_body_bytes, progress_every_s, run_roll_after_s, secret, tolerance_s"
    assert f"valid here: {valid}" in str(caught.value)


def test_a_misspelt_key_of_the_declaration_itself_gets_the_nearest_key_too(tmp_path: Path) -> None:
    path = _declare(tmp_path, {"fin_b": {"type": "sql", "shedule": "@daily"}})
    with pytest.raises(ConfigError) as caught:
        declared_sources(Settings(), path)
    assert caught.value.field == "sources.fin_b.shedule"
    assert "did you mean 'schedule'?" in str(caught.value)


# --- where a shipped source's settings come from: the file where it writes them, else its variables --------------


def test_a_shipped_sources_settings_are_named_where_they_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipped source is configured by the file and by its AUTOHUB_<SOURCE>__… variables, which win: an error
    must send its user to the one that counts, or the fix changes nothing."""
    monkeypatch.setenv("ERP_PASSWORD", "from-the-file")
    monkeypatch.setenv("AUTOHUB_ERP__USERNAME", "from-the-environment")
    monkeypatch.setenv("AUTOHUB_ERP__WSDL_URL", "http://127.0.0.1:9/erp?wsdl")
    path = _declare(tmp_path, {
        "erp": {"type": "soap", "settings": {"password": {"env": "ERP_PASSWORD"}, "username": "in-the-file"}},
        "erp_b": {"type": "soap", "mapping": "erp", "settings": {"wsdl_url": "http://127.0.0.1:9/b?wsdl"}},
    })  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(path))
    shipped, declared = (declared_source(Settings(), name).origin for name in ("erp", "erp_b"))
    # written in the file; the variable wins over the file; written nowhere: the variable to set
    assert shipped.setting("password") == f"{path}: erp.settings.password"
    assert shipped.setting("username") == "AUTOHUB_ERP__USERNAME"
    assert shipped.setting("streams.customers.page_size") == "AUTOHUB_ERP__STREAMS.customers.page_size"
    # a source the hub does not ship has no variables: its settings are always the file's
    assert declared.setting("password") == f"{path}: erp_b.settings.password"
    assert declared.setting("streams") == f"{path}: erp_b.settings.streams"


# --- the environment blocks: a misspelt variable is refused, every other AUTOHUB_ variable still read -----------


def test_a_misspelt_variable_of_a_shipped_block_is_refused_and_the_others_still_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The block models forbid unknown keys too; pydantic-settings hands a block only its own AUTOHUB_ERP__…
    variables, so the settings' own, another room's block and a look-alike prefix still load beside it."""
    monkeypatch.setenv("AUTOHUB_ERP__WSDL_URL", "http://127.0.0.1:9/erp?wsdl")
    monkeypatch.setenv("AUTOHUB_ERP__STREAMS", json.dumps({"customers": SAP_STREAM}))
    monkeypatch.setenv("AUTOHUB_ORCHESTRATION__ERP_SCHEDULE", "none")  # another room's block, same source
    monkeypatch.setenv("AUTOHUB_SYNC_RUN_DEADLINE_S", "60")  # the settings' own
    monkeypatch.setenv("AUTOHUB_ERPX", "not a block")
    monkeypatch.setenv("AUTOHUB_FINANCE__PAGE_SIZE", "7")
    sources = declared_sources(Settings(_env_file=None))
    assert isinstance(sources["erp"].config, ErpSoapConfig)
    assert sources["erp"].config.wsdl_url == "http://127.0.0.1:9/erp?wsdl"
    assert list(sources["erp"].config.streams) == ["customers"]
    assert isinstance(sources["finance"].config, FinanceSqlConfig)
    assert sources["finance"].config.page_size == 7
    monkeypatch.setenv("AUTOHUB_ERP__USER_NAME", "autohub")
    with pytest.raises(ConfigError) as caught:
        declared_sources(Settings(_env_file=None))
    assert caught.value.field == "AUTOHUB_ERP__USER_NAME"
