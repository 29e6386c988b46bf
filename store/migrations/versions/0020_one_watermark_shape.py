"""One saved shape for every pull type's watermark (issue #30): the SQL type's ``{"cursor", "key", "timezone"}``
and the insurance connector's older ``{"updated_since"}`` become ``{"changed_since", …}`` as the SOAP and HTTP
types saved it (connectors/incremental.py describes the shape). A stream's next pass starts where it did before.

The rule is written out here rather than imported: a migration must keep doing what it did when it was written.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 03:10:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_sync_state = sa.table(
    "sync_state",
    sa.column("source", sa.String),
    sa.column("stream", sa.String),
    sa.column("watermark", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")),
)


def one_shape(saved: dict[str, Any]) -> dict[str, Any]:
    """An older watermark in the one shape (a watermark already in it comes back unchanged)."""
    if "cursor" in saved:
        shaped: dict[str, Any] = {"changed_since": saved["cursor"]}
        for name in ("key", "timezone"):
            if saved.get(name) is not None:
                shaped[name] = saved[name]
        return shaped
    if "updated_since" in saved and "changed_since" not in saved:
        return {"changed_since": saved["updated_since"]}
    return saved


def older_shape(saved: dict[str, Any]) -> dict[str, Any]:
    """Back for an older hub: a SQL stream's cursor beside ``changed_since`` (the SOAP and HTTP types ignore it)."""
    if saved.get("changed_since") is None or "full_extract" in saved or "pass" in saved:
        return saved
    return saved | {
        "cursor": saved["changed_since"],
        "key": saved.get("key"),
        "timezone": saved.get("timezone"),
    }


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_sync_state.c.source, _sync_state.c.stream, _sync_state.c.watermark)).all()
    for source, stream, watermark in rows:
        shaped = change(dict(watermark))
        if shaped != watermark:
            bind.execute(
                _sync_state.update()
                .where(_sync_state.c.source == source, _sync_state.c.stream == stream)
                .values(watermark=shaped)
            )


def upgrade() -> None:
    _rewrite(one_shape)


def downgrade() -> None:
    _rewrite(older_shape)
