"""Hostile rows in a pull source: each is quarantined with its reason, the rest of its page is stored, and the
sync after it still moves on (a row stamped 9999-12-31 once froze the watermark for good).

The source here is an SQLite accounting database — SQLite is the engine that lets a DATETIME column hold any
text and an INTEGER column hold ``Infinity``, as the outside probe found; MariaDB's strict mode refuses both.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.runner import run_sync
from pipeline import Loader
from store.tables import CanonicalRecordRow, QuarantineRow
from tests.mappings.test_sources import FINANCE_CUSTOMER

pytestmark = pytest.mark.faults
DDL = """CREATE TABLE customers (cust_id VARCHAR(20) PRIMARY KEY, cust_name VARCHAR(100), cust_type VARCHAR(10),
    id_type VARCHAR(20), id_number VARCHAR(20), phone VARCHAR(30), credit_grade VARCHAR(10), credit_term_days INT,
    credit_limit DECIMAL(18,2), currency CHAR(3), receivable_balance DECIMAL(18,2), updated_at DATETIME)"""


def _source(tmp_path: Path, rows: list[dict[str, Any]]) -> str:
    """An SQLite accounting database holding ``rows`` exactly as written (the driver's own insert, no typing)."""
    path = tmp_path / "accounting.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(DDL)
        for row in rows:
            columns = ", ".join(row)  # the test's own constant column names
            insert = f"INSERT INTO customers ({columns}) VALUES ({', '.join('?' * len(row))})"  # noqa: S608
            db.execute(insert, list(row.values()))
    return f"sqlite:///{path}"


def _row(n: int, at: str | None = "2024-03-01 10:00:00", **changes: Any) -> dict[str, Any]:
    return {**FINANCE_CUSTOMER, "cust_id": f"F{n:03d}", "phone": f"139{n:08d}", "updated_at": at, **changes}


def _counts(loader: Loader) -> tuple[int, dict[str, int]]:
    with Session(loader.sessions.kw["bind"]) as session:
        parties = session.scalar(select(func.count()).select_from(CanonicalRecordRow)
                                 .where(CanonicalRecordRow.entity_type == "party"))  # fmt: skip
        reasons = dict(
            session.execute(select(QuarantineRow.reason, func.count()).group_by(QuarantineRow.reason)).all()
        )  # type: ignore[arg-type]
    return int(parties or 0), reasons


def _sync(url: str, loader: Loader, **config: Any) -> Any:
    return run_sync(FinanceSqlConnector(FinanceSqlConfig(url=url, page_size=4, **config)), loader)  # type: ignore[arg-type]


def test_each_hostile_row_is_quarantined_and_its_page_is_stored(tmp_path: Path, loader: Loader) -> None:
    rows = [_row(n, f"2024-03-01 10:00:{n:02d}") for n in range(12)]
    rows += [
        _row(100, cust_id="K" * 300),
        _row(101, cust_name="王\u0000伟"),
        _row(102, at="not a date at all"),
        _row(103, at="2024-02-30 25:61:00"),
        _row(104, credit_term_days=float("inf")),
        _row(105, credit_term_days=-float("inf")),
        *[_row(200 + n, at=None) for n in range(5)],  # more than a page without a change time
        _row(106, at="9999-12-31 23:59:59"),
    ]
    url = _source(tmp_path, rows)
    first = _sync(url, loader)
    assert first.records_in == len(rows)
    assert first.records_in == first.unchanged + first.mapped + first.quarantined
    parties, reasons = _counts(loader)
    assert parties == 12
    assert reasons == {"unsafe_input.id_too_long": 1, "unsafe_input.nul_character": 1, "bad_cursor": 2,
                       "unsafe_input.non_finite_number": 2, "missing_cursor": 5, "future_cursor": 1}  # fmt: skip

    # The source goes on: a row changed now is read by the next sync, past the far-future one.
    engine = create_engine(url)
    now = (datetime.now(UTC) + timedelta(hours=8)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )  # the source keeps Shanghai time
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET updated_at = :at, credit_grade = 'B' WHERE cust_id = 'F003'"),
            {"at": now},
        )
    engine.dispose()
    second = _sync(url, loader)
    assert second.mapped == 1
    assert second.quarantined == 0  # the hostile rows read again are recognised, not quarantined twice
    assert _counts(loader)[1] == reasons


def test_a_far_future_row_does_not_move_the_watermark(tmp_path: Path, loader: Loader) -> None:
    url = _source(tmp_path, [_row(1), _row(2, at="9999-12-31 00:00:00")])
    _sync(url, loader)
    from store import repository

    with loader.sessions() as session:
        state = repository.get_watermark(session, "finance", "customers")
    assert state is not None
    assert state["changed_since"].startswith("2024-03-01T10:00:00")


def test_a_page_of_rows_without_change_time_does_not_loop(tmp_path: Path, loader: Loader) -> None:
    url = _source(tmp_path, [_row(n, at=None) for n in range(9)])
    report = _sync(url, loader)
    assert (report.records_in, report.quarantined) == (9, 9)
