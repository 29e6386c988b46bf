"""Organisation place and branch in the matcher's key index (namesake companies of two cities stay apart), and
whether a person's name is a title form (王先生: a surname only).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_place", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("org_branch", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("title_form", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("match_party_key", schema=None) as batch_op:
        batch_op.drop_column("title_form")
        batch_op.drop_column("org_branch")
        batch_op.drop_column("org_place")
