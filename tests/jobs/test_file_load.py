"""``autohub load SOURCE FILE…``: a team's own extract through a source's mapping, no Python — CSV in GBK, JSON
Lines and Excel; a row that is no record is quarantined with its file and line, never dropped."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from store.tables import CanonicalRecordRow, QuarantineRow
from tests.mappings.test_sources import ERP_CUSTOMER

FIELDS = list(ERP_CUSTOMER)


def _customer(n: int, **more: str) -> dict[str, str]:
    return {
        **ERP_CUSTOMER,
        "KUNNR": f"C0090000{n}",
        "ID_TYPE": "",
        "ID_NO": "",
        "MOBILE": f"1395711010{n}",
        **more,
    }


def _xlsx(path: Path, rows: list[list[Any]]) -> None:
    """A minimal workbook (no writer is installed): one sheet, numbers as numbers, text inline."""

    def cell(value: Any) -> str:
        if isinstance(value, int | float):
            return f"<c t='n'><v>{value}</v></c>"
        return f"<c t='inlineStr'><is><t>{escape(str(value))}</t></is></c>"

    body = "".join(f"<row>{''.join(cell(v) for v in row)}</row>" for row in rows)
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f"<Types xmlns='{ns}/package/2006/content-types'><Default Extension='rels' ContentType='application/vnd.openxmlformats-package.relationships+xml'/><Default Extension='xml' ContentType='application/xml'/><Override PartName='/xl/workbook.xml' ContentType='application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'/><Override PartName='/xl/worksheets/sheet1.xml' ContentType='application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml'/></Types>",
        "_rels/.rels": f"<Relationships xmlns='{ns}/package/2006/relationships'><Relationship Id='r1' Type='{ns}/officeDocument/2006/relationships/officeDocument' Target='xl/workbook.xml'/></Relationships>",
        "xl/workbook.xml": f"<workbook xmlns='{ns}/spreadsheetml/2006/main' xmlns:r='{ns}/officeDocument/2006/relationships'><sheets><sheet name='客户' sheetId='1' r:id='r1'/></sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f"<Relationships xmlns='{ns}/package/2006/relationships'><Relationship Id='r1' Type='{ns}/officeDocument/2006/relationships/worksheet' Target='worksheets/sheet1.xml'/></Relationships>",
        "xl/worksheets/sheet1.xml": f"<worksheet xmlns='{ns}/spreadsheetml/2006/main'><sheetData>{body}</sheetData></worksheet>",
    }  # fmt: skip
    with zipfile.ZipFile(path, "w") as book:
        for name, xml in parts.items():
            book.writestr(name, "<?xml version='1.0' encoding='UTF-8'?>" + xml)


def _store(tmp_path: Path) -> Session:
    return Session(create_engine(f"sqlite:///{tmp_path}/autohub.db"))


def test_csv_in_gbk_json_lines_and_excel_load_with_bad_rows_quarantined_by_line(
    hub_cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    text = tmp_path / "customers_export.csv"
    with text.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        writer.writerow([_customer(1, NAME1="王建勋")[f] for f in FIELDS])
        writer.writerow([*(_customer(2)[f] for f in FIELDS), "one field too many"])
        writer.writerow([_customer(3, NAME1="欧阳娜娜")[f] for f in FIELDS])
    lines = tmp_path / "more.jsonl"
    lines.write_text(json.dumps(_customer(4), ensure_ascii=False) + "\n[1, 2]\n", encoding="gbk")
    book = tmp_path / "dealer.xlsx"
    _xlsx(book, [FIELDS, [13957110105 if f == "MOBILE" else _customer(5)[f] for f in FIELDS]])

    done = hub_cli(
        "load", "erp", str(text), str(lines), str(book), "--stream", "customers", "--encoding", "gbk"
    )
    assert done.exit_code == 0, done.output
    assert "Quarantined rows" in done.output  # after the reconciliation table
    with _store(tmp_path) as session:
        keys = set(
            session.scalars(
                select(CanonicalRecordRow.entity_key).where(CanonicalRecordRow.entity_type == "party")
            )
        )
        refused = sorted(q.message for q in session.scalars(select(QuarantineRow)))
        excel = session.scalars(
            select(CanonicalRecordRow.body).where(CanonicalRecordRow.entity_key == "C00900005")
        ).one()
    assert keys == {"C00900001", "C00900003", "C00900004", "C00900005"}
    assert len(refused) == 2
    assert "customers_export.csv:3" in refused[0]
    assert "more.jsonl:2" in refused[1]
    assert excel["contact_points"][0]["mobile"] == "+8613957110105"  # not 13957110105.0


def test_a_file_of_an_unknown_stream_says_which_streams_there_are(
    hub_cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    path = tmp_path / "export.csv"
    path.write_text("KUNNR\nC1\n", encoding="utf-8")
    done = hub_cli("load", "erp", str(path))
    assert done.exit_code == 1
    assert "customers" in done.output
    assert "--stream" in done.output
