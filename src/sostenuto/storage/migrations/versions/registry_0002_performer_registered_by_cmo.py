"""performer.registered_by_cmo_id: the CMO that registered a performer

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0002"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("performer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_by_cmo_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_performer_registered_by_cmo_id"), ["registered_by_cmo_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_performer_registered_by_cmo_id_cmo"),
            "cmo",
            ["registered_by_cmo_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("performer", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_performer_registered_by_cmo_id_cmo"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_performer_registered_by_cmo_id"))
        batch_op.drop_column("registered_by_cmo_id")
