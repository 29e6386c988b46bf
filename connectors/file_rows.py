"""Rows of an extract file — CSV/TSV in a declared encoding (older dealer tools write GBK), JSON Lines, Excel
(xlsx/xls/ods through python-calamine) — as (line number, fields), or (line number, why it is no record).

Shared by ``autohub load`` (jobs/file_load.py) and the drop-folder connector (connectors/file_drop.py), so that a
file dropped in a folder and one loaded by hand are read the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from canonical_model.entities.source import SourceRecord
from core.errors import ConfigError, DataError
from pipeline.screen import parse_json

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
JSON_LINES = {".jsonl", ".ndjson"}
EXCEL = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
Row = tuple[int, dict[str, Any] | str]  # (line or row number, the record's fields — or why it is no record)


class UnreadableRow(DataError):
    """A row of a file that is no record (or has no id): the line is kept, raw, and quarantined with where it was."""


def unreadable_row(
    source: str, stream: str, path: Path, number: int, why: str, row: dict[str, Any] | None = None
) -> tuple[SourceRecord, DataError]:
    """The raw stand-in of such a row (keyed by file and line, so a re-read is recognised) and its refusal."""
    where = f"{path.name}:{number}"
    payload: dict[str, Any] = {"_file": path.name, "_line": number, "_unreadable": why}
    if row is not None:
        payload["_row"] = row
    record = SourceRecord(source=source, stream=stream, source_id=where, payload=payload)
    return record, UnreadableRow(why, reason="unreadable_row", record=where, field=f"line {number}",
                                 fix="correct the row in the file and load it again")  # fmt: skip


def read_rows(path: Path, *, encoding: str = "utf-8", sheet: str | None = None) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _csv_rows(path, encoding, CSV_SUFFIXES[suffix])
    if suffix in JSON_LINES:
        return _json_rows(path, encoding)
    if suffix in EXCEL:
        return _excel_rows(path, sheet)
    raise ConfigError(f"cannot read {path.name}: not CSV, TSV, JSON Lines or Excel", record=str(path),
                      fix=f"one of {', '.join(sorted({*CSV_SUFFIXES, *JSON_LINES, *EXCEL}))}")  # fmt: skip


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Row]:
    with path.open(encoding=encoding, errors="strict", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            if None in row:
                extra = len(row[None])  # csv puts the fields beyond the header under the key None
                yield reader.line_num, f"{extra} more fields than the header's {len(reader.fieldnames or [])}"
            else:
                yield reader.line_num, {str(k).strip(): v for k, v in row.items() if k is not None}


def _json_rows(path: Path, encoding: str) -> Iterator[Row]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            value, reason = parse_json(line.decode(encoding, errors="replace").encode("utf-8"))
            yield number, value if isinstance(value, dict) else (reason or "a JSON value that is no object")


def _excel_rows(path: Path, sheet: str | None) -> Iterator[Row]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    table = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
    rows = iter(table.to_python(skip_empty_area=True))
    header = [str(cell).strip() for cell in next(rows, [])]
    for number, cells in enumerate(rows, start=2):
        values = [_cell(v) for v in cells]
        if any(v != "" for v in values):
            yield number, dict(zip(header, values, strict=False))


def _cell(value: Any) -> Any:
    """Excel keeps numbers as floats: a phone 13812345678 must not arrive as "13812345678.0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def count_rows(path: Path) -> int | None:
    """Rows to expect (for the progress bar): lines of a text file less its header; None for Excel."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES and suffix not in JSON_LINES:
        return None
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return max(lines - (1 if suffix in CSV_SUFFIXES else 0), 0)
