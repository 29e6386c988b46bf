"""Cursor pagination, the same everywhere: a page of items and the cursor of the next page (None at the end).

A cursor is the last key the client saw, wrapped so that clients treat it as opaque: the hub may change what
is inside without breaking them, and an offset is never used — offsets skip or repeat rows when the data
changes between two pages; a key does not.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from core.errors import HubError

T = TypeVar("T")

CursorParam = Annotated[
    str | None, Query(description="next_cursor of the previous page; omit to start", max_length=200)
]
LimitParam = Annotated[int, Query(ge=1, le=1000, description="items per page")]


class BadCursor(HubError):
    """A cursor that this hub did not hand out (or that was cut short)."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: nothing more now")


def encode_cursor(key: int | str) -> str:
    return base64.urlsafe_b64encode(f"c1:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The integer key inside a cursor (0 without one)."""
    if not cursor:
        return 0
    key = decode_key(cursor)
    # ASCII digits only ("²".isdigit() is true) and within a BIGINT: a forged cursor is a 400, never a 500.
    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise _bad(cursor)
    return int(key)


def decode_key(cursor: str | None) -> str:
    """The key inside a cursor ("" without one)."""
    if not cursor:
        return ""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise _bad(cursor) from exc
    version, _, key = raw.partition(":")
    if version != "c1" or not key or not key.isprintable():  # no NUL or control characters for the database
        raise _bad(cursor)
    return key


def _bad(cursor: str | None) -> BadCursor:
    return BadCursor(
        f"cursor {cursor!r} was not issued by this hub",
        field="cursor",
        fix="pass the next_cursor of the previous page, or omit it to start from the beginning",
    )


def next_cursor(keys: Sequence[int], limit: int) -> str | None:
    """A full page may have a successor; a short page is the end (for now)."""
    return encode_cursor(keys[-1]) if keys and len(keys) >= limit else None
