"""voiceprints, voice screenings and their matches

Revision ID: voice_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "voice_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("voice",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voiceprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("performer_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("clip_sha256", sa.JSON(), nullable=False),
        sa.Column("voiced_seconds", sa.Float(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performer.id"], name=op.f("fk_voiceprint_performer_id_performer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voiceprint")),
    )
    op.create_index(
        op.f("ix_voiceprint_performer_id"), "voiceprint", ["performer_id"], unique=False
    )
    op.create_index(
        "ix_voiceprint_model", "voiceprint", ["model_name", "model_version", "is_current"]
    )
    op.create_index(
        "ix_voiceprint_current",
        "voiceprint",
        ["performer_id", "model_name", "model_version"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "voice_screening",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("screened_by", sa.String(length=200), nullable=False),
        sa.Column("audio_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("licensee_id", sa.Integer(), nullable=True),
        sa.Column("territory", sa.String(length=2), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licensee_id"],
            ["licensee.id"],
            name=op.f("fk_voice_screening_licensee_id_licensee"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_screening")),
    )
    for column in ("screened_at", "audio_sha256", "licensee_id"):
        op.create_index(
            op.f(f"ix_voice_screening_{column}"), "voice_screening", [column], unique=False
        )
    op.create_table(
        "voice_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.String(length=40), nullable=False),
        sa.Column("performer_id", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["performer_id"], ["performer.id"], name=op.f("fk_voice_match_performer_id_performer")
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["voice_screening.id"],
            name=op.f("fk_voice_match_screening_id_voice_screening"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_match")),
    )
    for column in ("screening_id", "performer_id"):
        op.create_index(op.f(f"ix_voice_match_{column}"), "voice_match", [column], unique=False)


def downgrade() -> None:
    op.drop_table("voice_match")
    op.drop_table("voice_screening")
    op.drop_table("voiceprint")
