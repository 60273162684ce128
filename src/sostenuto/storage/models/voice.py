"""Voice tables: voiceprints of performers, and screenings of audio files with their matches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class Voiceprint(Base):
    """A performer's speaker embedding from one model (name and version).

    Re-enrolling with the same model adds a row and clears ``current`` on the previous one in
    the same transaction, so history is kept and exactly one row per performer and model is
    current (a partial unique index enforces it on both backends).
    """

    __tablename__ = "voiceprint"
    __table_args__ = (
        Index(
            "ix_voiceprint_current",
            "performer_id",
            "model_name",
            "model_version",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_voiceprint_model", "model_name", "model_version", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performer_id: Mapped[int] = mapped_column(ForeignKey("performer.id"), index=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, L2-normed
    clip_sha256: Mapped[list[str]] = mapped_column(JSON)
    voiced_seconds: Mapped[float] = mapped_column(Float)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class VoiceScreening(Base):
    """One screened file: who asked, for which licensee, territory and date, and the report."""

    __tablename__ = "voice_screening"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    screened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    screened_by: Mapped[str] = mapped_column(String(200))
    audio_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    duration_s: Mapped[float] = mapped_column(Float)
    licensee_id: Mapped[int | None] = mapped_column(
        ForeignKey("licensee.id"), nullable=True, index=True
    )
    territory: Mapped[str | None] = mapped_column(String(2), nullable=True)
    on_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class VoiceMatch(Base):
    """A time range of a screened file attributed to an enrolled performer's voice.

    Kept as rows (the report also holds them) so that a CMO can list the matches of its
    performers, the unauthorised ones first of all.
    """

    __tablename__ = "voice_match"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_id: Mapped[str] = mapped_column(ForeignKey("voice_screening.id"), index=True)
    performer_id: Mapped[int] = mapped_column(ForeignKey("performer.id"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # authorised, unauthorised
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
