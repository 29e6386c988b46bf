"""The INSERT … ON CONFLICT statement of the session's backend (SQLite and PostgreSQL spell it the same way)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from autohub.errors import ConfigError


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
