"""The matching queue: one row per canonical record written since it was last matched, written in the record's
own transaction, so the matching follower (`autohub match follow`) finds a DMS event or a portal registration
the moment it is committed instead of at the next scheduled run.

Records stored before this revision are not queued: the next scheduled or full matching run takes them, as
before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import BigId, UtcDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_queue",
        sa.Column("record_id", BigId, autoincrement=False, nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("queued_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["canonical_record.id"],
            name=op.f("fk_match_queue_record_id_canonical_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_match_queue")),
    )
    with op.batch_alter_table("match_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_queue_queued_at"), ["queued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("match_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_queue_queued_at"))
    op.drop_table("match_queue")
