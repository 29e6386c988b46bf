"""Newest wins by the source's own time: a canonical record keeps the ``as_of`` of the version it holds.

A stream that declares ``as_of`` (mappings/README.md) gives every mapped record the instant its source says
it was true; an upsert replaces a stored entity only with a version that is not older, so an extract loaded
out of order (last year's backfill after this morning's delta) never overwrites a newer address or plate.
NULL: the source gave no time; such a version is replaced by whatever is loaded next, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("canonical_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("as_of", store.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column(
        "canonical_record", "as_of"
    )  # plain DROP COLUMN: a batch would copy a table others reference
