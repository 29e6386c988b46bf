"""Claims on the matching queue: several followers on one PostgreSQL store take disjoint batches (issue #16).

A follower claims the rows it takes for a lease (``claimed_by``, ``claimed_until``); another follower skips them
until the lease runs out, so a follower killed mid-batch leaves its rows to the others after the lease (and to
itself at once when it restarts under the same name). Rows queued before carry no claim.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UtcDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_queue", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
