"""Remuneration tables: tariffs, distribution rules, revenue reports, runs, lines, statements.

Money columns are integers of minor units (``*_minor``) beside an ISO 4217 ``currency``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class Tariff(Base):
    """What a licence costs: a training fee per model (fixed or banded), a share of the
    licensee's revenue with a minimum, and a fee per output."""

    __tablename__ = "remuneration_tariff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    training_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # [{"fee_minor": int, "max_recordings": int | null, "max_revenue_minor": int | null}]
    training_bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revenue_share_bp: Mapped[int] = mapped_column(Integer, default=0)  # 1/10 000ths
    revenue_minimum_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    per_output_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class DistributionRule(Base):
    """A CMO's weights for featured and non-featured performers within a recording."""

    __tablename__ = "remuneration_rule"

    cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"), primary_key=True)
    featured_weight: Mapped[int] = mapped_column(Integer)
    non_featured_weight: Mapped[int] = mapped_column(Integer)


class RevenueReport(Base):
    """A licensee's revenue under one licence for one period."""

    __tablename__ = "revenue_report"
    __table_args__ = (UniqueConstraint("licence_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"))
    period: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class DistributionRun(Base):
    """One distribution of a period: its inputs' and results' digests and its totals."""

    __tablename__ = "remuneration_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    attribution: Mapped[str] = mapped_column(String(200))
    result_sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class RecordingShare(Base):
    """The money one recording earned from one licence and one source, with its evidence."""

    __tablename__ = "remuneration_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("remuneration_run.id"), index=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"))
    source: Mapped[str] = mapped_column(String(16))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"))
    weight: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    evidence: Mapped[list[str]] = mapped_column(JSON)


class Payment(Base):
    """A performer's money from one recording under one licence, and where it goes."""

    __tablename__ = "remuneration_payment"
    __table_args__ = (Index("ix_remuneration_payment_run_performer", "run_id", "performer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("remuneration_run.id"), index=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"))
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("performer.id"), nullable=True)
    collecting_cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"))
    payee_cmo_id: Mapped[int | None] = mapped_column(ForeignKey("cmo.id"), nullable=True)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("reciprocal_agreement.id"), nullable=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    admin_fee_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Statement(Base):
    """A statement for one party (performer, cmo, licensee) and period, as declared."""

    __tablename__ = "remuneration_statement"
    __table_args__ = (UniqueConstraint("period", "party_kind", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("remuneration_run.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    party_kind: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int] = mapped_column(Integer)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)  # currency -> minor units
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    # [{"entry_id", "index", "cmo_id", "currency"}] once declared to the transparency log
    log_entries: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
