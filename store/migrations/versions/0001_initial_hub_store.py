"""initial hub store

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:12:36.172095
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "change_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("golden_id", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("change_type", sa.String(length=20), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("occurred_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("publish_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_change_log_event_id")),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_log_golden_id"), ["golden_id"], unique=False)
        batch_op.create_index("ix_change_log_unpublished", ["published_at", "seq"], unique=False)

    op.create_table(
        "golden_record",
        sa.Column("golden_id", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.String(length=40), nullable=True),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["golden_record.golden_id"],
            name=op.f("fk_golden_record_merged_into_golden_record"),
        ),
        sa.PrimaryKeyConstraint("golden_id", name=op.f("pk_golden_record")),
    )
    with op.batch_alter_table("golden_record", schema=None) as batch_op:
        batch_op.create_index("ix_golden_record_type_status", ["entity_type", "status"], unique=False)

    op.create_table(
        "merge_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column(
            "golden_ids_before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "golden_ids_after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "members_before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "members_after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_history")),
    )
    with op.batch_alter_table("merge_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_history_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "sync_run",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("started_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("records_in", sa.Integer(), nullable=False),
        sa.Column("records_unchanged", sa.Integer(), nullable=False),
        sa.Column("records_mapped", sa.Integer(), nullable=False),
        sa.Column("records_quarantined", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_run_source"), ["source"], unique=False)

    op.create_table(
        "source_record",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sync_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_source_record_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record")),
        sa.UniqueConstraint("source", "stream", "source_id", "payload_hash", name="uq_source_record_version"),
    )
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.create_index("ix_source_record_key", ["source", "stream", "source_id"], unique=False)
        batch_op.create_index("ix_source_record_outcome", ["source", "outcome"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column(
            "watermark",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sync_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_sync_state_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("source", "stream", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "canonical_record",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_key", sa.String(length=300), nullable=False),
        sa.Column("source_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("mapping_version", sa.String(length=40), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_canonical_record_source_record_id_source_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canonical_record")),
        sa.UniqueConstraint("source", "entity_type", "entity_key", name="uq_canonical_record_entity"),
    )
    with op.batch_alter_table("canonical_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_canonical_record_source_record_id"), ["source_record_id"], unique=False
        )
        batch_op.create_index("ix_canonical_record_type", ["entity_type", "source"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=True),
        sa.Column("source_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=True),
        sa.Column("sync_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_record.id"],
            name=op.f("fk_quarantine_source_record_id_source_record"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_quarantine_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_created", ["created_at"], unique=False)
        batch_op.create_index("ix_quarantine_reason", ["source", "reason"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quarantine_source_record_id"), ["source_record_id"], unique=False
        )

    op.create_table(
        "attribute_lineage",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("golden_id", sa.String(length=40), nullable=False),
        sa.Column("attribute", sa.String(length=120), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("canonical_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("entity_key", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("decided_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_record_id"],
            ["canonical_record.id"],
            name=op.f("fk_attribute_lineage_canonical_record_id_canonical_record"),
        ),
        sa.ForeignKeyConstraint(
            ["golden_id"],
            ["golden_record.golden_id"],
            name=op.f("fk_attribute_lineage_golden_id_golden_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribute_lineage")),
        sa.UniqueConstraint("golden_id", "attribute", name="uq_attribute_lineage_attribute"),
    )
    op.create_table(
        "canonical_identifier",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column(
            "canonical_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("id_type", sa.String(length=40), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("masked", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_record_id"],
            ["canonical_record.id"],
            name=op.f("fk_canonical_identifier_canonical_record_id_canonical_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canonical_identifier")),
    )
    with op.batch_alter_table("canonical_identifier", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_canonical_identifier_canonical_record_id"), ["canonical_record_id"], unique=False
        )
        batch_op.create_index("ix_canonical_identifier_hash", ["id_type", "value_hash"], unique=False)

    op.create_table(
        "xref",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_key", sa.String(length=300), nullable=False),
        sa.Column("golden_id", sa.String(length=40), nullable=False),
        sa.Column("canonical_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("match_weight", sa.Double(), nullable=True),
        sa.Column("linked_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_record_id"],
            ["canonical_record.id"],
            name=op.f("fk_xref_canonical_record_id_canonical_record"),
        ),
        sa.ForeignKeyConstraint(
            ["golden_id"], ["golden_record.golden_id"], name=op.f("fk_xref_golden_id_golden_record")
        ),
        sa.PrimaryKeyConstraint("source", "entity_type", "entity_key", name=op.f("pk_xref")),
    )
    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_xref_golden_id"), ["golden_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xref_golden_id"))

    op.drop_table("xref")
    with op.batch_alter_table("canonical_identifier", schema=None) as batch_op:
        batch_op.drop_index("ix_canonical_identifier_hash")
        batch_op.drop_index(batch_op.f("ix_canonical_identifier_canonical_record_id"))

    op.drop_table("canonical_identifier")
    op.drop_table("attribute_lineage")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_source_record_id"))
        batch_op.drop_index("ix_quarantine_reason")
        batch_op.drop_index("ix_quarantine_created")

    op.drop_table("quarantine")
    with op.batch_alter_table("canonical_record", schema=None) as batch_op:
        batch_op.drop_index("ix_canonical_record_type")
        batch_op.drop_index(batch_op.f("ix_canonical_record_source_record_id"))

    op.drop_table("canonical_record")
    op.drop_table("sync_state")
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_index("ix_source_record_outcome")
        batch_op.drop_index("ix_source_record_key")

    op.drop_table("source_record")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_run_source"))

    op.drop_table("sync_run")
    with op.batch_alter_table("merge_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_history_occurred_at"))

    op.drop_table("merge_history")
    with op.batch_alter_table("golden_record", schema=None) as batch_op:
        batch_op.drop_index("ix_golden_record_type_status")

    op.drop_table("golden_record")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_unpublished")
        batch_op.drop_index(batch_op.f("ix_change_log_golden_id"))

    op.drop_table("change_log")
