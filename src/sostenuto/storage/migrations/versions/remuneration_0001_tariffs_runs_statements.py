"""remuneration: tariffs, rules, revenue reports, runs, shares, payments, statements

Revision ID: remuneration_0001
Revises: registry_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "remuneration_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("remuneration",)
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "remuneration_tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("training_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("training_bands", sa.JSON(), nullable=False),
        sa.Column("revenue_share_bp", sa.Integer(), nullable=False),
        sa.Column("revenue_minimum_minor", sa.BigInteger(), nullable=False),
        sa.Column("per_output_minor", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _fk("remuneration_tariff", "licence_id", "licence.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remuneration_tariff")),
    )
    op.create_index(
        op.f("ix_remuneration_tariff_licence_id"), "remuneration_tariff", ["licence_id"]
    )
    op.create_table(
        "remuneration_rule",
        sa.Column("cmo_id", sa.Integer(), nullable=False),
        sa.Column("featured_weight", sa.Integer(), nullable=False),
        sa.Column("non_featured_weight", sa.Integer(), nullable=False),
        _fk("remuneration_rule", "cmo_id", "cmo.id"),
        sa.PrimaryKeyConstraint("cmo_id", name=op.f("pk_remuneration_rule")),
    )
    op.create_table(
        "revenue_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        _fk("revenue_report", "licence_id", "licence.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_report")),
        sa.UniqueConstraint("licence_id", "period", name=op.f("uq_revenue_report_licence_id")),
    )
    op.create_table(
        "remuneration_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("attribution", sa.String(length=200), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remuneration_run")),
        sa.UniqueConstraint("period", name=op.f("uq_remuneration_run_period")),
    )
    op.create_table(
        "remuneration_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _fk("remuneration_share", "licence_id", "licence.id"),
        _fk("remuneration_share", "recording_id", "recording.id"),
        _fk("remuneration_share", "run_id", "remuneration_run.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remuneration_share")),
    )
    op.create_index(op.f("ix_remuneration_share_run_id"), "remuneration_share", ["run_id"])
    op.create_table(
        "remuneration_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("performer_id", sa.Integer(), nullable=True),
        sa.Column("collecting_cmo_id", sa.Integer(), nullable=False),
        sa.Column("payee_cmo_id", sa.Integer(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("admin_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        _fk("remuneration_payment", "agreement_id", "reciprocal_agreement.id"),
        _fk("remuneration_payment", "collecting_cmo_id", "cmo.id"),
        _fk("remuneration_payment", "licence_id", "licence.id"),
        _fk("remuneration_payment", "payee_cmo_id", "cmo.id"),
        _fk("remuneration_payment", "performer_id", "performer.id"),
        _fk("remuneration_payment", "recording_id", "recording.id"),
        _fk("remuneration_payment", "run_id", "remuneration_run.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remuneration_payment")),
    )
    op.create_index(op.f("ix_remuneration_payment_run_id"), "remuneration_payment", ["run_id"])
    op.create_index(
        "ix_remuneration_payment_run_performer",
        "remuneration_payment",
        ["run_id", "performer_id"],
    )
    op.create_table(
        "remuneration_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("log_entries", sa.JSON(), nullable=True),
        _fk("remuneration_statement", "run_id", "remuneration_run.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remuneration_statement")),
        sa.UniqueConstraint(
            "period", "party_kind", "party_id", name=op.f("uq_remuneration_statement_period")
        ),
    )
    op.create_index(op.f("ix_remuneration_statement_run_id"), "remuneration_statement", ["run_id"])


def downgrade() -> None:
    op.drop_table("remuneration_statement")
    op.drop_table("remuneration_payment")
    op.drop_table("remuneration_share")
    op.drop_table("remuneration_run")
    op.drop_table("revenue_report")
    op.drop_table("remuneration_rule")
    op.drop_table("remuneration_tariff")
