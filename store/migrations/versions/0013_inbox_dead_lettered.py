"""When a pushed message's dead-letter copy was confirmed: a redelivery after a crash between that copy and the
ack is acknowledged without a second copy (before, every redelivery of poison copied it again).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UtcDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_lettered_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_message", schema=None) as batch_op:
        batch_op.drop_column("dead_lettered_at")
