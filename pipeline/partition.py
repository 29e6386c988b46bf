"""Partitions of an extract, for loaders that run side by side — several processes, or several Airflow tasks
each given one partition of the same files.

Why by a hash of the record's source, stream and id: every version of one source record then goes to the same
loader, in the order it read them, so the raw store's "this exact version is stored" and newest-wins between
versions of one record hold as for a single loader; and the partition of a record is the same in every process
on every machine (Python's ``hash`` is not). What loaders on different partitions may still share is a
canonical entity that several source records describe (a car in many sales orders): the store serialises their
writes of one source (``store.repository.save_canonical``), and newest-wins between them is by the source's
own time where the records carry one, else by which loader committed last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from canonical_model.entities.source import SourceRecord
from core.errors import ConfigError


@dataclass(frozen=True)
class Partition:
    """Partition ``number`` (1-based, as people count) of ``count``."""

    number: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= self.count:
            raise ConfigError(
                f"partition {self.number}/{self.count} does not exist", field="partition",
                fix=f"give K/N with 1 ≤ K ≤ N, e.g. 1/{max(self.count, 2)}",
            )  # fmt: skip

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``"2/4"``: the second of four."""
        number, _, count = text.partition("/")
        try:
            return cls(int(number), int(count))
        except ValueError:
            raise ConfigError(f"{text!r} is not a partition", field="partition",
                              fix="give K/N, e.g. 1/2 and 2/2 for two loaders") from None  # fmt: skip

    def holds(self, record: SourceRecord) -> bool:
        return partition_of(record, self.count) == self.number

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def partition_of(record: SourceRecord, count: int) -> int:
    """Which of ``count`` partitions ``record`` belongs to (1-based)."""
    name = f"{record.source}\x1f{record.stream}\x1f{record.source_id}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(name, digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


def only(records: Iterable[SourceRecord], partition: Partition | None) -> Iterator[SourceRecord]:
    """The records of ``partition`` (all of them when None)."""
    return iter(records) if partition is None else (r for r in records if partition.holds(r))
