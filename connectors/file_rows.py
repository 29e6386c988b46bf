"""Rows of an extract file — CSV/TSV in a declared encoding (older dealer tools write GBK), JSON Lines, Excel
(xlsx/xls/ods through python-calamine) — as (line number, fields), or (line number, why it is no record).

Shared by ``autohub load`` (jobs/file_load.py) and the drop-folder connector (connectors/file_drop.py), so that a
file dropped in a folder and one loaded by hand are read the same way.

A file is opened (``ExtractFile.open``) before any of its rows is stored: decoded whole (connectors/file_lines.py)
and its header read, so that a file in two encodings, or one whose header lacks the id column, is refused as a
file — one message naming the file, the line or column and the fix — not half loaded, nor turned into thousands
of row errors. Its rows are then parsed so that one bad row costs only itself:

- **An unterminated quote** once swallowed the rest of the file into one customer's name ("2 rows in · 2
  mapped" of 5). A quoted field may legitimately hold line breaks (an address), so a row that runs over several
  lines is kept only if it ends well: with as many fields as the header, within ``max_row_lines`` and
  ``max_row_bytes``, before the file ends. Otherwise its first line is quarantined as the broken row and the
  lines after it are parsed again as rows of their own.
- **A row over ``max_row_bytes``** is one quarantined row; the csv module never sees it.

Every physical line is accounted for (``LineTally``: header, blank, or part of a row), and the tally must
balance against the lines the scan counted before parsing, so a row cannot vanish unseen.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canonical_model.entities.source import SourceRecord
from connectors.file_lines import (
    RAW_SAMPLE_CHARS,
    FileReadLimits,
    Line,
    LineTally,
    UnreadableFile,
    read_lines,
    scan,
)
from core.errors import ConfigError, DataError
from pipeline.screen import parse_json

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
JSON_LINES = {".jsonl", ".ndjson"}
EXCEL = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


@dataclass(frozen=True)
class BadRow:
    """Why a row is no record, and its text as read (cut to RAW_SAMPLE_CHARS) for whoever corrects it."""

    why: str
    raw: str | None = None


Row = tuple[int, dict[str, Any] | BadRow]  # (line or row number, the record's fields — or why it is none)


class UnreadableRow(DataError):
    """A row of a file that is no record (or has no id): the line is kept, raw, and quarantined with where it was."""


class _BrokenRow(Exception):
    """A row that ran over lines and did not end well: its first line is the bad row."""


def unreadable_row(
    source: str, stream: str, path: Path, number: int, bad: BadRow | str, row: dict[str, Any] | None = None
) -> tuple[SourceRecord, DataError]:
    """The raw stand-in of such a row (keyed by file and line, so a re-read is recognised) and its refusal."""
    bad = BadRow(bad) if isinstance(bad, str) else bad
    where = f"{path.name}:{number}"
    payload: dict[str, Any] = {"_file": path.name, "_line": number, "_unreadable": bad.why}
    if bad.raw is not None:
        payload["_raw"] = bad.raw
    if row is not None:
        payload["_row"] = row
    record = SourceRecord(source=source, stream=stream, source_id=where, payload=payload)
    return record, UnreadableRow(bad.why, reason="unreadable_row", record=where, field=f"line {number}",
                                 fix="correct the row in the file and load it again")  # fmt: skip


class ExtractFile:
    """One extract file: ``open()`` it (refused whole, or its header known), ``require`` the columns the mapping
    needs, then iterate ``rows()``; ``tally`` says where each physical line went."""

    def __init__(
        self, path: Path, *, encoding: str = "utf-8", sheet: str | None = None,
        limits: FileReadLimits | None = None,
    ) -> None:  # fmt: skip
        suffix = path.suffix.lower()
        if suffix not in CSV_SUFFIXES and suffix not in JSON_LINES and suffix not in EXCEL:
            raise ConfigError(f"cannot read {path.name}: not CSV, TSV, JSON Lines or Excel", record=str(path),
                              fix=f"one of {', '.join(sorted({*CSV_SUFFIXES, *JSON_LINES, *EXCEL}))}")  # fmt: skip
        self.path, self.suffix = path, suffix
        self.encoding, self.sheet = encoding, sheet
        self.limits = limits or FileReadLimits()
        self.header: list[str] | None = None
        self.tally = LineTally()

    @property
    def is_text(self) -> bool:
        return self.suffix not in EXCEL

    def open(self) -> ExtractFile:
        """Decode the whole file and read its header; ``UnreadableFile`` (nothing stored) when either fails."""
        if self.is_text:
            self.tally.physical = scan(self.path, self.encoding, self.limits)
        if self.suffix in CSV_SUFFIXES:
            lines = read_lines(self.path, self.encoding, self.limits)
            first = next((line for line in lines if not line.blank), None)
            lines.close()
            self.header = self._header(first) if first else []
        elif self.suffix in EXCEL:
            self.header = next(self._excel_cells(), [])
        return self

    @property
    def rows_expected(self) -> int | None:
        """Rows to expect (for a progress bar), once opened: the physical lines the scan counted less the header;
        None for Excel, whose rows are not counted before they are read."""
        if not self.is_text:
            return None
        return max(self.tally.physical - (1 if self.suffix in CSV_SUFFIXES else 0), 0)

    def require(self, columns: Iterable[str]) -> None:
        """Refuse the file when its header lacks a column every record needs (JSON Lines have no header)."""
        if self.header is None:
            return
        missing = [name for name in columns if name not in self.header]
        if missing:
            found = ", ".join(self.header[:30]) or "(none: the file is empty)"
            raise UnreadableFile(
                f"the header has no column {', '.join(missing)}; it has: {found}",
                record=self.path.name, field=missing[0],
                fix="correct the file's header (or load it with the source whose mapping reads these columns)",
            )  # fmt: skip

    def rows(self) -> Iterator[Row]:
        if self.suffix in CSV_SUFFIXES:
            return self._csv_rows(CSV_SUFFIXES[self.suffix])
        if self.suffix in JSON_LINES:
            return self._json_rows()
        return self._excel_rows()

    def check_balanced(self) -> None:
        """Every physical line is the header, blank, or part of a row; else the reader lost one (a defect)."""
        if self.is_text and not self.tally.balanced:
            raise RuntimeError(f"{self.path.name}: lines do not reconcile — {self.tally.describe()}")

    # --- CSV ------------------------------------------------------------------------------------------------

    def _header(self, line: Line) -> list[str]:
        delimiter = CSV_SUFFIXES[self.suffix]
        if line.over_long:
            raise UnreadableFile(f"the header (line {line.number}) is longer than {self.limits.max_row_bytes:,} bytes",
                                 record=f"{self.path.name}:{line.number}", field="header",
                                 fix="is this a CSV file? check its delimiter and line breaks")  # fmt: skip
        fields = next(csv.reader([line.text], delimiter=delimiter), [])
        return [name.strip() for name in fields]

    def _csv_rows(self, delimiter: str) -> Iterator[Row]:
        csv.field_size_limit(max(csv.field_size_limit(), self.limits.max_row_bytes))
        lines = read_lines(self.path, self.encoding, self.limits)
        pending: deque[Line] = deque()  # lines taken by a row that broke, to be parsed again

        def next_line() -> Line | None:
            return pending.popleft() if pending else next(lines, None)

        header: list[str] | None = None
        while (line := next_line()) is not None:
            if line.blank:
                self.tally.blank += 1
                continue
            if header is None:
                header, self.tally.header = self._header(line), 1
                continue
            if line.over_long:
                yield self._bad([line], f"a row of {line.size:,} bytes, over max_row_bytes "
                                        f"({self.limits.max_row_bytes:,})")  # fmt: skip
                continue
            taken = [line]
            try:
                fields = next(csv.reader(self._feed(taken, next_line), delimiter=delimiter))
            except (_BrokenRow, csv.Error) as exc:
                pending.extendleft(reversed(taken[1:]))
                yield self._bad([line], str(exc) if isinstance(exc, _BrokenRow) else f"not CSV: {exc}")
                continue
            if len(taken) > 1 and len(fields) != len(header):
                pending.extendleft(reversed(taken[1:]))
                yield self._bad([line], f"a quote opened on this line runs over {len(taken)} lines into "
                                        f"{len(fields)} fields (the header has {len(header)}): an unclosed quote")  # fmt: skip
                continue
            if len(fields) > len(header):
                yield self._bad(
                    taken, f"{len(fields) - len(header)} more fields than the header's {len(header)}"
                )
                continue
            self.tally.rows += 1
            self.tally.row_lines += len(taken)
            yield (
                line.number,
                {name: (fields[n] if n < len(fields) else None) for n, name in enumerate(header)},
            )

    def _feed(self, taken: list[Line], next_line: Callable[[], Line | None]) -> Iterator[str]:
        """The lines of one row, as the csv module asks for them; a row that cannot end well raises."""
        yield taken[0].text
        while True:  # the csv module asks for another line only while a quoted field is open
            line = next_line()
            if line is None:
                raise _BrokenRow("a quote opened on this line is never closed: the file ends inside it")
            taken.append(line)
            if line.over_long or sum(t.size for t in taken) > self.limits.max_row_bytes:
                raise _BrokenRow(f"a quote opened on this line runs on past max_row_bytes "
                                 f"({self.limits.max_row_bytes:,}): an unclosed quote")  # fmt: skip
            if len(taken) > self.limits.max_row_lines:
                raise _BrokenRow(f"a quote opened on this line runs on past max_row_lines "
                                 f"({self.limits.max_row_lines}): an unclosed quote")  # fmt: skip
            yield line.text

    def _bad(self, lines: list[Line], why: str) -> Row:
        self.tally.rows += 1
        self.tally.row_lines += len(lines)
        return lines[0].number, BadRow(why, "".join(line.text for line in lines)[:RAW_SAMPLE_CHARS])

    # --- JSON Lines -----------------------------------------------------------------------------------------

    def _json_rows(self) -> Iterator[Row]:
        for line in read_lines(self.path, self.encoding, self.limits):
            if line.blank:
                self.tally.blank += 1
                continue
            if line.over_long:
                yield self._bad([line], f"a line of {line.size:,} bytes, over max_row_bytes "
                                        f"({self.limits.max_row_bytes:,})")  # fmt: skip
                continue
            value, reason = parse_json(line.text.encode("utf-8"))
            if isinstance(value, dict):
                self.tally.rows += 1
                self.tally.row_lines += 1
                yield line.number, value
            else:
                yield self._bad([line], reason or "a JSON value that is no object")

    # --- Excel ----------------------------------------------------------------------------------------------

    def _excel_cells(self) -> Iterator[list[Any]]:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(self.path))
        table = book.get_sheet_by_name(self.sheet) if self.sheet else book.get_sheet_by_index(0)
        rows = iter(table.to_python(skip_empty_area=True))
        yield [str(cell).strip() for cell in next(rows, [])]
        for cells in rows:
            yield [_cell(v) for v in cells]

    def _excel_rows(self) -> Iterator[Row]:
        cells = self._excel_cells()
        header = next(cells, [])
        for number, values in enumerate(cells, start=2):
            if any(v != "" for v in values):
                yield number, dict(zip(header, values, strict=False))


def _cell(value: Any) -> Any:
    """Excel keeps numbers as floats: a phone 13812345678 must not arrive as "13812345678.0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value
