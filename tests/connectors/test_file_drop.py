"""The drop-folder connector type (``file``): each file read once and set aside, bad rows quarantined with their
file and line, a file in another encoding than declared rejected with its reason — never a row dropped."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.file_drop import FileDropConfig, FileDropConnector
from connectors.runner import run_sync
from pipeline import Loader
from store.tables import CanonicalRecordRow, QuarantineRow
from tests.mappings.test_sources import FINANCE_CUSTOMER

COLUMNS = list(FINANCE_CUSTOMER)


def _drop(folder: Path, name: str, rows: list[dict[str, Any]], *, encoding: str = "utf-8",
          extra_line: str | None = None) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        if extra_line:
            handle.write(extra_line + "\r\n")
    return path


def _rows(n: int, **changes: Any) -> list[dict[str, Any]]:
    return [{**FINANCE_CUSTOMER, "cust_id": f"F{i:04d}", **changes} for i in range(n)]


def _settings(folder: Path, **more: Any) -> dict[str, Any]:
    return {"folder": str(folder), "stream": "customers", "id_field": "cust_id", "page_size": 2, **more}


def _quarantine(loader: Loader) -> list[tuple[str, str]]:
    with Session(loader.sessions.kw["bind"]) as session:
        return [
            (q.reason, q.message) for q in session.scalars(select(QuarantineRow).order_by(QuarantineRow.id))
        ]


def test_a_drop_folder_passes_the_connector_conformance_checks(loader: Loader, tmp_path: Path) -> None:
    from tests.connectors.conformance import by_type, check_conformance

    folder = tmp_path / "drop"
    _drop(folder, "dealer-2026-11.csv", [*_rows(4), {**FINANCE_CUSTOMER, "cust_id": "F0900", "phone": "12"}])
    check_conformance(by_type("file", _settings(folder), "finance", tmp_path), loader)
    assert [p.name for p in (folder / "processed").iterdir()] == ["dealer-2026-11.csv"]
    assert not list(folder.glob("*.csv"))  # read once: the second sync found nothing waiting


def test_a_bad_row_is_quarantined_with_its_file_and_line_and_the_rest_stored(
    loader: Loader, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    no_id = {**FINANCE_CUSTOMER, "cust_id": ""}
    _drop(folder, "calls.csv", [*_rows(3), no_id], extra_line="F9,too,many,fields," + ",".join(["x"] * 20))
    report = run_sync(FileDropConnector(FileDropConfig(**_settings(folder)), "finance"), loader)
    assert (report.records_in, report.mapped, report.quarantined) == (5, 3, 2)
    assert report.balanced
    messages = [message for reason, message in _quarantine(loader) if reason == "unreadable_row"]
    assert "[calls.csv:5] no 'cust_id' in the row (field 'line 5')" in messages[0]
    assert messages[1].startswith("[calls.csv:6] 12 more fields than the header's 12")


def test_a_file_in_another_encoding_than_declared_is_rejected_with_its_reason(
    loader: Loader, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    _drop(folder, "old-tool.csv", _rows(3), encoding="gbk")
    report = run_sync(FileDropConnector(FileDropConfig(**_settings(folder)), "finance"), loader)
    assert report.records_in == 0
    rejected = folder / "rejected" / "old-tool.csv"
    assert rejected.exists()
    reason = (folder / "rejected" / "old-tool.csv.reason.txt").read_text(encoding="utf-8")
    assert "[old-tool.csv:2] line 2 is not utf-8" in reason  # the first bad line, and what to declare
    assert "encoding: gbk" in reason
    # declared right, the same file loads, names and all
    rejected.rename(folder / "old-tool.csv")
    gbk = FileDropConnector(FileDropConfig(**_settings(folder, encoding="gbk")), "finance")
    assert run_sync(gbk, loader).mapped == 3
    with Session(loader.sessions.kw["bind"]) as session:
        names = {body["name"]["simplified"] for body in session.scalars(
            select(CanonicalRecordRow.body).where(CanonicalRecordRow.entity_type == "party"))}  # fmt: skip
    assert names == {"张伟"}


def test_a_sync_that_stops_mid_file_leaves_it_to_be_read_again(loader: Loader, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    _drop(folder, "big.csv", _rows(5))
    connector = FileDropConnector(FileDropConfig(**_settings(folder)), "finance")
    pages = connector.read("customers", None)
    first = next(pages)  # the runner took one page, then the sync died
    pages.close()
    assert len(first.records) == 2
    assert (folder / "big.csv").exists()
    report = run_sync(connector, loader)
    assert (report.records_in, report.mapped) == (5, 5)
    assert (folder / "processed" / "big.csv").exists()


def test_a_declared_drop_folder_is_synced_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "dealer-files"
    _drop(folder, "d31001.csv", _rows(2))
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": {"dealer_files": {
        "type": "file", "mapping": "finance", "schedule": "@daily", "settings": _settings(folder)}}}),
        encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(sources))
    assert hub_cli("db", "upgrade").exit_code == 0
    synced = hub_cli("sync", "dealer_files")
    assert synced.exit_code == 0, synced.output
    assert "dealer_files: run" in synced.output
    assert "2 records in" in synced.output
    assert (folder / "processed" / "d31001.csv").exists()
