"""A hostile ERP over real HTTP (fakes.erp_soap): answers that trickle, answers too large to hold, a DOCTYPE
hidden past the first 4 kB, a text node beyond lxml's limit, WSDLs that import from the local disk or
another host.

Each test asserts the invariant, not the symptom: the call ends within its deadline (a hang fails the test
instead of hanging the suite), the sync fails with the hub's error class and a message naming the
endpoint, nothing of a refused page is stored, and what is refused as unsafe is asked once, not retried.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from zeep import Client, Transport

from connectors.erp_soap import (
    ErpAnswerTooLarge,
    ErpSoapConfig,
    ErpSoapConnector,
    UnsafeXml,
    zeep_settings,
)
from connectors.runner import run_sync
from core.errors import SourceUnavailable
from fakes.erp_soap import ErpFaults, ErpSoapServer
from fakes.erp_wsdl import wsdl
from pipeline import Loader
from store import repository
from store.tables import SourceRecordRow, SyncRun
from tests.faults.hostile import within

pytestmark = pytest.mark.faults

SCHEMA = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:imported:0"/>'


def _connector(erp: ErpSoapServer, **config: Any) -> ErpSoapConnector:
    """Small deadlines and attempts: a refusal or a give-up takes seconds, not the production minutes."""
    streams = {"customers": {**ErpSoapConfig().streams["customers"].model_dump(), "page_size": 3}}
    settings = {"wsdl_url": erp.wsdl_url, "streams": streams, "attempts": 3, "max_wait_s": 0.2,
                "operation_timeout_s": 5.0, "wsdl_timeout_s": 5.0, "operation_deadline_s": 1.0,
                "wsdl_deadline_s": 1.0, **config}  # fmt: skip
    return ErpSoapConnector(ErpSoapConfig(**settings))


def _ids(connector: ErpSoapConnector, state: dict[str, Any] | None = None) -> list[str]:
    return [r.source_id for page in connector.read("customers", state) for r in page.records]


def _sent(erp: ErpSoapServer, call: int) -> int:
    """The body bytes the client took of operation call ``call``, once the server knows it hung up."""
    give_up = time.monotonic() + 10
    while call not in erp.sent and time.monotonic() < give_up:
        time.sleep(0.05)
    return erp.sent[call]


# --- 4. a slow ERP: a total deadline per call and per WSDL load ---------------------------------------------


def test_an_answer_trickling_a_byte_at_a_time_is_cut_at_its_deadline_and_the_sync_ends(
    erp: ErpSoapServer, loader: Loader
) -> None:
    """Every read gets a byte well within the 5 s read timeout, so only a total deadline can end it."""
    erp.faults = ErpFaults(plan=dict.fromkeys(range(1, 10), "trickle"), trickle_s=0.2)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        within(
            15, "the ERP call has no total deadline", lambda: run_sync(_connector(erp, attempts=2), loader)
        )
    elapsed = time.monotonic() - started
    assert str(caught.value).startswith(
        f"ERP call GetCustomers took longer than its 1 s deadline at {erp.location}"
    )
    assert "AUTOHUB_ERP__OPERATION_DEADLINE_S" in str(caught.value)
    assert erp.calls == 2  # retried as passing, and bounded by the attempts
    assert elapsed < 2 * 1.0 + 3  # two deadlines, the backoff and some slack
    with Session(loader.sessions.kw["bind"]) as session:
        run = session.scalars(select(SyncRun)).one()
    assert run.status == "failed"
    assert "took longer than its 1 s deadline" in (run.error_message or "")


def test_a_wsdl_trickling_a_byte_at_a_time_is_cut_at_its_deadline(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(wsdl="trickle", trickle_s=0.2)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"WSDL took longer than its 0\.5 s deadline") as caught:
        within(
            15,
            "the ERP call has no total deadline",
            lambda: _ids(_connector(erp, wsdl_deadline_s=0.5, attempts=2)),
        )
    assert erp.wsdl_url in str(caught.value)
    assert erp.wsdl_requests == 2
    assert time.monotonic() - started < 2 * 0.5 + 3


# --- 5. answers too large to hold ----------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False], ids=["streamed", "with-content-length"])
def test_an_answer_over_the_byte_cap_is_refused_while_read_and_not_retried(
    erp: ErpSoapServer, chunked: bool
) -> None:
    """30 MB of tiny records against a 4 MiB cap: refused as soon as the cap is passed, the rest never read."""
    erp.faults = ErpFaults(plan={1: "huge"}, huge_bytes=30_000_000, huge_chunked=chunked)
    with pytest.raises(ErpAnswerTooLarge, match=r"answered more than 4\.0 MiB") as caught:
        within(
            15,
            "the ERP call has no total deadline",
            lambda: _ids(_connector(erp, max_answer_bytes=4 * 1024 * 1024)),
        )
    assert erp.location in str(caught.value)
    assert "AUTOHUB_ERP__MAX_ANSWER_BYTES" in str(caught.value)
    assert erp.calls == 1  # unsafe: not asked again
    # What the server got out before the client hung up: the cap plus what the sockets' buffers hold,
    # far from all 30 MB (read to the end, it would be all of it).
    assert _sent(erp, 1) < 20_000_000


def test_a_page_with_far_more_records_than_asked_is_refused(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "overfull"}, overfull_records=1000)
    with pytest.raises(ErpAnswerTooLarge, match="holds 1000 records where 3 were asked") as caught:
        _ids(_connector(erp))
    assert "max_page_records" in str(caught.value)
    assert erp.calls == 1


def test_a_refused_page_fails_the_sync_run_stores_nothing_of_it_and_keeps_the_watermark(
    erp: ErpSoapServer, loader: Loader
) -> None:
    erp.faults = ErpFaults(plan={2: "overfull"}, overfull_records=1000)  # the second page of three
    with pytest.raises(ErpAnswerTooLarge):
        run_sync(_connector(erp), loader)
    with Session(loader.sessions.kw["bind"]) as session:
        stored = session.scalar(select(func.count()).select_from(SourceRecordRow))
        run = session.scalars(select(SyncRun)).one()
        watermark = repository.get_watermark(session, "erp", "customers")
    assert stored == 3  # the first page; nothing of the refused one
    assert run.status == "failed"
    assert (run.error_message or "").startswith(
        "ErpAnswerTooLarge: ERP answer to GetCustomers holds 1000 records where 3 were asked"
    )
    assert watermark is not None
    assert watermark["changed_since"] is None  # the pass is not done: the next run resumes at page two
    assert watermark["pass"]["token"]
    erp.faults = ErpFaults()
    run_sync(_connector(erp), loader)  # the ERP mended: the next run picks up where the refusal stopped
    with Session(loader.sessions.kw["bind"]) as session:
        assert session.scalar(select(func.count()).select_from(SourceRecordRow)) == 7


def test_a_wsdl_over_the_byte_cap_is_refused_and_not_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(wsdl="huge", huge_bytes=5_000_000)
    with pytest.raises(ErpAnswerTooLarge, match=r"loading the ERP's WSDL answered more than 1\.0 MiB"):
        _ids(_connector(erp, max_answer_bytes=1024 * 1024))
    assert erp.wsdl_requests == 1


# --- 5. hostile XML the first 4 kB do not show ---------------------------------------------------------------


def test_a_doctype_hidden_past_the_first_4_kb_is_refused_and_not_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "bomb_late"})
    with pytest.raises(UnsafeXml, match="carries a DOCTYPE/ENTITY declaration") as caught:
        _ids(_connector(erp))
    assert erp.location in str(caught.value)
    assert erp.calls == 1


def test_a_wsdl_with_a_doctype_past_the_first_4_kb_is_refused(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(wsdl="bomb_late")
    with pytest.raises(UnsafeXml, match="carries a DOCTYPE/ENTITY declaration"):
        _ids(_connector(erp))
    assert erp.wsdl_requests == 1


def test_a_text_node_over_lxmls_limit_is_refused_as_unsafe_not_retried(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "huge_text"})
    with pytest.raises(UnsafeXml, match="beyond the XML parser's safety limits") as caught:
        _ids(_connector(erp))
    assert "GetCustomers" in str(caught.value)
    assert len(str(caught.value)) < 1000  # the parser's reason, not the 11 MB answer
    assert erp.calls == 1


def test_record_text_that_mentions_a_doctype_is_data_not_a_declaration(erp: ErpSoapServer) -> None:
    """A DOCTYPE can only take effect in the prolog; in CDATA or escaped in a record it is text."""
    erp.faults = ErpFaults(plan={1: "cdata_doctype"})
    pages = list(_connector(erp).read("customers", None))
    note = next(r for p in pages for r in p.records if r.source_id == "DOCTYPE-NOTE")
    assert note.payload["NAME1"] == "<!DOCTYPE html><p> <!DOCTYPE x>"
    assert sum(len(p.records) for p in pages) == 8


def test_a_proxys_html_error_page_with_a_doctype_is_passing_not_unsafe(erp: ErpSoapServer) -> None:
    erp.faults = ErpFaults(plan={1: "html_doctype"})
    assert len(_ids(_connector(erp))) == 7
    assert erp.calls == 1 + 3


# --- 7. where a WSDL may load its parts from -----------------------------------------------------------------


def _masked(error: BaseException, location: str) -> str:
    return str(error).replace(location, "<location>")


@pytest.mark.parametrize("element", ["schema", "wsdl"])
def test_a_wsdl_import_from_the_local_disk_is_refused_alike_whether_the_file_exists_or_not(
    erp: ErpSoapServer, tmp_path: Path, element: str
) -> None:
    (tmp_path / "schema.xsd").write_bytes(SCHEMA)
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    answers = []
    for name in ("schema.xsd", "secret.txt", "missing.xsd"):
        location = (tmp_path / name).as_uri()
        erp.faults = (
            ErpFaults(schema_imports=(location,))
            if element == "schema"
            else ErpFaults(wsdl_imports=(location,))
        )
        with pytest.raises(UnsafeXml) as caught:
            _ids(_connector(erp))
        assert location in str(caught.value)
        assert "TOP-SECRET" not in str(caught.value)
        answers.append((type(caught.value), _masked(caught.value, location)))
    assert len(set(answers)) == 1, answers  # nothing tells an existing file from a missing one
    assert "outside what it may load from (http://127.0.0.1:" in answers[0][1]
    assert erp.wsdl_requests == 3  # refused at once: no retry


def test_a_schema_import_from_another_host_is_refused_unless_its_origin_is_allowed(
    erp: ErpSoapServer,
) -> None:
    other = ErpSoapServer(documents={"types.xsd": SCHEMA})  # another port: another origin
    other.start()
    try:
        location = f"{other.location}/types.xsd"
        erp.faults = ErpFaults(schema_imports=(location,))
        with pytest.raises(UnsafeXml, match="outside what it may load from") as caught:
            _ids(_connector(erp))
        assert location in str(caught.value)
        assert "AUTOHUB_ERP__ALLOWED_ORIGINS" in str(caught.value)
        assert other.document_requests == 0  # refused before asking

        origin = other.location.removesuffix("/erp")
        assert len(_ids(_connector(erp, allowed_origins=[origin]))) == 7
        assert other.document_requests == 1
    finally:
        other.stop()


def test_a_schema_import_from_the_wsdls_own_origin_is_loaded(erp: ErpSoapServer) -> None:
    erp.documents["types.xsd"] = SCHEMA
    erp.faults = ErpFaults(schema_imports=(f"{erp.location}/types.xsd",))
    assert len(_ids(_connector(erp))) == 7
    assert erp.document_requests == 1


@pytest.mark.parametrize("target", ["file", "other-host"])
def test_a_redirect_of_an_allowed_import_is_checked_like_the_import(
    erp: ErpSoapServer, tmp_path: Path, target: str
) -> None:
    """requests follows a redirect anywhere, zeep's file:// adapter included: the transport follows by hand."""
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    other = ErpSoapServer(documents={"types.xsd": SCHEMA})
    other.start()
    try:
        location = (tmp_path / "secret.txt").as_uri() if target == "file" else f"{other.location}/types.xsd"
        erp.redirects["types.xsd"] = location
        erp.faults = ErpFaults(schema_imports=(f"{erp.location}/types.xsd",))
        with pytest.raises(
            UnsafeXml, match=f"redirects .* to {re.escape(location)}, outside what it may load from"
        ) as caught:
            _ids(_connector(erp))
        assert "TOP-SECRET" not in str(caught.value)
        assert other.document_requests == 0
    finally:
        other.stop()


def test_a_redirect_within_the_wsdls_origin_is_followed(erp: ErpSoapServer) -> None:
    erp.documents["types.xsd"] = SCHEMA
    erp.redirects["old-types.xsd"] = f"{erp.location}/types.xsd"
    erp.faults = ErpFaults(schema_imports=(f"{erp.location}/old-types.xsd",))
    assert len(_ids(_connector(erp))) == 7
    assert erp.document_requests == 1


@pytest.mark.parametrize("location", ["../secret.xsd", "file:///etc/hostname", "/etc/hostname"])
def test_a_local_wsdl_imports_from_its_own_folder_only(
    erp: ErpSoapServer, tmp_path: Path, location: str
) -> None:
    folder = tmp_path / "wsdl"
    folder.mkdir()
    (folder / "types.xsd").write_bytes(SCHEMA)
    (tmp_path / "secret.xsd").write_bytes(SCHEMA)
    text = wsdl(erp.location).replace(
        'elementFormDefault="qualified">',
        'elementFormDefault="qualified"><xs:import namespace="urn:imported:0" schemaLocation="types.xsd"/>',
    )
    (folder / "erp.wsdl").write_text(text)
    assert len(_ids(_connector(erp, wsdl_url=str(folder / "erp.wsdl")))) == 7  # beside it: loaded

    hostile = text.replace('schemaLocation="types.xsd"', f'schemaLocation="{location}"')
    (folder / "erp.wsdl").write_text(hostile)
    with pytest.raises(UnsafeXml, match="outside what it may load from"):
        _ids(_connector(erp, wsdl_url=str(folder / "erp.wsdl")))


def test_zeeps_own_forbid_external_lets_a_file_import_through(erp: ErpSoapServer, tmp_path: Path) -> None:
    """Why the transport checks every location itself (zeep 4.3.3): ``forbid_external`` only knows http(s).

    If this fails after a zeep upgrade, zeep has learnt to refuse local files: the transport's allow-list
    is still what lets the WSDL's own origin in and keeps other hosts out.
    """
    (tmp_path / "schema.xsd").write_bytes(SCHEMA)
    erp.faults = ErpFaults(schema_imports=((tmp_path / "schema.xsd").as_uri(),))
    Client(erp.wsdl_url, settings=zeep_settings(), transport=Transport(operation_timeout=5))  # loaded!
    erp.faults = ErpFaults(schema_imports=((tmp_path / "missing.xsd").as_uri(),))
    with pytest.raises(requests.HTTPError, match="No such file"):  # ... and tells a missing file apart
        Client(erp.wsdl_url, settings=zeep_settings(), transport=Transport(operation_timeout=5))
