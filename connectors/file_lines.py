"""The physical lines of a text extract, read so that a hostile file cannot cost the good rows around its bad one.

What dealer and call-centre files did to the hub, and what this module does about each:

- **A byte-order mark** (Excel's "CSV UTF-8" writes one) became part of the first column's name, so every row
  lacked its id and was quarantined. A UTF-8, UTF-16 or UTF-32 mark now decides the encoding and is dropped,
  whatever encoding was declared: a mark is the file saying what it is.
- **A file in two encodings** (GBK lines pasted into a UTF-8 file) stopped the load with a bare traceback that
  named neither the line nor the option. The whole file is now decoded before anything is stored (``scan``), and
  the first line that does not decode refuses the file (``UnreadableFile``), naming the line and the encoding it
  does decode in.
- **One 50 MB field** raised inside the csv module and took the rows around it. A line longer than
  ``max_row_bytes`` is read on to its end without being held (only a sample is kept) and becomes one bad row.

Lines are counted here, independently of the parser, so that the rows a file yields can be reconciled against
its physical lines (``LineTally``): a row swallowed by a broken quote cannot vanish.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from core.errors import FatalError

RAW_SAMPLE_CHARS = 2000  # of a bad row's text kept in its quarantine entry: enough to see and correct it
_READ_CHUNK = 1024 * 1024  # an over-long line is read on in pieces of this size, never held whole
# Byte-order marks, longest first (a UTF-32 LE mark begins with the UTF-16 LE one); what each says, and its size.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Tried on a line that does not decode as declared, to say which option to pass.
_CANDIDATES = ("utf-8", "gbk", "gb18030", "big5", "utf-16")


class FileReadLimits(BaseModel):
    """How much of a file one row may take (``AUTOHUB_FILES__…`` for ``autohub load``; a drop folder's settings)."""

    max_row_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="a row (all its lines) longer than this is quarantined as one bad row, the rest read on",
    )  # fmt: skip
    max_row_lines: int = Field(
        default=100, ge=1,
        description="a quoted field may hold line breaks (an address); a row over this many lines is a broken quote",
    )  # fmt: skip


class UnreadableFile(FatalError):
    """The file as a whole cannot be read as declared (its encoding, its header): nothing of it is stored, and
    the message names the file, the line or column, and what to pass or correct."""


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, as an editor shows it
    text: str  # decoded, with its line break; of an over-long line, only its first RAW_SAMPLE_CHARS
    size: int  # bytes in the file
    over_long: bool = False

    @property
    def blank(self) -> bool:
        return not self.over_long and not self.text.strip()


@dataclass
class LineTally:
    """Where each physical line went: the header, blank, or a row (good or bad). ``balanced`` must hold."""

    physical: int = 0  # counted by the scan, before parsing
    header: int = 0
    blank: int = 0
    rows: int = 0
    row_lines: int = 0

    @property
    def balanced(self) -> bool:
        return self.physical == self.header + self.blank + self.row_lines

    def describe(self) -> str:
        return (f"{self.physical:,} lines: {self.header} header, {self.blank:,} blank, {self.rows:,} rows "
                f"over {self.row_lines:,} lines")  # fmt: skip


def encoding_of(path: Path, declared: str) -> tuple[str, int]:
    """The encoding to read ``path`` in and how many leading bytes to skip: a byte-order mark wins over ``declared``."""
    with path.open("rb") as handle:
        head = handle.read(4)
    for mark, name in _MARKS:
        if head.startswith(mark):
            return name, len(mark)
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise UnreadableFile(f"unknown encoding {declared!r}", record=path.name, field="--encoding",
                             fix="name a Python codec: utf-8, gbk, gb18030, big5, utf-16") from None  # fmt: skip
    return ("utf-8", 0) if name == "utf-8-sig" else (name, 0)


def _wide(encoding: str) -> bool:
    """UTF-16/32: a line break is not the byte 0x0A, so lines are split after decoding."""
    return encoding.startswith(("utf-16", "utf-32"))


def read_lines(path: Path, declared: str, limits: FileReadLimits) -> Generator[Line, None, None]:
    """Each physical line of ``path``, decoded; ``UnreadableFile`` at the first one that does not decode."""
    encoding, skip = encoding_of(path, declared)
    if _wide(encoding):
        yield from _wide_lines(path, encoding, skip, limits.max_row_bytes)
    else:
        yield from _narrow_lines(path, encoding, skip, limits.max_row_bytes, declared)


def scan(path: Path, declared: str, limits: FileReadLimits) -> int:
    """Decode the whole file once before anything of it is stored; its physical lines. A file that mixes
    encodings is refused here, whole, rather than half loaded."""
    return sum(1 for _ in read_lines(path, declared, limits))


def _narrow_lines(path: Path, encoding: str, skip: int, limit: int, declared: str) -> Iterator[Line]:
    """Lines of an encoding in which byte 0x0A is always a line break (UTF-8, GBK, GB18030, Big5 …)."""
    with path.open("rb") as handle:
        handle.seek(skip)
        number = 0
        while piece := handle.readline(limit + 1):
            number += 1
            if len(piece) <= limit or piece.endswith(b"\n"):
                yield Line(number, _decoded(piece, encoding, path, number, declared), len(piece))
                continue
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            sample, size = _incremental(decoder, piece, encoding, path, number, declared), len(piece)
            while not piece.endswith(b"\n"):  # read on to the line's end, holding a piece at a time
                piece = handle.readline(_READ_CHUNK)
                if not piece:
                    break
                size += len(piece)
                _incremental(decoder, piece, encoding, path, number, declared)
            yield Line(number, sample[:RAW_SAMPLE_CHARS], size, over_long=True)


def _decoded(data: bytes, encoding: str, path: Path, number: int, declared: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, encoding, path, number, declared, exc) from None


def _incremental(
    decoder: codecs.IncrementalDecoder, data: bytes, encoding: str, path: Path, number: int, declared: str
) -> str:
    try:
        return decoder.decode(data)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, encoding, path, number, declared, exc) from None


def _undecodable(
    data: bytes, encoding: str, path: Path, number: int, declared: str, exc: UnicodeDecodeError
) -> UnreadableFile:
    reads_as = next((c for c in _CANDIDATES if c != encoding and _decodes(data, c)), None)
    hint = f"; it reads as {reads_as}" if reads_as else ""
    fix = (f"if the whole file is {reads_as}, pass --encoding {reads_as} (a drop folder: encoding: {reads_as}); "
           "if only some lines are, the file mixes encodings: save it again in one" if reads_as
           else "save the file again in one encoding and pass it with --encoding")  # fmt: skip
    return UnreadableFile(f"line {number} is not {declared} (byte {exc.start + 1} of the line){hint}",
                          record=f"{path.name}:{number}", field="--encoding", fix=fix)  # fmt: skip


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _wide_lines(path: Path, encoding: str, skip: int, limit: int) -> Iterator[Line]:
    """Lines of a UTF-16/32 file, split after decoding (``limit`` counted in characters, a byte or more each)."""
    with path.open("rb") as raw:
        raw.seek(skip)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        number = 0
        while True:
            try:
                piece = text.readline(limit + 1)
                if not piece:
                    return
                number += 1
                size = len(piece.encode(encoding))
                if len(piece) <= limit or piece.endswith("\n"):
                    yield Line(number, piece, size)
                    continue
                sample = piece
                while not piece.endswith("\n") and (piece := text.readline(_READ_CHUNK)):
                    size += len(piece.encode(encoding))
                yield Line(number, sample[:RAW_SAMPLE_CHARS], size, over_long=True)
            except UnicodeDecodeError:
                raise UnreadableFile(f"the text after line {number} is not {encoding}", record=path.name,
                                     field="--encoding", fix="save the file again in one encoding") from None  # fmt: skip
