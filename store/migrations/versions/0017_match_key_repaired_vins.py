"""The cars a party has only through a repaired VIN, in the matcher's key index: a car two records share only
through a repair (an O read as 0, a partial VIN resolved to the one known car) is weaker evidence than one both
wrote right (issue #15). Empty for rows indexed before: the next full run writes them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "vins_repaired",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.drop_column("vins_repaired")
