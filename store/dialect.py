"""What SQLite and PostgreSQL spell differently: INSERT … ON CONFLICT, and reading a string out of a JSON column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.errors import ConfigError


def insert_for(session: Session, table: Any) -> Any:
    """``insert(table)`` with ``on_conflict_do_nothing/do_update`` for the backend this session talks to."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ConfigError(
        f"the hub store does not support the {name!r} database",
        field="AUTOHUB_DATABASE_URL",
        fix="use an sqlite:/// file or a postgresql:// URL",
    )


def json_text(dialect: str, document: Any, *path: str) -> ColumnElement[str]:
    """A JSON document's string at ``path`` (NULL when absent), usable in WHERE and GROUP BY on both backends."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(document, *path, type_=String)
    return func.json_extract(document, "$." + ".".join(path), type_=String)
