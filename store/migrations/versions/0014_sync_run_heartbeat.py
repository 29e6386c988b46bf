"""A sync run's heartbeat: a long-running consumer writes its counts and the time every few seconds, so a
scheduler can tell a live consumer from a dead one, and a run whose process was killed is closed as abandoned
instead of staying "running" with zero counts forever.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UtcDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_sync_run_status", ["status", "source"], unique=False)


def downgrade() -> None:
    # Not a batch (on SQLite a batch copies the table, and the tables that refer to sync_run forbid dropping it):
    # DROP COLUMN itself, which SQLite has since 3.35.
    op.drop_index("ix_sync_run_status", table_name="sync_run")
    op.drop_column("sync_run", "heartbeat_at")
