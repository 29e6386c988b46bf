"""``autohub load SOURCE FILE…``: a team tries its own extract through a source's mapping without writing Python.

CSV/TSV (any declared encoding — older dealer tools write GBK), JSON Lines and Excel (xlsx/xls/ods, read by
python-calamine) become source records of one stream of the mapping, loaded through the same Loader as every
connector: each file is one sync run with its reconciliation (in = unchanged + mapped + partly mapped +
quarantined). A row that cannot even be read as a record (more fields than the header, a JSON line that is no
object) is not dropped: it is stored raw and quarantined with its file and line.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from autohub.errors import ConfigError, DataError
from mappings import Mapper
from pipeline import Loader, LoadReport, to_source_record
from pipeline.screen import parse_json

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
JSON_LINES = {".jsonl", ".ndjson"}
EXCEL = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_PAGE = 5_000


class UnreadableRow(DataError):
    """A row of a file that is no record: the line is kept, raw, and quarantined with where it was."""


@dataclass(frozen=True)
class FileLoad:
    path: Path
    stream: str
    report: LoadReport


Row = tuple[int, dict[str, Any] | str]  # (line or row number, the record's fields — or why it is no record)


def stream_for(mapper: Mapper, path: Path, given: str | None) -> str:
    """The stream a file feeds: the one named, the mapping's only one, or the one the file's name contains."""
    streams = sorted(mapper.spec.streams)
    if given is not None:
        if given not in streams:
            raise ConfigError(f"{mapper.source} has no stream {given!r}", field="--stream",
                              fix=f"one of {', '.join(streams)}")  # fmt: skip
        return given
    if len(streams) == 1:
        return streams[0]
    named = [s for s in streams if s.lower() in path.stem.lower()]
    if not named:
        raise ConfigError(f"which stream of {mapper.source} is {path.name}?", record=str(path), field="--stream",
                          fix=f"pass --stream, one of {', '.join(streams)}")  # fmt: skip
    return max(named, key=len)


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


def load_file(
    loader: Loader, source: str, path: Path, *, stream: str | None = None, encoding: str = "utf-8",
    sheet: str | None = None, on_rows: Callable[[int], None] | None = None,
) -> FileLoad:  # fmt: skip
    """Load one file as one sync run; returns its report (the run's reconciliation)."""
    mapper = loader.registry[source]
    chosen = stream_for(mapper, path, stream)
    rows = read_rows(path, encoding=encoding, sheet=sheet)
    with loader.run(source) as report:
        while page := list(islice(rows, _PAGE)):
            good = [
                to_source_record(mapper, chosen, fields) for _, fields in page if isinstance(fields, dict)
            ]
            refused = [
                _refused(mapper, chosen, path, number, why) for number, why in page if isinstance(why, str)
            ]
            loader.load_page(report, good, refused=refused)
            if on_rows:
                on_rows(len(page))
    return FileLoad(path, chosen, report)


def _refused(mapper: Mapper, stream: str, path: Path, number: int, why: str) -> tuple[Any, DataError]:
    where = f"{path.name}:{number}"
    record = to_source_record(mapper, stream, {"_file": path.name, "_line": number, "_unreadable": why},
                              fallback_id=where)  # fmt: skip
    return record, UnreadableRow(f"{where}: {why}", reason="unreadable_row", record=where, field=f"line {number}",
                                 fix="correct the row in the file and load it again")  # fmt: skip


def count_rows(path: Path) -> int | None:
    """Rows to expect (for the progress bar): lines of a text file less its header; None for Excel."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES and suffix not in JSON_LINES:
        return None
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return max(lines - (1 if suffix in CSV_SUFFIXES else 0), 0)
