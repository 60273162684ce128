"""Identification tables: which registered recordings are fingerprinted in the index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class RecordingFingerprint(Base):
    """A recording's audio, fingerprinted into the identification index under ``index_key``.

    The fingerprints themselves live in the on-disk index (``<data dir>/identify/index``);
    this row ties them to the registry and says which audio and which fingerprint version.
    """

    __tablename__ = "identify_fingerprint"

    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    index_key: Mapped[str] = mapped_column(String(64), unique=True)
    audio_sha256: Mapped[str] = mapped_column(String(64), index=True)
    duration_s: Mapped[float] = mapped_column(Float)
    hashes: Mapped[int] = mapped_column(Integer)
    fingerprint_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())
