"""A source whose clock runs fast never costs the rows committed after it (issue: a finance row stamped 50
minutes ahead moved the watermark there, and the honest rows committed next lay behind watermark − look-back,
unread for ever, while every sync said "1 in · 1 unchanged").

For each pull type with a change-time cursor (sql, http, soap): one record stamped +50 min is read and stored;
then rows committed afterwards with honest stamps (now, now + 1 min) must all be read by the next sync, and the
saved watermark is never later than the run's start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.erp_soap import ErpSoapConfig, ErpSoapConnector
from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.rest_config import HttpSourceConfig
from connectors.rest_source import HttpConnector
from connectors.runner import run_sync
from connectors.sync_clock import SyncClock
from fakes.erp_soap import ErpSoapServer
from fakes.rest_partner import RestPartner
from pipeline import Loader
from store import repository
from store.tables import SourceRecordRow
from tests.faults.test_hostile_rows import DDL, _row
from tests.mappings.test_sources import ERP_CUSTOMER, INSURANCE_POLICY

pytestmark = pytest.mark.faults
SHANGHAI = timedelta(hours=8)


def _stored(loader: Loader, source: str) -> set[str]:
    with Session(loader.sessions.kw["bind"]) as session:
        return set(session.scalars(select(SourceRecordRow.source_id).where(SourceRecordRow.source == source)))


def _watermark(loader: Loader, source: str, stream: str) -> dict[str, Any]:
    with Session(loader.sessions.kw["bind"]) as session:
        state = repository.get_watermark(session, source, stream)
    assert state is not None
    return state


# --- sql ----------------------------------------------------------------------------------------------------


def _local(moment: datetime) -> str:
    """Finance databases keep naive Shanghai time."""
    return (moment.astimezone(UTC) + SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _insert(url_path: Path, *rows: dict[str, Any]) -> None:
    with closing(sqlite3.connect(url_path)) as db, db:
        for row in rows:
            columns = ", ".join(row)  # the test's own constant column names
            insert = f"INSERT INTO customers ({columns}) VALUES ({', '.join('?' * len(row))})"  # noqa: S608
            db.execute(insert, list(row.values()))


@pytest.mark.parametrize("lookback_s", [600, 0], ids=["look-back", "keyset"])
def test_sql_rows_after_a_fast_stamp_are_all_read(tmp_path: Path, loader: Loader, lookback_s: int) -> None:
    path = tmp_path / "accounting.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(DDL)
    now = datetime.now(UTC)
    _insert(path, _row(1, _local(now - timedelta(minutes=5))), _row(2, _local(now + timedelta(minutes=50))))
    config = FinanceSqlConfig(url=f"sqlite:///{path}", page_size=4, lookback_s=lookback_s)  # type: ignore[arg-type]
    clock = SyncClock()
    first = run_sync(FinanceSqlConnector(config), loader, clock=clock)
    assert (first.records_in, first.quarantined) == (2, 0)  # the fast row is inside the allowance: stored
    saved = datetime.fromisoformat(_watermark(loader, "finance", "customers")["changed_since"])
    assert saved <= clock.started, "the watermark passed the run's own start"

    later = datetime.now(UTC)  # rows committed after the sync, stamped honestly
    _insert(path, _row(3, _local(later)), _row(4, _local(later + timedelta(minutes=1))))
    second = run_sync(FinanceSqlConnector(config), loader)
    assert {"F003", "F004"} <= _stored(loader, "finance")
    assert second.mapped == 2
    third = run_sync(FinanceSqlConnector(config), loader)  # nothing new: all recognised, nothing lost
    assert (third.mapped, third.quarantined) == (0, 0)


# --- http ---------------------------------------------------------------------------------------------------


@pytest.fixture
def partner() -> Iterator[RestPartner]:
    server = RestPartner(records=[], id_field="policyNo", change_field="updatedAt")
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _policy(n: int, at: datetime) -> dict[str, Any]:
    return {**INSURANCE_POLICY, "policyNo": f"PX{n:06d}", "updatedAt": at.astimezone(UTC).isoformat()}


def test_http_records_after_a_fast_stamp_are_all_read(partner: RestPartner, loader: Loader) -> None:
    spec = {"path": partner.path, "records_path": "data.items", "id_path": "policyNo", "change_time_path": "updatedAt",
            "incremental": {"param": "since", "lookback_s": 300}, "paging": {"kind": "none"}}  # fmt: skip
    config = HttpSourceConfig.model_validate(
        {"base_url": partner.base_url, "auth": {"kind": "none"}, "streams": {"policies": spec}}  # type: ignore[attr-defined]
    )
    now = datetime.now(UTC)
    partner.records += [_policy(1, now - timedelta(minutes=5)), _policy(2, now + timedelta(minutes=50))]
    clock = SyncClock()
    run_sync(HttpConnector(config, "insurance"), loader, clock=clock)
    saved = datetime.fromisoformat(_watermark(loader, "insurance", "policies")["changed_since"])
    assert saved <= clock.started, "the watermark passed the run's own start"

    later = datetime.now(UTC)
    partner.records += [_policy(3, later), _policy(4, later + timedelta(minutes=1))]
    run_sync(HttpConnector(config, "insurance"), loader)
    assert _stored(loader, "insurance") == {f"PX{n:06d}" for n in (1, 2, 3, 4)}


# --- soap ---------------------------------------------------------------------------------------------------


@pytest.fixture
def erp() -> Iterator[ErpSoapServer]:
    server = ErpSoapServer(records={"customers": [], "vehicles": [], "sales_orders": []})
    server.start()
    yield server
    server.stop()


def _customer(n: int, at: datetime) -> dict[str, Any]:
    return {**ERP_CUSTOMER, "KUNNR": f"C{n:08d}", "CHANGED_AT": (at.astimezone(UTC) + SHANGHAI).strftime(
        "%Y-%m-%dT%H:%M:%S+08:00")}  # fmt: skip


def test_soap_records_after_a_fast_stamp_are_all_read(erp: ErpSoapServer, loader: Loader) -> None:
    streams = {name: {**op.model_dump(), "page_size": 3} for name, op in ErpSoapConfig().streams.items()}
    config = ErpSoapConfig(wsdl_url=erp.wsdl_url, streams=streams, max_wait_s=0.3)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    erp.records["customers"] += [
        _customer(1, now - timedelta(minutes=5)),
        _customer(2, now + timedelta(minutes=50)),
    ]
    clock = SyncClock()
    run_sync(ErpSoapConnector(config), loader, streams=["customers"], clock=clock)
    saved = datetime.fromisoformat(_watermark(loader, "erp", "customers")["changed_since"])
    assert saved <= clock.started, "the watermark passed the run's own start"

    later = datetime.now(UTC)
    erp.records["customers"] += [_customer(3, later), _customer(4, later + timedelta(minutes=1))]
    run_sync(ErpSoapConnector(config), loader, streams=["customers"])
    assert {f"C{n:08d}" for n in (1, 2, 3, 4)} <= _stored(loader, "erp")
