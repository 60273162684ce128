"""Watermark identifiers handed out by labelling, each tied to its transparency-log entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class WatermarkMark(Base):
    """One 32-bit watermark id: what it was embedded for and where the log declares it."""

    __tablename__ = "label_watermark"

    # 32-bit unsigned ids exceed PostgreSQL's INTEGER, hence BIGINT.
    watermark_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_entry_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    licensee_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("licensee.id"), nullable=True, index=True
    )
    licensee_name: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(200))
    source_type: Mapped[str] = mapped_column(String(64))
    licence_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
