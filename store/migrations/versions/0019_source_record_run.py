"""The raw records of one sync run, by index: a run closed as abandoned gets its counts from what it stored
(``store.repository.close_abandoned_runs``), not from its last heartbeat, which misses its last seconds.

On a PostgreSQL store with many raw records, building the index holds writes to ``source_record`` for a while:
upgrade between syncs.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_source_record_run", "source_record", ["sync_run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_source_record_run", table_name="source_record")
