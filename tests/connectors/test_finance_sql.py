"""The finance connector against the real MariaDB on this machine: cursor edge cases, look-back, faults."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.runner import run_sync
from core.errors import ConfigError, SourceUnavailable
from pipeline import Loader
from store.tables import QuarantineRow, SourceRecordRow
from tests.mappings.test_sources import FINANCE_CUSTOMER

pytestmark = pytest.mark.mariadb
MARIADB = "mysql+pymysql://root@127.0.0.1:3306"

DDL = """
CREATE TABLE customers (
    cust_id VARCHAR(20) PRIMARY KEY, cust_name VARCHAR(100), cust_type VARCHAR(10), id_type VARCHAR(20),
    id_number VARCHAR(20), phone VARCHAR(30), credit_grade VARCHAR(10), credit_term_days INT,
    credit_limit DECIMAL(18,2), currency CHAR(3), receivable_balance DECIMAL(18,2),
    updated_at DATETIME NOT NULL, INDEX ix_cursor (updated_at, cust_id)
)
"""


@pytest.fixture
def finance_url() -> Iterator[str]:
    name = f"autohub_finance_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(MARIADB, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    except Exception as exc:
        pytest.skip(f"MariaDB not reachable at {MARIADB}: {exc}")
    url = f"{MARIADB}/{name}?charset=utf8mb4"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(DDL))
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


def _insert(url: str, *rows: dict[str, Any]) -> None:
    engine = create_engine(url)
    customers = Table("customers", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(customers.insert(), list(rows))
    engine.dispose()


def _row(cust_id: str, updated_at: str, **changes: Any) -> dict[str, Any]:
    base = {k: v for k, v in FINANCE_CUSTOMER.items()}
    return {**base, "cust_id": cust_id, "updated_at": updated_at, **changes}


def _connector(url: str, **config: Any) -> FinanceSqlConnector:
    return FinanceSqlConnector(FinanceSqlConfig(url=url, **config))  # type: ignore[arg-type]


def _read_ids(
    connector: FinanceSqlConnector, state: dict[str, Any] | None
) -> tuple[list[str], dict[str, Any] | None]:
    ids: list[str] = []
    for page in connector.read("customers", state):
        ids.extend(r.source_id for r in page.records)
        state = page.state
    return ids, state


def test_rows_sharing_a_timestamp_across_pages_are_read_once(finance_url: str) -> None:
    same = "2024-03-01 10:00:00"
    _insert(finance_url, *[_row(f"F{n:03d}", same) for n in range(7)], _row("F100", "2024-03-01 10:00:01"))
    ids, state = _read_ids(_connector(finance_url, page_size=2, lookback_s=0), None)
    assert ids == [f"F{n:03d}" for n in range(7)] + ["F100"]
    assert state == {"changed_since": "2024-03-01T10:00:01+08:00", "key": "F100", "timezone": "Asia/Shanghai"}
    again, _ = _read_ids(_connector(finance_url, page_size=2, lookback_s=0), state)
    assert again == []


def test_a_late_row_with_an_older_timestamp_is_caught_by_the_lookback(finance_url: str) -> None:
    _insert(finance_url, _row("F001", "2024-03-01 10:00:00"), _row("F002", "2024-03-01 10:05:00"))
    _, state = _read_ids(_connector(finance_url, lookback_s=600), None)
    # Committed after the sync, stamped before its watermark (a long transaction in the accounting system).
    _insert(finance_url, _row("F003", "2024-03-01 10:01:00"), _row("F004", "2024-03-01 09:00:00"))
    with_window, _ = _read_ids(_connector(finance_url, lookback_s=600), state)
    assert "F003" in with_window
    assert "F004" not in with_window  # older than the window: documented limit of the setting
    without_window, _ = _read_ids(_connector(finance_url, lookback_s=0), state)
    assert "F003" not in without_window


def test_sync_into_the_store_is_idempotent_and_quarantines_bad_rows(finance_url: str, loader: Loader) -> None:
    _insert(finance_url, _row("F001", "2024-03-01 10:00:00"), _row("F002", "2024-03-01 10:00:00"),
            _row("F003", "2024-03-01 10:00:00", id_number="110105194912310021"))  # fmt: skip
    first = run_sync(_connector(finance_url, page_size=2), loader)
    assert (first.records_in, first.mapped, first.quarantined) == (3, 2, 1)
    second = run_sync(_connector(finance_url, page_size=2), loader)  # the look-back re-reads all three
    assert (second.records_in, second.unchanged, second.mapped, second.quarantined) == (3, 3, 0, 0)
    _insert(finance_url, _row("F004", "2024-03-01 10:00:30"))
    third = run_sync(_connector(finance_url, page_size=2), loader)
    assert (third.mapped, third.unchanged) == (1, 3)
    with Session(loader.sessions.kw["bind"]) as session:
        assert len(session.scalars(select(SourceRecordRow)).all()) == 4
        (entry,) = session.scalars(select(QuarantineRow)).all()
        assert (entry.source_id, entry.field) == ("F003", "id_number")
        assert entry.reason.startswith("invalid_resident_id.")


def test_an_unreachable_database_is_retried_then_reported(loader: Loader) -> None:
    connector = _connector("mysql+pymysql://root@127.0.0.1:1/none", attempts=2, max_wait_s=0.1)
    with pytest.raises(SourceUnavailable, match="unreachable"):
        run_sync(connector, loader)


def test_a_wrong_table_is_a_config_error_not_retried(finance_url: str, loader: Loader) -> None:
    with pytest.raises(ConfigError, match="table 'clients' not found"):
        run_sync(_connector(finance_url, table="clients"), loader)


def test_autohub_sync_finance_command(
    finance_url: str, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    _insert(
        finance_url, _row("F001", "2024-03-01 10:00:00"), _row("F002", "2024-03-01 10:00:00", phone="12345")
    )
    monkeypatch.setenv("AUTOHUB_FINANCE__URL", finance_url)
    monkeypatch.setenv("AUTOHUB_FINANCE__PAGE_SIZE", "1")
    refused = hub_cli("sync", "finance")
    assert refused.exit_code == 2
    assert "autohub db upgrade" in refused.output
    assert hub_cli("db", "upgrade").exit_code == 0
    result = hub_cli("sync", "finance")
    assert result.exit_code == 0, result.output
    assert "2 records in" in result.output
    assert "1 mapped" in result.output
    assert "quarantined 1 × invalid_mobile.length" in result.output
    assert "root@" not in result.output  # the source URL is a secret


def test_finance_passes_the_connector_conformance_checks(
    finance_url: str, loader: Loader, tmp_path: Path
) -> None:
    from tests.connectors.conformance import by_type, check_conformance

    _insert(finance_url, *[_row(f"F{n:03d}", f"2024-03-01 10:0{n}:00") for n in range(5)],
            _row("F900", "2024-03-01 10:09:00", phone="12"))  # fmt: skip
    check_conformance(by_type("sql", {"url": finance_url, "page_size": 2}, "finance", tmp_path), loader)
