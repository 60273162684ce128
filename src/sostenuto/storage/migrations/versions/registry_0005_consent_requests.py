"""Performers' requests to their CMO: grant, refuse or lift a use

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-12-03 14:00:00

A performer asks; the admin of the CMO that represents it applies or declines. The request
keeps who asked, who decided, when and why, and the rule the CMO's act made or lifted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0005"
down_revision: str | Sequence[str] | None = "registry_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("performer_id", sa.Integer(), sa.ForeignKey("performer.id"), nullable=False),
        sa.Column("cmo_id", sa.Integer(), sa.ForeignKey("cmo.id"), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("licensee_id", sa.Integer(), sa.ForeignKey("licensee.id"), nullable=True),
        sa.Column("rule_id", sa.Integer(), sa.ForeignKey("consent_rule.id"), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("result_rule_id", sa.Integer(), sa.ForeignKey("consent_rule.id"), nullable=True),
    )
    op.create_index("ix_consent_request_cmo", "consent_request", ["cmo_id", "status", "id"])
    op.create_index("ix_consent_request_performer", "consent_request", ["performer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_consent_request_performer", table_name="consent_request")
    op.drop_index("ix_consent_request_cmo", table_name="consent_request")
    op.drop_table("consent_request")
