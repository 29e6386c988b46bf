"""The ERP connector pointed, by configuration only, at a SAP ECC enterprise service (tests/connectors/
sap_service.py): no change-time filter, every hit in one answer (or, on a newer service, paging by
LastReturnedObjectID), ids with attributes, SAP time stamps without a zone, HTTP Basic / WS-Security logon — and a wrong password tried once, never until SAP locks the user;
declared in a sources file, its errors name its own settings there.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.erp_config import ErpAuthRefused
from connectors.erp_requests import wrong_argument
from connectors.erp_soap import ErpOperation, ErpRejected, ErpSoapConfig, ErpSoapConnector
from connectors.origin import SourceOrigin
from connectors.runner import run_sync
from core.errors import ConfigError
from core.logging import configure
from pipeline import Loader
from store import repository
from tests.connectors.sap_service import OPERATION, SapCustomer, SapService

SELECTION = {"CustomerSimpleSelectionByNameAndAddress.CustomerAddressName": "*"}
FULL_EXTRACT = {"operation": OPERATION, "records_field": "Customer", "id_field": "ID",
                "changed_field": "SystemAdministrativeData.LastChangeDateTime", "changed_since_param": None,
                "page_size_param": None, "page_token_param": None, "next_token_field": None,
                "extra_params": SELECTION}  # fmt: skip
PAGED = {**FULL_EXTRACT, "page_size_param": "ProcessingConditions.QueryHitsMaximumNumberValue", "page_size": 2,
         "last_id_param": "ProcessingConditions.QueryLastReturnedObjectID",
         "last_id_field": "ProcessingConditions.LastReturnedObjectID",
         "more_field": "ProcessingConditions.MoreHitsAvailableIndicator"}  # fmt: skip
# The settings connectors/README.md gives for the ECC service: no change time, no paging, every hit at once.
ECC = {"operation": OPERATION, "records_field": "Customer", "id_field": "ID", "changed_field": None,
       "changed_since_param": None, "page_size_param": None, "page_token_param": None, "next_token_field": None,
       "extra_params": {**SELECTION, "ProcessingConditions.QueryHitsUnlimitedIndicator": True}}  # fmt: skip
NUMBERS = [f"00001000{n:02d}" for n in range(1, 6)]
EXAMPLES = Path(__file__).resolve().parents[2] / "mappings" / "examples"


@pytest.fixture
def password() -> str:
    return secrets.token_urlsafe(16)


def _service(password: str, *, paging: bool) -> Iterator[SapService]:
    service = SapService(customers=[SapCustomer(number, f"客户{n}") for n, number in enumerate(NUMBERS)],
                         password=password, paging=paging)  # fmt: skip
    service.start()
    yield service
    service.stop()


@pytest.fixture
def sap(password: str) -> Iterator[SapService]:
    """The ECC service as it is: no paging."""
    yield from _service(password, paging=False)


@pytest.fixture
def paged_sap(password: str) -> Iterator[SapService]:
    """A newer service whose processing conditions carry the last returned id."""
    yield from _service(password, paging=True)


def _connector(sap: SapService, stream: dict[str, Any], **settings: Any) -> ErpSoapConnector:
    config = {"wsdl_url": sap.wsdl_url, "username": sap.user, "password": sap.password,
              "source_timezone": "Asia/Shanghai", "streams": {"customers": stream}, "max_wait_s": 0.1,
              "operation_timeout_s": 5.0, **settings}  # fmt: skip
    return ErpSoapConnector(ErpSoapConfig(**config))


def _ids(connector: ErpSoapConnector, state: dict[str, Any] | None = None) -> list[str]:
    return [r.source_id for page in connector.read("customers", state) for r in page.records]


# --- 1. a declared full extract, ids with attributes --------------------------------------------------------


def test_a_full_extract_loads_every_customer_under_its_text_id_and_states_the_empty_watermark(
    sap: SapService, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("INFO", "json")
    pages = list(_connector(sap, FULL_EXTRACT).read("customers", None))
    assert len(pages) == 1
    assert [r.source_id for r in pages[0].records] == NUMBERS  # the text, leading zeros kept
    assert pages[0].records[0].payload["ID"]["schemeID"] == "CustomerID"  # the raw answer is kept
    assert pages[0].state == {"changed_since": None, "full_extract": True,
                              "newest_change": "2026-11-30T14:05:09.123456+08:00"}  # fmt: skip
    assert sap.queries == [{"CustomerSimpleSelectionByNameAndAddress": {"CustomerAddressName": "*"}}]
    assert "ERP stream read as a full extract" in capsys.readouterr().err


def test_a_full_extract_run_saves_the_stated_watermark(sap: SapService, loader: Loader) -> None:
    """Through the runner, under the hub's ERP source name; its mapping (KUNNR…) refuses SAP's fields, so the
    records are quarantined — what counts here is that each is read and the watermark says why it is empty."""
    report = run_sync(_connector(sap, FULL_EXTRACT), loader)
    assert report.records_in == 5
    assert report.balanced
    with Session(loader.sessions.kw["bind"]) as session:
        watermark = repository.get_watermark(session, "erp", "customers")
    assert watermark == {"changed_since": None, "full_extract": True,
                         "newest_change": "2026-11-30T14:05:09.123456+08:00"}  # fmt: skip


def test_a_record_whose_id_is_a_structure_without_text_is_quarantined_not_keyed_by_its_repr(
    sap: SapService,
) -> None:
    stream = {**FULL_EXTRACT, "id_field": "AddressInformation.Address.PostalAddress"}  # a structure, no text
    page = next(iter(_connector(sap, stream).read("customers", None)))
    assert page.records == []
    assert [reason for reason, _ in page.unreadable] == ["missing_postaladdress"] * 5


# --- 2. paging by LastReturnedObjectID --------------------------------------------------------------------


def test_paging_by_last_returned_object_id_reads_every_page_exactly_once(paged_sap: SapService) -> None:
    pages = list(_connector(paged_sap, PAGED).read("customers", None))
    assert [[r.source_id for r in p.records] for p in pages] == [NUMBERS[:2], NUMBERS[2:4], NUMBERS[4:]]
    asked = [q["ProcessingConditions"] for q in paged_sap.queries]
    assert asked == [{"QueryHitsMaximumNumberValue": "2"},
                     {"QueryHitsMaximumNumberValue": "2", "QueryLastReturnedObjectID": NUMBERS[1]},
                     {"QueryHitsMaximumNumberValue": "2", "QueryLastReturnedObjectID": NUMBERS[3]}]  # fmt: skip
    assert pages[0].state["pass"]["token"] == NUMBERS[1]
    assert pages[-1].state["full_extract"] is True


def test_a_crash_mid_pass_resumes_after_the_last_returned_object(paged_sap: SapService) -> None:
    first = next(iter(_connector(paged_sap, PAGED).read("customers", None)))
    rest = _ids(_connector(paged_sap, PAGED), first.state)
    assert [r.source_id for r in first.records] + rest == NUMBERS


def test_an_answer_pointing_back_where_it_was_asked_from_is_refused_not_read_forever(
    paged_sap: SapService,
) -> None:
    stuck = {**PAGED, "last_id_field": "Log.MaximumLogItemSeverityCode"}  # empty: no way on
    with pytest.raises(ErpRejected, match="gives no last returned id") as caught:
        _ids(_connector(paged_sap, stuck))
    assert "AUTOHUB_ERP__STREAMS.customers.last_id_field" in str(caught.value)


# --- 3. SAP's date formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changed", "zone", "newest"),
    [("20261130140509.1234567", "Asia/Shanghai", "2026-11-30T14:05:09.123456+08:00"),
     ("20261130140509", "UTC", "2026-11-30T14:05:09+00:00"),
     ("20261201", "Asia/Shanghai", "2026-12-01T00:00:00+08:00")],
)  # fmt: skip
def test_sap_change_times_are_read_in_the_declared_zone(
    sap: SapService, changed: str, zone: str, newest: str
) -> None:
    sap.customers.append(SapCustomer("0000100099", "客户99", changed=changed))
    older = {"changed": "20200101000000"}
    sap.customers[:5] = [SapCustomer(c.number, c.name, **older) for c in sap.customers[:5]]
    (page,) = _connector(sap, FULL_EXTRACT, source_timezone=zone).read("customers", None)
    assert page.state["newest_change"] == newest


def test_a_streams_own_zone_wins_over_the_erps(sap: SapService) -> None:
    (page,) = _connector(sap, {**FULL_EXTRACT, "source_timezone": "UTC"}).read("customers", None)
    assert page.state["newest_change"] == "2026-11-30T14:05:09.123456+00:00"


def test_an_unreadable_change_time_quarantines_its_record_naming_record_and_field(sap: SapService) -> None:
    sap.customers[2] = SapCustomer(NUMBERS[2], "客户2", changed="2026113O140509")  # a letter O
    (page,) = _connector(sap, FULL_EXTRACT).read("customers", None)
    assert [r.source_id for r in page.records] == NUMBERS[:2] + NUMBERS[3:]
    ((record, error),) = page.refused
    assert (record.source_id, error.reason) == (NUMBERS[2], "bad_change_time")
    assert f"[erp/customers/{NUMBERS[2]}]" in str(error)
    assert "SystemAdministrativeData.LastChangeDateTime" in str(error)


def test_a_change_time_without_a_zone_and_no_zone_declared_is_a_config_error(sap: SapService) -> None:
    with pytest.raises(ConfigError, match="has no zone") as caught:
        _ids(_connector(sap, FULL_EXTRACT, source_timezone=None))
    assert "AUTOHUB_ERP__SOURCE_TIMEZONE" in str(caught.value)
    assert f"erp/customers/{NUMBERS[0]}" in str(caught.value)


# --- 4. a wrong parameter is a setting to fix ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "setting", "named"),
    [({"page_size_param": "PageSize"}, "page_size_param", "'PageSize'"),
     ({"page_size_param": "ProcessingConditions.QueryHitsMax"}, "page_size_param", "in 'ProcessingConditions'"),
     ({"extra_params": {"CustomerSelection.CustomerAddressName": "*"}}, "extra_params", "'CustomerSelection"),
     ({"page_token_param": "PageToken", "next_token_field": "NextPageToken"}, "page_token_param", "'PageToken'")],
)  # fmt: skip
def test_a_parameter_the_operation_lacks_is_a_config_error_naming_the_setting(
    paged_sap: SapService, change: dict[str, Any], setting: str, named: str
) -> None:
    stream = {**PAGED, **change}
    if "page_token_param" in change:
        stream = {**stream, "last_id_param": None, "more_field": None, "last_id_field": None}
    with pytest.raises(ConfigError) as caught:
        _ids(_connector(paged_sap, stream))
    message = str(caught.value)
    assert f"AUTOHUB_ERP__STREAMS.customers.{setting}" in message
    assert f"operation {OPERATION} has no parameter" in message
    assert named in message
    assert paged_sap.count("POST") == 0  # refused when the WSDL is read, before any call


def test_a_missing_required_selection_is_a_config_error_naming_extra_params(sap: SapService) -> None:
    with pytest.raises(ConfigError, match="incomplete") as caught:
        _ids(_connector(sap, {**FULL_EXTRACT, "extra_params": {}}))
    assert "AUTOHUB_ERP__STREAMS.customers.extra_params" in str(caught.value)
    assert "CustomerSimpleSelectionByNameAndAddress" in str(caught.value)


def test_zeeps_type_error_for_an_argument_becomes_the_setting_that_sent_it() -> None:
    """The fallback for a message shape the WSDL check cannot walk: zeep's own TypeError text, mapped."""
    op = ErpOperation.model_validate(PAGED)
    zeep_says = TypeError("{urn:x}Query() got an unexpected keyword argument 'QueryHitsMaximumNumberValue'. "
                          "Signature: `CustomerSimpleSelectionByNameAndAddress: ns0:Selection`")  # fmt: skip
    error = wrong_argument("customers", op, zeep_says, SourceOrigin("erp", env_block="erp"))
    assert isinstance(error, ConfigError)
    assert "AUTOHUB_ERP__STREAMS.customers.page_size_param" in str(error)
    assert "'ProcessingConditions.QueryHitsMaximumNumberValue'" in str(error)


@pytest.mark.parametrize(
    ("change", "says"),
    [({"next_token_field": None, "page_token_param": "PageToken"}, "go together"),
     ({"page_token_param": "PageToken", "next_token_field": "Next"}, "not both"),
     ({"last_id_param": None}, "more_field needs last_id_param"),
     ({"changed_since_param": "ChangedSince", "changed_field": None}, "needs changed_field"),
     ({"source_timezone": "China/Beijing"}, "no IANA time zone")],
)  # fmt: skip
def test_half_a_paging_scheme_or_an_unknown_zone_is_refused_at_start(
    change: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        ErpOperation.model_validate({**PAGED, **change})


# --- 5. logon: one try, a fatal error that says what to check -----------------------------------------------


def test_a_wrong_password_on_the_wsdl_is_one_request_and_a_fatal_auth_error(sap: SapService) -> None:
    with pytest.raises(ErpAuthRefused) as caught:
        _ids(_connector(sap, ECC, password="wrong-" + sap.password, attempts=5))
    assert sap.requests == [("GET", sap.wsdl_url.removeprefix(sap.origin), 401)]  # not 5, not 25
    assert str(caught.value).startswith(
        f"authentication refused by {sap.origin} (HTTP 401): check AUTOHUB_ERP__USERNAME and AUTOHUB_ERP__PASSWORD"
    )
    assert "not reachable" not in str(caught.value)


def test_a_wrong_password_on_a_call_is_one_request_and_a_fatal_auth_error(
    sap: SapService, loader: Loader
) -> None:
    sap.protect_wsdl = False  # the WSDL public (or cached): the first call is the first logon
    with pytest.raises(
        ErpAuthRefused, match=r"authentication refused by http://127\.0\.0\.1:\d+ \(HTTP 401\)"
    ):
        run_sync(_connector(sap, ECC, password="wrong", attempts=5), loader)
    assert (sap.count("GET"), sap.count("POST")) == (1, 1)


def test_no_credentials_at_all_are_refused_once_too(sap: SapService) -> None:
    with pytest.raises(ErpAuthRefused, match="check AUTOHUB_ERP__USERNAME"):
        _ids(_connector(sap, ECC, username="", password=""))
    assert len(sap.requests) == 1


def test_a_ws_security_username_token_is_sent_and_its_refusal_is_not_retried(sap: SapService) -> None:
    sap.require_wsse = True
    assert _ids(_connector(sap, ECC, ws_security="username_token")) == NUMBERS
    assert all(q["wsse"] == (sap.user, sap.password) for q in sap.queries)
    sap.requests.clear()
    sap.wsse_password, sap.protect_wsdl = "rotated", False  # the logon passes, the token does not
    with pytest.raises(ErpAuthRefused, match="SOAP fault wsse:FailedAuthentication"):
        _ids(_connector(sap, ECC, ws_security="username_token", attempts=5))
    assert sap.count("POST") == 1


def test_the_password_can_come_from_a_file(sap: SapService, tmp_path: Path) -> None:
    secret = tmp_path / "erp-password"
    secret.write_text(sap.password + "\n")
    assert _ids(_connector(sap, ECC, password="", password_file=secret)) == NUMBERS
    with pytest.raises(ConfigError, match="cannot read the ERP password file") as caught:
        _ids(_connector(sap, ECC, password="", password_file=tmp_path / "missing"))
    assert "AUTOHUB_ERP__PASSWORD_FILE" in str(caught.value)


# --- 6. the password in no log and no error -----------------------------------------------------------------


def test_a_password_in_the_url_reaches_no_log_line_and_no_error(
    sap: SapService, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("DEBUG", "console")
    caplog.set_level(logging.DEBUG)  # zeep's, urllib3's and requests' own loggers too
    with_password = sap.wsdl_url.replace("http://", f"http://{sap.user}:{sap.password}@")
    config = ErpSoapConfig(wsdl_url=with_password, streams={"customers": ECC},
                           source_timezone="Asia/Shanghai")  # fmt: skip
    assert _ids(ErpSoapConnector(config)) == NUMBERS  # the URL's credentials log on
    wrong = with_password.replace(sap.password, "wrong-" + sap.password[:6])
    with pytest.raises(ErpAuthRefused) as caught:
        _ids(ErpSoapConnector(ErpSoapConfig(wsdl_url=wrong, streams={"customers": ECC})))
    logged = capsys.readouterr()
    text = logged.out + logged.err + caplog.text
    assert "ERP WSDL loaded" in text  # the line that printed the URL with its password
    assert sap.origin.removeprefix("http://") in text
    for secret in (sap.password, sap.password[:6]):
        assert secret not in text
        assert secret not in str(caught.value)
        assert secret not in repr(config)


def test_a_setting_refused_at_start_does_not_print_the_password(tmp_path: Path) -> None:
    """pydantic prints a failing model's input (its first ~25 characters): a password first in it would show.
    So the settings' own checks of the password run in the connector, as a ConfigError that names settings."""
    password = "S3cr-" + secrets.token_urlsafe(12)
    settings = {"password": password, "wsdl_url": f"http://u:{password}@127.0.0.1:9/sap?wsdl"}
    with pytest.raises(ValidationError) as invalid:
        ErpSoapConfig.model_validate({**settings, "attempts": 0})
    with pytest.raises(ConfigError, match="both a password and a password file") as refused:
        ErpSoapConnector(ErpSoapConfig.model_validate({**settings, "password_file": tmp_path / "pw"}))
    for error in (invalid.value, refused.value):
        assert password[:8] not in str(error)


def test_with_settings_and_the_example_mapping_only_sap_customers_load_under_their_own_keys(
    sap: SapService, tmp_path: Path
) -> None:
    """The issue's user story: SAP settings plus mappings/examples/sap_ecc.yaml, no code — the right keys."""
    from mappings import MappingRegistry
    from store.engine import create_store_engine, session_factory
    from store.migrate import upgrade
    from store.tables import CanonicalRecordRow

    sap.customers.append(SapCustomer("0000200001", "杭州顺达物流有限公司", city="杭州", person=False))
    url = f"sqlite:///{tmp_path}/sap.db"
    upgrade(url)
    engine = create_store_engine(url)
    loader = Loader(session_factory(engine), MappingRegistry.load(EXAMPLES), pii_key=b"k")
    report = run_sync(_connector(sap, ECC, source="sap_ecc"), loader)
    assert (report.records_in, report.mapped, report.quarantined) == (6, 6, 0)
    with Session(engine) as session:
        parties = {key: body for key, body in session.execute(
            select(CanonicalRecordRow.entity_key, CanonicalRecordRow.body).where(CanonicalRecordRow.source == "sap_ecc"))}  # fmt: skip
    engine.dispose()
    assert sorted(parties) == sorted(
        [*NUMBERS, "0000200001"]
    )  # SAP's numbers with their zeros, not dict reprs
    assert parties["0000200001"]["kind"] == "organisation"
    assert parties[NUMBERS[0]]["name"]["raw"] == "客户0"


# --- 7. a declared SAP service is told its own settings, not the shipped ERP's variables ----------------------


@pytest.mark.parametrize(
    ("wrong", "named"),
    [("password", "check {file}: sap_ecc.settings.username and {file}: sap_ecc.settings.password"),
     ("password_file", "check {file}: sap_ecc.settings.username and {file}: sap_ecc.settings.password_file"),
     ("page_size_param", "(field '{file}: sap_ecc.settings.streams.customers.page_size_param')")],
)  # fmt: skip
def test_a_declared_sap_service_is_told_its_own_settings_not_the_shipped_erps(
    sap: SapService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result],
    wrong: str, named: str,
) -> None:  # fmt: skip
    """The issue's report: a SAP service declared as sap_ecc with a wrong password was told to set
    AUTOHUB_ERP__PASSWORD, which configures another source (the shipped erp) and would not have helped."""
    secret = tmp_path / "sap-password"
    secret.write_text(
        sap.password if wrong == "page_size_param" else "wrong-" + sap.password, encoding="utf-8"
    )
    monkeypatch.setenv("SAP_ECC_PASSWORD", secret.read_text(encoding="utf-8"))
    logon = (
        {"password_file": str(secret)}
        if wrong == "password_file"
        else {"password": {"env": "SAP_ECC_PASSWORD"}}
    )
    stream = {**ECC, "page_size_param": "PageSize"} if wrong == "page_size_param" else ECC
    settings = {"wsdl_url": sap.wsdl_url, "username": sap.user, **logon, "source_timezone": "Asia/Shanghai",
                "streams": {"customers": stream}, "attempts": 5}  # fmt: skip
    file = tmp_path / "sources.yaml"
    declaration = {"type": "soap", "mapping": "sap_ecc", "settings": settings}
    file.write_text(yaml.safe_dump({"version": 1, "sources": {"sap_ecc": declaration}}), encoding="utf-8")
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(file))
    monkeypatch.setenv("AUTOHUB_MAPPINGS_DIR", str(EXAMPLES))
    checked = hub_cli("sources", "check", "sap_ecc")
    shown = " ".join(checked.output.split())
    assert checked.exit_code == 1, shown
    assert named.format(file=file) in shown
    assert "AUTOHUB_ERP__" not in shown
    assert sap.count("POST") == 0  # refused at the logon or when the WSDL is read, before any call
    assert len(sap.requests) == 1  # one logon tried, not five: the user is not locked


def test_the_shipped_erp_is_still_told_its_variables(
    sap: SapService, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    """The shipped erp, declared in core/sources.yaml without settings, is configured by AUTOHUB_ERP__…: its
    errors name those variables, through the same declaration path as any other source."""
    for name, value in {"WSDL_URL": sap.wsdl_url, "USERNAME": sap.user, "PASSWORD": "wrong-" + sap.password,
                        "SOURCE_TIMEZONE": "Asia/Shanghai", "STREAMS": json.dumps({"customers": ECC})}.items():  # fmt: skip
        monkeypatch.setenv(f"AUTOHUB_ERP__{name}", value)
    assert hub_cli("db", "upgrade").exit_code == 0
    synced = hub_cli("sync", "erp")
    shown = " ".join(synced.output.split())
    assert synced.exit_code == 1, shown
    assert "check AUTOHUB_ERP__USERNAME and AUTOHUB_ERP__PASSWORD" in shown
    assert len(sap.requests) == 1
