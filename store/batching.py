"""Slicing long id lists for IN-clauses and bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Rows or ids per statement: well under SQLite's 32 766 bound parameters and PostgreSQL's 65 535.
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
