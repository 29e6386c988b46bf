"""search keys: find customers by mobile, e-mail, name, pinyin, organisation or plate, and records by VIN.

Existing canonical records are indexed here (the loader keeps the keys current from now on).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 13:55:10.848103
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types
from store.search_keys import VIN_BEARING, backfill_rows

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_key",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column(
            "canonical_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_record_id"],
            ["canonical_record.id"],
            name=op.f("fk_search_key_canonical_record_id_canonical_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_key")),
    )
    with op.batch_alter_table("search_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_key_canonical_record_id"), ["canonical_record_id"], unique=False
        )
        batch_op.create_index("ix_search_key_value", ["kind", "value"], unique=False)
    _backfill()


def _backfill() -> None:
    records = sa.table("canonical_record", sa.column("id", sa.BigInteger()), sa.column("entity_type", sa.String()),
                       sa.column("body", store.types.JsonDocument))  # fmt: skip
    keys = sa.table("search_key", sa.column("canonical_record_id", sa.BigInteger()), sa.column("kind", sa.String()),
                    sa.column("value", sa.String()))  # fmt: skip
    conn = op.get_bind()
    after = 0
    while True:
        batch = conn.execute(sa.select(records.c.id, records.c.entity_type, records.c.body)
                             .where(records.c.id > after, records.c.entity_type.in_(["party", *VIN_BEARING]))
                             .order_by(records.c.id).limit(5_000)).all()  # fmt: skip
        if not batch:
            return
        rows = backfill_rows((r.id, r.entity_type, r.body) for r in batch)
        if rows:
            conn.execute(sa.insert(keys), rows)
        after = batch[-1].id


def downgrade() -> None:
    with op.batch_alter_table("search_key", schema=None) as batch_op:
        batch_op.drop_index("ix_search_key_value")
        batch_op.drop_index(batch_op.f("ix_search_key_canonical_record_id"))

    op.drop_table("search_key")
