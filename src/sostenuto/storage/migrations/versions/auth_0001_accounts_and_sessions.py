"""performer tokens, user accounts, browser sessions and failed sign-ins

Revision ID: auth_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("auth",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("performer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_token_performer_id_performer"),
            "performer",
            ["performer_id"],
            ["id"],
        )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("cmo_id", sa.Integer(), nullable=True),
        sa.Column("licensee_id", sa.Integer(), nullable=True),
        sa.Column("performer_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["cmo_id"], ["cmo.id"], name=op.f("fk_user_account_cmo_id_cmo")),
        sa.ForeignKeyConstraint(
            ["licensee_id"], ["licensee.id"], name=op.f("fk_user_account_licensee_id_licensee")
        ),
        sa.ForeignKeyConstraint(
            ["performer_id"],
            ["performer.id"],
            name=op.f("fk_user_account_performer_id_performer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_web_session_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_web_session_token_id_api_token")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("session_sha256", name=op.f("uq_web_session_session_sha256")),
    )
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index(op.f("ix_sign_in_failure_at"), "sign_in_failure", ["at"], unique=False)
    op.create_index(op.f("ix_sign_in_failure_client"), "sign_in_failure", ["client"], unique=False)
    op.create_index(
        op.f("ix_sign_in_failure_username"), "sign_in_failure", ["username"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_failure_username"), table_name="sign_in_failure")
    op.drop_index(op.f("ix_sign_in_failure_client"), table_name="sign_in_failure")
    op.drop_index(op.f("ix_sign_in_failure_at"), table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_table("web_session")
    op.drop_table("user_account")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_token_performer_id_performer"), type_="foreignkey"
        )
        batch_op.drop_column("performer_id")
