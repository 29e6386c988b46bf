"""Slicing long id lists for IN-clauses and bulk inserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

# Rows or ids per statement: well under SQLite's 32 766 bound parameters and PostgreSQL's 65 535.
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_of(session: Session, column: Any, values: Iterable[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``values`` (sorted, once each): run
    the statement once per condition.

    On PostgreSQL one ``column = ANY(array)``: a single parameter however many values, so the statement's text is
    the same on every call — psycopg converts it once and prepares it after a few calls, PostgreSQL plans it
    once per connection — where an ``IN`` of 500 parameters is new text for every length, converted by psycopg
    in Python and planned again each time (the follower's hottest statements). Elsewhere an ``IN`` per chunk."""
    ordered = sorted(set(values))
    if not ordered:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, ordered, type_=postgresql.ARRAY(column.type)))
        return
    for chunk in chunks(ordered):
        yield column.in_(chunk)


def tuple_in(
    session: Session, columns: Sequence[Any], values: Iterable[tuple[Any, ...]]
) -> Iterator[ColumnElement[bool]]:
    """``one_of`` for several columns at once: the rows whose ``columns`` hold one of the ``values`` tuples.

    On PostgreSQL each column ``= ANY(its array)`` — what lets the planner probe an index — and the pairs
    themselves ``(a, b) IN (SELECT unnest(:as), unnest(:bs))``, the parallel ``unnest``s zipping the arrays back
    into tuples: the text again the same on every call. The ``IN`` alone was planned as a hash join over a scan
    of the whole table (the follower's queue deletes: a quarter of a PostgreSQL core at 200 events/s). Elsewhere
    a tuple ``IN`` per chunk."""
    ordered = sorted(set(values))
    if not ordered:
        return
    if session.get_bind().dialect.name == "postgresql":
        arrays = [bindparam(None, [value[n] for value in ordered], type_=postgresql.ARRAY(column.type))
                  for n, column in enumerate(columns)]  # fmt: skip
        each = [column == any_(bindparam(None, sorted({value[n] for value in ordered}),
                                         type_=postgresql.ARRAY(column.type)))
                for n, column in enumerate(columns)]  # fmt: skip
        zipped = select(
            *(func.unnest(array, type_=column.type) for column, array in zip(columns, arrays, strict=True))
        )
        yield and_(*each, tuple_(*columns).in_(zipped))
        return
    for chunk in chunks(ordered):
        yield tuple_(*columns).in_(list(chunk))
