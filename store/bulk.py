"""Bulk writes on PostgreSQL: rows travel by COPY — straight into their table, or into a temporary staging table
from which one ``INSERT … SELECT`` takes them with its ``ON CONFLICT`` and ``RETURNING``.

Why: a batch written as an executemany of 1 000 rows becomes one multi-``VALUES`` statement of thousands of
parameters, new text for psycopg to split and convert in Python on every call and for the server to parse and
plan again (on a PostgreSQL load, psycopg's query conversion alone took more time than the mapping's largest
step). COPY sends the rows as data: no SQL text grows with the batch. SQLite keeps executemany, which costs it
little (an in-process library, no text to send).

A COPY bypasses SQLAlchemy's statement layer, so its errors are turned into SQLAlchemy's here
(``DBAPIError.instance``): the loader's batch isolation then tells a refused row (split the batch, quarantine the
one) from a store that is down (raise, retry later) exactly as for any other statement. Staging tables are
temporary (per connection, emptied at commit and before each use).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Boolean, ColumnElement, Table, column, literal_column, select, table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from store.batching import chunks
from store.dialect import insert_for


def uses_copy(session: Session) -> bool:
    """Whether this store takes bulk writes by COPY (PostgreSQL through psycopg 3)."""
    return session.get_bind().dialect.name == "postgresql"


def _driver(session: Session) -> psycopg.Connection[Any]:
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def _json_columns(target: Table, columns: Sequence[str]) -> list[bool]:
    return [isinstance(target.c[name].type, JSON) for name in columns]


def _copy(
    session: Session, into: str, columns: Sequence[str], json: Sequence[bool], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into the table named ``into``, in the session's transaction."""
    driver = _driver(session)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(into), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        Jsonb(v) if is_json and v is not None else v
                        for v, is_json in zip(row, json, strict=True)
                    ]
                )
    except psycopg.Error as exc:
        # Only the primary message: a COPY error's context quotes the refused row ("column source_id: …"), which
        # may be a name or a phone; the original is not chained for the same reason.
        told = type(exc)(exc.diag.message_primary or type(exc).__name__)
        raise DBAPIError.instance(
            f"COPY {into}", None, told, psycopg.Error, hide_parameters=True,
            connection_invalidated=driver.broken, dialect=session.get_bind().dialect,
        ) from None  # fmt: skip


def copy_rows(session: Session, target: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Append ``rows`` to ``target`` (no conflict to settle, nothing to return: identifiers, search keys,
    quarantine entries)."""
    _copy(session, target.name, columns, _json_columns(target, columns), rows)


def staged(
    session: Session, target: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> TableClause:
    """``rows`` in the temporary staging table of ``target`` (its ``columns`` and an ordinal ``n``, the rows'
    order), ready for an ``INSERT … SELECT … ORDER BY n``; the table as a selectable."""
    name = f"stage_{target.name}"
    with _driver(session).cursor() as cursor:
        # Created in the transaction that first needs it (and gone with it if that one rolls back): one round
        # trip with the emptying, which a table of this transaction's earlier batch needs anyway.
        cursor.execute(sql.SQL(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            "SELECT 0::bigint AS n, {columns} FROM {target} WITH NO DATA; TRUNCATE {stage}"
        ).format(stage=sql.Identifier(name), target=sql.Identifier(target.name),
                 columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns)))  # fmt: skip
    _copy(session, name, ["n", *columns], [False, *_json_columns(target, columns)],
          ((n, *row) for n, row in enumerate(rows)))  # fmt: skip
    return table(name, column("n"), *(column(c) for c in columns))


# --- the writes the store makes in bulk, on either backend ------------------------------------------------


def inserted_flag(session: Session) -> ColumnElement[bool]:
    """For an upsert's ``RETURNING``: ``inserted``, true for a row this statement inserted rather than updated
    (PostgreSQL: a row version no transaction has yet replaced has ``xmax = 0``); elsewhere false, unknown."""
    if uses_copy(session):
        return literal_column("(xmax = 0)", Boolean).label("inserted")
    return literal_column("0", Boolean).label("inserted")


def upserts(session: Session, target: Table, rows: Sequence[dict[str, Any]]) -> Iterator[tuple[Any, Any]]:
    """``(insert statement, parameters)`` pairs that together insert ``rows`` (dicts of one shape) into
    ``target``; the caller adds its ``ON CONFLICT`` and ``RETURNING`` and executes each. On PostgreSQL one
    ``INSERT … SELECT`` from the staged rows, in their order; elsewhere an executemany per chunk."""
    if not rows:
        return
    if uses_copy(session):
        columns = list(rows[0])
        stage = staged(session, target, columns, ([row[c] for c in columns] for row in rows))
        source = select(*(stage.c[c] for c in columns)).order_by(stage.c.n)
        yield insert_for(session, target).from_select(columns, source), None
        return
    for chunk in chunks(rows):
        yield insert_for(session, target), list(chunk)


def append_rows(session: Session, target: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of one shape) that settle no conflict and return nothing: by COPY on PostgreSQL."""
    if not rows:
        return
    if uses_copy(session):
        columns = list(rows[0])
        copy_rows(session, target, columns, ([row[c] for c in columns] for row in rows))
        return
    for chunk in chunks(rows):
        session.execute(insert_for(session, target), list(chunk))
