"""api: writes sent with an Idempotency-Key and their answers

Revision ID: api_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "api_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("api",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_idempotent_request",
        sa.Column("owner", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_api_idempotent_request")),
    )
    op.create_index(
        op.f("ix_api_idempotent_request_created_at"),
        "api_idempotent_request",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_idempotent_request_created_at"), table_name="api_idempotent_request")
    op.drop_table("api_idempotent_request")
