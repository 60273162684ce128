"""recording fingerprints in the identification index

Revision ID: identify_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identify_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("identify",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identify_fingerprint",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("index_key", sa.String(length=64), nullable=False),
        sa.Column("audio_sha256", sa.String(length=64), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("hashes", sa.Integer(), nullable=False),
        sa.Column("fingerprint_version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recording.id"],
            name=op.f("fk_identify_fingerprint_recording_id_recording"),
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_identify_fingerprint")),
        sa.UniqueConstraint("index_key", name=op.f("uq_identify_fingerprint_index_key")),
    )
    with op.batch_alter_table("identify_fingerprint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identify_fingerprint_audio_sha256"), ["audio_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identify_fingerprint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identify_fingerprint_audio_sha256"))
    op.drop_table("identify_fingerprint")
