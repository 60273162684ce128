"""Consent integrity: who recorded a rule, licences per model, dated suspension, pending mandates

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0003"
down_revision: str | Sequence[str] | None = "registry_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cmo_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_consent_rule_cmo_id_cmo"), "cmo", ["cmo_id"], ["id"]
        )
    # A repertoire-wide rule was always its own CMO's act.
    op.execute("UPDATE consent_rule SET cmo_id = scope_id WHERE scope_kind = 'cmo'")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("suspended_from", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_licence_model_id_ai_model"), "ai_model", ["model_id"], ["id"]
        )
    # A licence suspended before this revision was suspended from the day of the upgrade on.
    op.execute("UPDATE licence SET suspended_from = CURRENT_DATE WHERE status = 'suspended'")
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
        )
    for table in ("decision", "decision_batch"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("model_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("decision", "decision_batch"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("model_id")
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.drop_column("status")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_licence_model_id_ai_model"), type_="foreignkey")
        batch_op.drop_column("suspended_from")
        batch_op.drop_column("model_id")
    with op.batch_alter_table("consent_rule", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_consent_rule_cmo_id_cmo"), type_="foreignkey")
        batch_op.drop_column("cmo_id")
