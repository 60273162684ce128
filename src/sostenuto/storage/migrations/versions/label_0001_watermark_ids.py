"""label: watermark ids and their log entries

Revision ID: label_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "label_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("label",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_watermark",
        sa.Column("watermark_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_entry_id", sa.String(length=128), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("licensee_id", sa.Integer(), nullable=True),
        sa.Column("licensee_name", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source_type", sa.String(length=64), nullable=False),
        sa.Column("licence_ref", sa.String(length=200), nullable=True),
        sa.Column("consent_ref", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["licensee_id"], ["licensee.id"], name=op.f("fk_label_watermark_licensee_id_licensee")
        ),
        sa.PrimaryKeyConstraint("watermark_id", name=op.f("pk_label_watermark")),
    )
    with op.batch_alter_table("label_watermark", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_label_watermark_log_entry_id"), ["log_entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_label_watermark_licensee_id"), ["licensee_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("label_watermark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_watermark_licensee_id"))
        batch_op.drop_index(batch_op.f("ix_label_watermark_log_entry_id"))
    op.drop_table("label_watermark")
