"""xref lookup by entity key: a VIN finds its golden vehicle through any source's cross-reference.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:52:19.280720
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.create_index("ix_xref_entity_key", ["entity_type", "entity_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.drop_index("ix_xref_entity_key")
