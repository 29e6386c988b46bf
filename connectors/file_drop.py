"""A drop folder as a source (connector type ``file``): dealers' monthly customer files, a call centre's export.

Each file matching the pattern is read once, oldest first, in pages, and moved aside when its last page is
stored — into ``processed/``, or into ``rejected/`` beside a note of why when the file itself cannot be read
(an encoding other than the declared one, a format it is not). A row that is no record is stored raw and
quarantined with its file and line; a row without its id is quarantined too, never dropped. A sync that dies
mid-file leaves the file in the folder: the next sync reads it again, and the raw store recognises what it
already holds.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import structlog
from pydantic import ConfigDict, Field

from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.file_lines import FileReadLimits, UnreadableFile
from connectors.file_rows import BadRow, ExtractFile, unreadable_row
from connectors.origin import SourceOrigin
from core.errors import ConfigError, DataError

log = structlog.get_logger(__name__)


class FileDropConfig(FileReadLimits):
    model_config = ConfigDict(extra="forbid")  # a misspelt ``id_feild`` would be a missing id, not a typo

    folder: Path = Field(description="the drop folder; processed/ and rejected/ are made inside it")
    pattern: str = Field(default="*.csv", description="which files in it are this source's (a glob)")
    stream: str = Field(description="the mapping's stream every file feeds, e.g. customers")
    id_field: str = Field(description="the column holding the record's id in the source, e.g. 客户编号")
    encoding: str = Field(default="utf-8", description="text files' encoding: gbk for older dealer tools")
    sheet: str | None = Field(default=None, description="Excel: the sheet (default: the first)")
    page_size: int = Field(default=1000, ge=1, le=100_000)
    max_file_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="a larger file is rejected unread"
    )


def _unreadable_file() -> tuple[type[Exception], ...]:
    """What says a file cannot be read as declared (its encoding, its format), not that the hub failed."""
    from python_calamine import CalamineError, PasswordError, XmlError, ZipError

    return (UnreadableFile, UnicodeDecodeError, csv.Error, OSError, ValueError, ConfigError,
            CalamineError, PasswordError, XmlError, ZipError)  # fmt: skip


class FileDropConnector(Connector):
    """``origin``: the declared source (or, made in code, its bare name): its records are stored under it."""

    def __init__(self, config: FileDropConfig, origin: SourceOrigin | str) -> None:
        self.origin = SourceOrigin.of(origin)
        self.config = config
        self.source = self.origin.source
        self.streams = (config.stream,)

    def _waiting(self) -> list[Path]:
        folder = self.config.folder
        if not folder.is_dir():
            return []
        found = [p for p in folder.glob(self.config.pattern) if p.is_file() and not p.name.startswith(".")]
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        for path in self._waiting():
            if path.stat().st_size > self.config.max_file_bytes:
                self._set_aside(path, "rejected", f"{path.stat().st_size:,} bytes, over max_file_bytes")
                continue
            try:
                yield from self._pages(path)
            except Exception as exc:
                if not isinstance(exc, _unreadable_file()):
                    raise
                # the file itself cannot be read on (its pages so far are stored): set aside with the reason
                self._set_aside(path, "rejected", f"{type(exc).__name__}: {exc}"[:500])
                continue
            self._set_aside(path, "processed", None)  # resumed only after the runner committed the last page

    def _pages(self, path: Path) -> Iterator[Page]:
        extract = ExtractFile(
            path, encoding=self.config.encoding, sheet=self.config.sheet, limits=self.config
        )
        extract.open().require([self.config.id_field])
        rows = extract.rows()
        state = {"file": path.name}
        while chunk := list(islice(rows, self.config.page_size)):
            records: list[SourceRecord] = []
            refused: list[tuple[SourceRecord, DataError]] = []
            for number, fields in chunk:
                key = str(fields.get(self.config.id_field) or "").strip() if isinstance(fields, dict) else ""
                if isinstance(fields, dict) and key:
                    records.append(SourceRecord(source=self.source, stream=self.config.stream, source_id=key,
                                                payload=fields))  # fmt: skip
                    continue
                bad = (
                    fields
                    if isinstance(fields, BadRow)
                    else BadRow(f"no {self.config.id_field!r} in the row")
                )
                row = fields if isinstance(fields, dict) else None
                refused.append(unreadable_row(self.source, self.config.stream, path, number, bad, row))
            yield Page(records, dict(state), refused=refused)
        extract.check_balanced()

    def _set_aside(self, path: Path, outcome: str, why: str | None) -> None:
        """Into processed/ or rejected/ (a name taken there gets the time appended); a rejection's reason beside it."""
        target_dir = self.config.folder / outcome
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(str(path), target)
        if why is not None:
            target.with_name(target.name + ".reason.txt").write_text(why + "\n", encoding="utf-8")
            log.warning("dropped file rejected", source=self.source, file=path.name, reason=why[:200])
        else:
            log.info("dropped file processed", source=self.source, file=path.name)
