"""Keyset paging as real source systems do it: ordered by (changed-at, key), the cursor is the last key seen.

Shared by the fake partners so each pages exactly the same way (ties on the timestamp across a page
boundary are neither skipped nor repeated). The sorted order is kept until the item list changes, so a
100 k-record benchmark does not pay for a sort on every page; tests may still append or replace items.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from typing import Any

Item = dict[str, Any]
SortKey = tuple[str, str]


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> SortKey:
    """A cursor we did not issue is the caller's bug: ValueError, answered as a client error."""
    try:
        changed, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a cursor this server issued: {cursor[:40]!r}") from exc
    return str(changed), str(key)


class KeysetPager:
    """Pages over a list the test or benchmark owns; ``sort_key`` gives the (changed, key) of an item."""

    def __init__(self, sort_key: Callable[[Item], SortKey]):
        self.sort_key = sort_key
        self._fingerprint: tuple[int, ...] = ()
        self._keys: list[SortKey] = []
        self._items: list[Item] = []

    def _ordered(self, items: Sequence[Item]) -> None:
        fingerprint = tuple(map(id, items))
        if fingerprint != self._fingerprint:
            pairs = sorted(((self.sort_key(item), n) for n, item in enumerate(items)))
            self._keys = [key for key, _ in pairs]
            self._items = [items[n] for _, n in pairs]
            self._fingerprint = fingerprint

    def page(
        self, items: Sequence[Item], since: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Item], str | None]:
        """Items with changed ≥ ``since`` after ``cursor``, at most ``limit``; and the next cursor or None."""
        self._ordered(items)
        start = bisect.bisect_left(self._keys, (since, "")) if since else 0
        if cursor:
            start = max(start, bisect.bisect_right(self._keys, decode_cursor(cursor)))
        end = start + limit
        page = self._items[start:end]
        more = end < len(self._items)
        return page, encode_cursor(self._keys[end - 1]) if more and page else None
