"""The contract every connector follows (the dlt / Singer SDK shape).

A connector reads one stream from a saved state and yields ``Page``s: the records read plus the state that
is true once they are stored. The runner stores the records, commits, and only then saves the state, so a
crash between the two re-reads a page (harmless: raw records are deduplicated) and never skips one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from canonical_model.entities.source import SourceRecord
from core.errors import DataError


@dataclass(frozen=True)
class Page:
    records: list[SourceRecord]
    state: dict[str, Any]  # the watermark after these records, JSON-serialisable
    # Input that could not even become a source record (not JSON, no object): quarantined by the runner.
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (reason, raw text)
    # Records read whole but refused by the connector (no change time, one in the future): stored raw and
    # quarantined with the error, so a re-read of the same row is recognised and not quarantined again.
    refused: list[tuple[SourceRecord, DataError]] = field(default_factory=list)
    keeps_state: bool = False  # True: this page says nothing about the watermark (do not save ``state``)


High = TypeVar("High")


@dataclass
class PageRead(Generic[High]):
    """One answer as a pull type reads it, before it is yielded as a ``Page``: its records, what could not be
    read or was refused, the newest change time so far (``high``, as the type keeps it), and for paging how
    many records came and the last id."""

    high: High
    records: list[SourceRecord] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[SourceRecord, DataError]] = field(default_factory=list)
    count: int = 0
    last_id: str | None = None


class Connector(ABC):
    """Reads a source system. Subclasses set ``source`` and ``streams`` and implement ``read``."""

    source: str
    streams: tuple[str, ...]

    @abstractmethod
    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        """Yield pages of records changed since ``state`` (None: from the beginning)."""

    def close(self) -> None:  # noqa: B027 - optional hook; most connectors hold nothing
        """Release connections; called by the runner when the sync ends."""
