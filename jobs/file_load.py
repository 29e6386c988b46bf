"""``autohub load SOURCE FILE…``: a team tries its own extract through a source's mapping without writing Python.

CSV/TSV (any declared encoding — older dealer tools write GBK), JSON Lines and Excel (xlsx/xls/ods, read by
python-calamine) become source records of one stream of the mapping, loaded through the same Loader as every
connector: each file is one sync run with its reconciliation (in = unchanged + mapped + partly mapped +
quarantined), and its physical lines reconciled against the rows read (connectors/file_rows.py). A row that cannot
even be read as a record (an unclosed quote, more fields than the header, a row over ``max_row_bytes``, a JSON
line that is no object) is not dropped: it is stored raw and quarantined with its file and line. A file that
cannot be read as a whole (two encodings, a header without the id column) is refused before any row is stored:
its run is recorded failed with the error, which names the file, the line or column and the fix.

With a ``partition`` (``autohub load --partition K/N``), N loaders side by side each read the whole file and load
the rows of their partition (pipeline/partition.py); rows that cannot be read as records belong to the first
partition, so each is quarantined once. Every loader still reconciles every physical line of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from connectors.file_lines import FileReadLimits, LineTally
from connectors.file_rows import BadRow, ExtractFile, unreadable_row
from core.errors import ConfigError
from mappings import Mapper
from pipeline import Loader, LoadReport, to_source_record
from pipeline.partition import Partition, only

_PAGE = 5_000


@dataclass(frozen=True)
class FileLoad:
    path: Path
    stream: str
    report: LoadReport
    lines: LineTally
    elsewhere: int = 0  # rows of other partitions, loaded by their own loaders


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


def load_file(
    loader: Loader, source: str, path: Path, *, stream: str | None = None, encoding: str = "utf-8",
    sheet: str | None = None, limits: FileReadLimits | None = None, on_rows: Callable[[int], None] | None = None,
    on_open: Callable[[int | None], None] | None = None, partition: Partition | None = None,
) -> FileLoad:  # fmt: skip
    """Load one file as one sync run; returns its report (the run's reconciliation) and its lines' tally.
    ``on_open`` hears the rows to expect once the file is opened (its scan counted them: no second read)."""
    mapper = loader.registry[source]
    chosen = stream_for(mapper, path, stream)
    extract = ExtractFile(path, encoding=encoding, sheet=sheet, limits=limits)
    elsewhere = 0
    with loader.run(source) as report:
        extract.open().require(mapper.columns_required(chosen))
        if on_open:
            on_open(extract.rows_expected)
        rows = extract.rows()
        while page := list(islice(rows, _PAGE)):
            records = [
                to_source_record(mapper, chosen, fields) for _, fields in page if isinstance(fields, dict)
            ]
            good = list(only(records, partition))
            elsewhere += len(records) - len(good)
            refused = [
                unreadable_row(mapper.source, chosen, path, number, bad)
                for number, bad in page
                if isinstance(bad, BadRow)
            ]
            if partition is not None and partition.number != 1:  # the first partition quarantines them
                elsewhere, refused = elsewhere + len(refused), []
            loader.load_page(report, good, refused=refused)
            if on_rows:
                on_rows(len(page))
        extract.check_balanced()
    return FileLoad(path, chosen, report, extract.tally, elsewhere)
