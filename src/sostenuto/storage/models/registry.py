"""Registry tables: CMOs, agreements, performers, mandates, recordings, licensees, licences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class Cmo(Base):
    """A collective management organisation of performers."""

    __tablename__ = "cmo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class ReciprocalAgreement(Base):
    """``cmo`` represents the members of ``partner_cmo`` in ``territories`` for ``uses``."""

    __tablename__ = "reciprocal_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"), index=True)
    partner_cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"), index=True)
    territories: Mapped[list[str]] = mapped_column(JSON)
    uses: Mapped[list[str]] = mapped_column(JSON)
    admin_fee: Mapped[Decimal] = mapped_column(Numeric(6, 4))  # fraction, 0.1000 = 10 %
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Performer(Base):
    """A natural person whose performances are fixed in recordings."""

    __tablename__ = "performer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    isni: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    ipn: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    nationality: Mapped[str | None] = mapped_column(String(2), nullable=True)
    residence: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # The CMO that registered the performer (null when the operator did): it may see and
    # manage the performer before any mandate exists, and bulk imports match performers
    # without ISNI or IPN by name within it.
    registered_by_cmo_id: Mapped[int | None] = mapped_column(
        ForeignKey("cmo.id"), nullable=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class Mandate(Base):
    """A performer entrusts a CMO with some uses in some territories for a period."""

    __tablename__ = "mandate"
    __table_args__ = (Index("ix_mandate_performer_cmo", "performer_id", "cmo_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performer_id: Mapped[int] = mapped_column(ForeignKey("performer.id"))
    cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"), index=True)
    territories: Mapped[list[str]] = mapped_column(JSON)
    uses: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # "pending" while the performer is represented by another CMO for the same uses and
    # territories, until the performer or that CMO confirms the transfer; only "active"
    # mandates give a CMO authority.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class Recording(Base):
    """A sound recording, identified by its ISRC."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isrc: Mapped[str] = mapped_column(String(12), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fixation_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audio_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    registered_by_cmo_id: Mapped[int | None] = mapped_column(
        ForeignKey("cmo.id"), nullable=True, index=True
    )


class Contribution(Base):
    """A performer's part in a recording."""

    __tablename__ = "contribution"
    __table_args__ = (UniqueConstraint("recording_id", "performer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"))
    performer_id: Mapped[int] = mapped_column(ForeignKey("performer.id"), index=True)
    featured: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16))  # "voice" or "instrument"
    instrument: Mapped[str | None] = mapped_column(String(100), nullable=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(1))


class Licensee(Base):
    """An AI developer or platform that asks for consent and takes licences."""

    __tablename__ = "licensee"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "developer" or "platform"
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)


class AiModel(Base):
    """A model a licensee trains or runs."""

    __tablename__ = "ai_model"
    __table_args__ = (UniqueConstraint("licensee_id", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensee.id"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(500))


class Licence(Base):
    """A CMO's grant to a licensee: uses, territories, period, tariff and status."""

    __tablename__ = "licence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"), index=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensee.id"), index=True)
    uses: Mapped[list[str]] = mapped_column(JSON)
    territories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    tariff_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The model version the licence covers (null: every model of the licensee).
    model_id: Mapped[int | None] = mapped_column(ForeignKey("ai_model.id"), nullable=True)
    # The licence stops counting on and after this day; earlier days are untouched.
    suspended_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # An extended collective licence also covers non-members who have not opted out, where
    # the territory's jurisdiction rule allows it.
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
