"""A sync run ends by its total deadline (``AUTOHUB_SYNC_RUN_DEADLINE_S``), however its source is slow.

Each call has a deadline of its own, and each failure is retried: a source that trickles every answer a byte
at a time (within every read timeout, slower than any per-call deadline would catch) or fails every call just
under its deadline held one sync for ten minutes (5 × 60 s for a WSDL, 5 × 120 s per call). Here, against
real servers with the production per-call limits, a run with a deadline of a few seconds must end by it, with
``RunDeadlinePassed``; the run is recorded failed with that error and what it stored before stays stored.

Every wait is run in a helper thread (``_within``): a transport or a retry that ignores the run's deadline
fails its test instead of hanging the suite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.erp_soap import ErpSoapConfig, ErpSoapConnector
from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.rest_config import HttpSourceConfig
from connectors.rest_source import HttpConnector
from connectors.runner import run_sync
from connectors.sync_clock import RunDeadlinePassed, SyncClock, sync_clock
from fakes.erp_soap import ErpFaults, ErpSoapServer
from fakes.rest_partner import RestPartner
from fakes.serving import serve_in_thread, stop_serving
from pipeline import Loader
from store import repository
from store.tables import SourceRecordRow, SyncRun
from tests.connectors.test_finance_sql import _insert, _row, finance_url  # noqa: F401 - the MariaDB fixture
from tests.faults.hostile import within
from tests.mappings.test_sources import INSURANCE_POLICY

pytestmark = pytest.mark.faults

DEADLINE_S = 3.0
SLACK_S = 2.0  # a trickled byte, the thread hand-over and a busy 2-core machine; far below any per-call limit
FIELD = "AUTOHUB_SYNC_RUN_DEADLINE_S"


def _stored(loader: Loader, source: str) -> int:
    with Session(loader.sessions.kw["bind"]) as session:
        count = select(func.count()).select_from(SourceRecordRow).where(SourceRecordRow.source == source)
        return int(session.scalar(count) or 0)


def _run(loader: Loader) -> SyncRun:
    with Session(loader.sessions.kw["bind"]) as session:
        return session.scalars(select(SyncRun)).one()


def _ends_by_the_deadline(sync: Callable[[], object], deadline_s: float = DEADLINE_S) -> RunDeadlinePassed:
    """The error ``sync()`` ended with, asserted to be the run's deadline and to have come by it."""
    started = time.monotonic()
    with pytest.raises(RunDeadlinePassed) as caught:
        within(deadline_s + 3 * SLACK_S, "a wait of the sync ignores its run deadline", sync)
    elapsed = time.monotonic() - started
    assert elapsed < deadline_s + SLACK_S, f"ended after {elapsed:.1f} s: a {deadline_s:g} s run deadline"
    assert caught.value.field == FIELD
    return caught.value


# --- soap -------------------------------------------------------------------------------------------------


def _erp(erp: ErpSoapServer, **config: Any) -> ErpSoapConnector:
    """The production per-call limits (60 s WSDL, 120 s per call, 5 attempts): only the run's deadline is short."""
    streams = {"customers": {**ErpSoapConfig().streams["customers"].model_dump(), "page_size": 3}}
    return ErpSoapConnector(ErpSoapConfig(wsdl_url=erp.wsdl_url, streams=streams, **config))


def test_a_soap_answer_trickling_under_every_per_call_limit_ends_the_run_by_its_deadline(
    erp: ErpSoapServer, loader: Loader
) -> None:
    """Page one comes at once; page two a byte every 0.2 s — within the 60 s read timeout, and 200 s for the
    answer, past the 120 s call deadline. Without the run's deadline the sync held on for minutes."""
    erp.faults = ErpFaults(plan=dict.fromkeys(range(2, 10), "trickle"), trickle_s=0.2)
    clock = SyncClock(deadline_s=DEADLINE_S)
    error = _ends_by_the_deadline(lambda: run_sync(_erp(erp), loader, clock=clock))
    assert str(error).startswith(
        f"[erp] ERP call GetCustomers at {erp.location} was cut off at the sync run's total deadline of 3 s"
    )
    assert erp.calls == 2  # cut, not retried: no attempt starts past the run's deadline
    run = _run(loader)
    assert run.status == "failed"
    assert (run.error_message or "").startswith(f"RunDeadlinePassed: {error}")
    assert _stored(loader, "erp") == 3  # page one stays stored …
    with Session(loader.sessions.kw["bind"]) as session:
        watermark = repository.get_watermark(session, "erp", "customers")
    assert watermark is not None
    assert watermark["pass"]["token"]  # … and the next run resumes at page two


def test_a_trickling_wsdl_ends_the_run_by_its_deadline(erp: ErpSoapServer, loader: Loader) -> None:
    """The WSDL a byte every 0.2 s: each read within the 30 s read timeout, the load within neither the 60 s
    WSDL deadline nor the run's. Asked once, not five times."""
    erp.faults = ErpFaults(wsdl="trickle", trickle_s=0.2)
    clock = SyncClock(deadline_s=DEADLINE_S)
    error = _ends_by_the_deadline(lambda: run_sync(_erp(erp), loader, clock=clock))
    assert str(error).startswith(
        f"[erp] loading the ERP's WSDL at {erp.wsdl_url} was cut off at the sync run's total deadline of 3 s"
    )
    assert erp.wsdl_requests == 1
    assert _run(loader).status == "failed"


def test_soap_calls_failing_just_under_their_deadline_are_retried_only_within_the_run(
    erp: ErpSoapServer, loader: Loader
) -> None:
    """Every call fails after 0.9 s of its 1 s deadline (a gateway's 500): five attempts of a page would take
    five seconds, but the run has three. It ends by then, whether a cut call or the retry policy ends it."""
    erp.faults = ErpFaults(latency_s=0.9, plan=dict.fromkeys(range(1, 20), "http_500"))
    clock = SyncClock(deadline_s=DEADLINE_S)
    connector = _erp(erp, operation_deadline_s=1.0, max_wait_s=0.2)
    error = _ends_by_the_deadline(lambda: run_sync(connector, loader, clock=clock))
    assert "the sync run's total deadline of 3 s" in str(error)
    assert 2 <= erp.calls <= 4  # retried, but not past the run's deadline
    assert _run(loader).status == "failed"


def test_cli_sync_ended_by_its_deadline_says_so_in_one_line_and_keeps_what_it_stored(
    erp: ErpSoapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    """``autohub sync erp``: customers come at once, vehicles trickle. The user reads why the sync stopped and
    what to do; the run is recorded failed with that error; the customers and their watermark are kept."""
    erp.faults = ErpFaults(plan=dict.fromkeys(range(2, 10), "trickle"), trickle_s=0.2)
    monkeypatch.setenv("AUTOHUB_ERP__WSDL_URL", erp.wsdl_url)
    monkeypatch.setenv(FIELD, f"{DEADLINE_S:g}")
    monkeypatch.setenv("COLUMNS", "400")  # unwrapped, as a log collector or a wide terminal shows it
    assert hub_cli("db", "upgrade").exit_code == 0
    started = time.monotonic()
    result = within(
        DEADLINE_S + 3 * SLACK_S,
        "a wait of the sync ignores its run deadline",
        lambda: hub_cli("sync", "erp"),
    )
    assert time.monotonic() - started < DEADLINE_S + SLACK_S
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("sync erp failed")]
    assert line == (  # one line, beside the log: why it stopped, the setting, what is kept and what to do
        f"sync erp failed: [erp] ERP call GetVehicles at {erp.location} was cut off at the sync run's total "
        f"deadline of 3 s (field '{FIELD}') — what was read before is stored and the next run goes on from there; "
        f"raise {FIELD} only if the source is this slow on purpose"
    ), result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'autohub.db'}")
    try:
        with Session(engine) as session:
            run = session.scalars(select(SyncRun)).one()
            customers = session.scalar(
                select(func.count()).select_from(SourceRecordRow).where(SourceRecordRow.stream == "customers")
            )
            watermark = repository.get_watermark(session, "erp", "customers")
    finally:
        engine.dispose()
    assert run.status == "failed"
    assert (run.error_message or "").startswith("RunDeadlinePassed: [erp] ERP call GetVehicles at ")
    assert customers == 7
    assert watermark == {"changed_since": "2024-03-01T10:06:00+08:00"}


# --- http -------------------------------------------------------------------------------------------------


def _policy(n: int) -> dict[str, Any]:
    return {**INSURANCE_POLICY, "policyNo": f"PX{n:06d}", "updatedAt": f"2024-05-01T08:{n:02d}:00+08:00"}


def _partner(**options: Any) -> RestPartner:
    return RestPartner(records=[_policy(n) for n in range(7)], id_field="policyNo", change_field="updatedAt",
                       paging="offset", layout=lambda items, meta: {"result": {"policies": items}}, **options)  # fmt: skip


def _http(base_url: str, partner: RestPartner, **config: Any) -> HttpConnector:
    """The production per-request limits (10 s read timeout, 60 s deadline, 5 attempts, 30 s longest wait)."""
    streams = {"policies": {"path": partner.path, "records_path": "result.policies", "id_path": "policyNo",
                            "change_time_path": "updatedAt", "incremental": {"param": "since"},
                            "paging": {"kind": "offset", "page_size": 3}}}  # fmt: skip
    return HttpConnector(HttpSourceConfig.model_validate({"base_url": base_url, "streams": streams, **config}),
                         "insurance")  # fmt: skip


def _trickling(partner: RestPartner, trickled: set[int], trickle_s: float) -> type[BaseHTTPRequestHandler]:
    """``partner``'s answers over HTTP, those to the requests numbered in ``trickled`` a byte every
    ``trickle_s``: each read gets a byte within any read timeout, so only a total deadline ends the answer."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            partner.requests.append(query)
            body, headers = partner.answer(query)
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            pace = len(partner.requests) in trickled
            try:
                for start in range(0, len(data), 1 if pace else len(data)):
                    self.wfile.write(data[start : start + (1 if pace else len(data))])
                    if pace:
                        time.sleep(trickle_s)
            except OSError:  # the client hung up: the rest is never sent
                return

    return Handler


def test_an_http_answer_trickling_under_every_per_request_limit_ends_the_run_by_its_deadline(
    loader: Loader,
) -> None:
    """Page one comes at once; page two a byte every 0.2 s: within the 10 s read timeout, and past the 60 s
    request deadline only after minutes."""
    partner = _partner()
    server = serve_in_thread(_trickling(partner, trickled={2, 3, 4, 5, 6}, trickle_s=0.2), "127.0.0.1", 0)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        clock = SyncClock(deadline_s=DEADLINE_S)
        error = _ends_by_the_deadline(lambda: run_sync(_http(base_url, partner), loader, clock=clock))
    finally:
        stop_serving(server)
    assert str(error).startswith(
        "[insurance] /api/records was cut off at the sync run's total deadline of 3 s"
    )
    assert len(partner.requests) == 2  # cut, not retried
    run = _run(loader)
    assert run.status == "failed"
    assert (run.error_message or "").startswith(f"RunDeadlinePassed: {error}")
    assert _stored(loader, "insurance") == 3  # page one stays stored; the pass is read again next run


def test_the_retry_policy_does_not_sleep_a_wait_that_ends_past_the_run_deadline(loader: Loader) -> None:
    """A 429 asking for 6 s when the run has 3: the policy gives up at once, naming the wait and the error,
    instead of sleeping 6 s (it used to, then asked again past the deadline)."""
    partner = _partner(faults={1: 429}, retry_after_s=6)
    base_url = partner.start()
    try:
        clock = SyncClock(deadline_s=DEADLINE_S)
        started = time.monotonic()
        error = _ends_by_the_deadline(lambda: run_sync(_http(base_url, partner), loader, clock=clock))
        assert time.monotonic() - started < 1.0  # not slept towards the deadline either
    finally:
        partner.stop()
    assert str(error).startswith(
        "[insurance] attempt 1 failed (insurance on /api/records: rate limited (429); asked to wait 6 s) and the "
        "sync run's total deadline of 3 s ends in "
    )
    assert "before the next attempt could start (in 6.0 s); not retried" in str(error)
    assert len(partner.requests) == 1
    assert (_run(loader).error_message or "").startswith(f"RunDeadlinePassed: {error}")


def test_no_request_is_sent_once_the_run_deadline_has_passed() -> None:
    """A call asked for after the run's deadline (the page before used it up) does not reach the source."""
    partner = _partner()
    base_url = partner.start()
    try:
        clock = SyncClock(deadline_s=0.01)
        time.sleep(0.05)
        with sync_clock(clock), pytest.raises(RunDeadlinePassed, match=r"total deadline of 0\.01 s"):
            next(iter(_http(base_url, partner).read("policies", None)))
    finally:
        partner.stop()
    assert partner.requests == []


# --- sql --------------------------------------------------------------------------------------------------


@pytest.mark.mariadb
def test_a_finance_query_slower_than_the_run_is_stopped_by_the_database_at_its_deadline(
    finance_url: str,  # noqa: F811 - the MariaDB fixture imported above
    loader: Loader,
) -> None:
    """A view that takes 0.5 s a row (a table behind a lock, a scan without an index): its first page of 10
    needs 5 s, and sends no byte before. The database stops it at the run's 3 s, the run ends there."""
    _insert(finance_url, *[_row(f"F{n:03d}", f"2024-03-01 10:00:{n:02d}") for n in range(10)])
    engine = create_engine(finance_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE VIEW slow_customers AS SELECT * FROM customers WHERE SLEEP(0.5) = 0"))
    engine.dispose()
    config = FinanceSqlConfig(url=finance_url, table="slow_customers", page_size=10)
    clock = SyncClock(deadline_s=DEADLINE_S)
    error = _ends_by_the_deadline(lambda: run_sync(FinanceSqlConnector(config), loader, clock=clock))
    assert str(error).startswith(
        "[finance] a query on 'slow_customers' was stopped at the sync run's total deadline of 3 s"
    )
    assert _run(loader).status == "failed"
