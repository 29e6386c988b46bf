"""A party's street address in the matcher's key index: the same name at the same address is the same person
(a second mobile, a placeholder phone) — the largest group of missed person links on the independent set.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_match_party_key_address", ["surname_py", "address_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.drop_index("ix_match_party_key_address")
        batch_op.drop_column("address_key")
