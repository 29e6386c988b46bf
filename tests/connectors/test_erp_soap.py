"""The ERP connector against a real SOAP server over HTTP (fakes.erp_soap) that injects faults and hostile XML."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result
from zeep import Client, Transport
from zeep.exceptions import DTDForbidden, Error

from connectors.erp_soap import (
    ErpBusy,
    ErpRejected,
    ErpSoapConfig,
    ErpSoapConnector,
    UnsafeXml,
    zeep_settings,
)
from connectors.runner import run_sync
from core.errors import ConfigError, SourceUnavailable
from fakes.erp_soap import ErpFaults, ErpSoapServer
from fakes.erp_wsdl import RECORD_TYPES, Dialect, RecordType
from pipeline import Loader
from store.tables import QuarantineRow, SourceRecordRow
from tests.mappings.test_sources import ERP_CUSTOMER

VALID_VINS = ("LFV2A21K5G3000000", "LSVAU218XN2183294", "LVSHCAMB1CE054249")


def _customer(n: int, changed: str | None = None, **changes: Any) -> dict[str, Any]:
    changed = changed or f"2024-03-01T10:{n % 60:02d}:00+08:00"
    return {**ERP_CUSTOMER, "KUNNR": f"C{n:08d}", "CHANGED_AT": changed, **changes}


def _vehicle(vin: str, changed: str = "2024-02-01T08:00:00+08:00") -> dict[str, Any]:
    return {"VIN": vin, "MAKE": "Volkswagen", "MODEL": "Sagitar", "TRIM": "280TSI", "MODEL_YEAR": "2023",
            "PROD_DATE": "2023-05-04", "PLANT": "cn1", "COLOUR": "white", "CHANGED_AT": changed}  # fmt: skip


@pytest.fixture
def erp() -> Iterator[ErpSoapServer]:
    server = ErpSoapServer(records={
        "customers": [_customer(n) for n in range(7)],
        "vehicles": [_vehicle(vin) for vin in VALID_VINS],
        "sales_orders": [{"VBELN": "SO1", "KUNNR": "C00000001", "VIN": VALID_VINS[0], "DEALER": "D001",
                          "INVOICE_DATE": "2023-06-01", "NET_PRICE": "150000.00",
                          "CHANGED_AT": "2023-06-01T12:00:00+08:00"}],
    })  # fmt: skip
    server.start()
    yield server
    server.stop()


def _settings(erp: ErpSoapServer, **config: Any) -> dict[str, Any]:
    streams = {name: {**op.model_dump(), "page_size": 3} for name, op in ErpSoapConfig().streams.items()}
    return {"wsdl_url": erp.wsdl_url, "streams": streams, "max_wait_s": 0.3, "operation_timeout_s": 5.0,
            **config}  # fmt: skip


def _connector(erp: ErpSoapServer, tmp_path: Path | None = None, **config: Any) -> ErpSoapConnector:
    cache = tmp_path / "zeep.db" if tmp_path else None
    return ErpSoapConnector(ErpSoapConfig(**_settings(erp, **config)), cache_path=cache)


def _ids(
    connector: ErpSoapConnector, stream: str = "customers", state: dict[str, Any] | None = None
) -> list[str]:
    return [r.source_id for page in connector.read(stream, state) for r in page.records]


def test_pages_through_a_stream_in_change_order(erp: ErpSoapServer) -> None:
    pages = list(_connector(erp).read("customers", None))
    assert [len(p.records) for p in pages] == [3, 3, 1]
    assert [r.source_id for p in pages for r in p.records] == [f"C{n:08d}" for n in range(7)]
    first = pages[0].records[0].payload
    assert first["NAME1"] == "张伟"
    assert first["CHANGED_AT"] == "2024-03-01T10:00:00+08:00"
    assert None not in first.values()
    assert pages[-1].state == {"changed_since": "2024-03-01T10:06:00+08:00"}
    assert pages[0].state["changed_since"] is None  # not yet: the pass is under way
    assert pages[0].state["pass"]["token"]


def test_a_run_maps_good_records_and_quarantines_bad_ones(erp: ErpSoapServer, loader: Loader) -> None:
    erp.records["vehicles"].append(_vehicle("LFV2A21K0G3000001"))  # wrong check digit
    erp.records["customers"].append(
        {"NAME1": "无编号", "CHANGED_AT": "2024-03-02T10:00:00+08:00"}
    )  # no KUNNR
    report = run_sync(_connector(erp), loader)
    assert (report.records_in, report.quarantined) == (13, 2)
    assert report.balanced
    with Session(loader.sessions.kw["bind"]) as session:
        reasons = {(q.stream, q.reason) for q in session.scalars(select(QuarantineRow))}
    assert reasons == {("vehicles", "invalid_vin.check_digit"), ("customers", "missing_kunnr")}


def test_erp_passes_the_connector_conformance_checks(
    erp: ErpSoapServer, loader: Loader, tmp_path: Path
) -> None:
    from tests.connectors.conformance import by_type, check_conformance

    erp.records["vehicles"].append(_vehicle("LFV2A21K0G3000001"))
    check_conformance(by_type("soap", _settings(erp), "erp", tmp_path), loader)


def test_next_run_asks_changed_since_and_catches_late_rows_in_the_look_back(erp: ErpSoapServer) -> None:
    connector = _connector(erp, lookback_s=120)  # watermark 10:06 → asks from 10:04
    state = list(connector.read("customers", None))[-1].state
    erp.records["customers"].append(_customer(20, changed="2024-03-01T11:00:00+08:00"))  # new
    erp.records["customers"].append(_customer(21, changed="2024-03-01T10:05:30+08:00"))  # late, older time
    erp.records["customers"].append(_customer(22, changed="2024-02-01T10:00:00+08:00"))  # outside the window
    ids = _ids(connector, state=state)
    assert {"C00000020", "C00000021"} <= set(ids)
    assert "C00000022" not in ids  # the documented limit: older than the look-back window
    assert "C00000000" not in ids  # far before the watermark: not re-read


def test_a_crash_mid_pass_resumes_at_the_next_page(erp: ErpSoapServer) -> None:
    connector = _connector(erp)
    first = next(iter(connector.read("customers", None)))  # stored and committed; then the process dies
    rest = _ids(_connector(erp), state=first.state)
    assert [r.source_id for r in first.records] + rest == [f"C{n:08d}" for n in range(7)]


def test_passing_failures_are_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "http_500", 2: "server_fault", 3: "malformed"})
    assert len(_ids(_connector(erp))) == 7
    assert erp.calls == 3 + 3  # three failures, then three pages


def test_a_slow_call_times_out_and_is_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "slow"}, slow_s=2.0)
    assert len(_ids(_connector(erp, operation_timeout_s=0.5))) == 7


def test_failures_that_do_not_pass_stop_after_the_bounded_attempts(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan=dict.fromkeys(range(1, 10), "server_fault"))
    with pytest.raises(ErpBusy, match="ERP work process busy"):
        _ids(_connector(erp, attempts=3))
    assert erp.calls == 3


def test_a_client_fault_is_reported_and_not_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "client_fault"})
    with pytest.raises(ErpRejected, match="no authorisation"):
        _ids(_connector(erp))
    assert erp.calls == 1


@pytest.mark.parametrize("attack", ["billion_laughs", "xxe"])
def test_hostile_xml_is_refused_and_not_retried(erp: ErpSoapServer, attack: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    erp.faults = ErpFaults(plan={1: attack}, xxe_target=str(secret))
    with pytest.raises(UnsafeXml, match="DOCTYPE") as caught:
        _ids(_connector(erp))
    assert "TOP-SECRET" not in str(caught.value)
    assert erp.calls == 1


@pytest.mark.parametrize(("attack", "refusal"), [("xxe", DTDForbidden), ("billion_laughs", Error)])
def test_zeeps_own_guards_refuse_hostile_xml_too(
    erp: ErpSoapServer, attack: str, refusal: type[Exception]
) -> None:
    """Defence in depth: with a plain transport (no DOCTYPE check of ours), zeep's settings still refuse."""
    erp.faults = ErpFaults(plan={1: attack})
    client = Client(erp.wsdl_url, settings=zeep_settings(), transport=Transport(operation_timeout=5))
    with pytest.raises(refusal):
        client.service.GetCustomers(PageSize=3)


def test_wsdl_is_cached_between_runs(erp: ErpSoapServer, tmp_path: Path) -> None:
    for _ in range(2):
        connector = _connector(erp, tmp_path)
        assert len(_ids(connector)) == 7
        connector.close()
    assert erp.wsdl_requests == 1


def test_an_unreachable_erp_is_retried_then_reported(tmp_path: Path) -> None:
    config = ErpSoapConfig(wsdl_url="http://127.0.0.1:9/erp?wsdl", attempts=2, max_wait_s=0.1)
    with pytest.raises(SourceUnavailable, match="WSDL not reachable"):
        _ids(ErpSoapConnector(config))


def test_an_operation_missing_from_the_wsdl_is_a_config_error(erp: ErpSoapServer) -> None:
    streams = {"customers": {"operation": "GetDebitors", "records_field": "Debitor", "id_field": "KUNNR"}}
    with pytest.raises(ConfigError, match="no operation 'GetDebitors'"):
        _ids(ErpSoapConnector(ErpSoapConfig(wsdl_url=erp.wsdl_url, streams=streams)))


def test_the_raw_store_keeps_the_erp_payload_json_safe(erp: ErpSoapServer, loader: Loader) -> None:
    run_sync(_connector(erp), loader, streams=["vehicles"])
    with Session(loader.sessions.kw["bind"]) as session:
        payloads = session.scalars(
            select(SourceRecordRow.payload).where(SourceRecordRow.stream == "vehicles")
        ).all()
    assert sorted(p["VIN"] for p in payloads) == sorted(VALID_VINS)
    assert all(p["CHANGED_AT"] == "2024-02-01T08:00:00+08:00" for p in payloads)


def test_cli_sync_erp_runs_incrementally_and_reports_a_refusal(
    erp: ErpSoapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    monkeypatch.setenv("AUTOHUB_ERP__WSDL_URL", erp.wsdl_url)
    assert hub_cli("db", "upgrade").exit_code == 0
    result = hub_cli("sync", "erp")
    assert result.exit_code == 0, result.output
    assert "11 records in" in result.output
    assert (tmp_path / "zeep-cache.db").exists()
    again = hub_cli("sync", "erp")  # from the watermarks: nothing new is stored
    assert "0 mapped · 0 quarantined" in again.output
    erp.faults = ErpFaults(plan={erp.calls + 1: "client_fault"})
    refused = hub_cli("sync", "erp")
    assert refused.exit_code == 1
    assert "no authorisation" in refused.output


def test_another_erps_wsdl_needs_configuration_not_code(loader: Loader) -> None:
    """An ERP with other operation, element and paging names, read with the README's example configuration."""
    debitors = RecordType("customers", "ReadDebitors", "Debitor", "KUNNR", RECORD_TYPES[0].fields)
    dialect = Dialect(changed_since="ModifiedAfter", page_token="Continuation", page_size="MaxRows",
                      next_token="Continuation", records_wrapper="Debitors")  # fmt: skip
    other = ErpSoapServer(records={"customers": [_customer(n) for n in range(5)]}, record_types=(debitors,),
                          dialect=dialect)  # fmt: skip
    other.start()
    try:
        streams = {"customers": {"operation": "ReadDebitors", "records_field": "Debitors.Debitor",
                                 "next_token_field": "Continuation", "changed_since_param": "ModifiedAfter",
                                 "page_token_param": "Continuation", "page_size_param": "MaxRows", "page_size": 2,
                                 "id_field": "KUNNR", "changed_field": "CHANGED_AT"}}  # fmt: skip
        connector = ErpSoapConnector(ErpSoapConfig(wsdl_url=other.wsdl_url, streams=streams))
        report = run_sync(connector, loader)
        assert (report.records_in, report.mapped, other.calls) == (5, 5, 3)
        # watermark 10:09 minus the default 5-minute look-back: asks ModifiedAfter=10:04
        state = list(connector.read("customers", {"changed_since": "2024-03-01T10:09:00+08:00"}))
        assert [r.source_id for page in state for r in page.records] == [
            "C00000004"
        ]  # ModifiedAfter was sent
    finally:
        other.stop()
