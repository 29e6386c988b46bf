"""Partial acceptance: a run counts its partly mapped records; a quarantine entry can name one entity.

A record whose car is bad but whose customer is good now keeps the customer (outcome ``partial``) and
quarantines the car alone: ``sync_run.records_partial`` keeps the run's reconciliation exact
(in = unchanged + mapped + partial + quarantined), ``quarantine.entity_type`` says which entity of the record
an entry is about (NULL: the whole record). Existing runs had no partial records, hence the default 0.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("records_partial", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity_type", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it), not a batch: on SQLite a batch copies and
    # drops the table, which the foreign keys onto sync_run and quarantine's rows refuse on a store with data.
    op.drop_column("quarantine", "entity_type")
    op.drop_column("sync_run", "records_partial")
