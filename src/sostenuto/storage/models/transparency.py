"""Transparency log tables: entries, hash tiles, tree state and signed checkpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class RawBytes(LargeBinary):
    """BLOB / bytea passed to the driver as ``bytes``: both sqlite3 and psycopg take them as
    they are, and skipping the per-value wrapper matters when 10 000 leaves go in at once."""

    cache_ok = True

    def bind_processor(self, dialect: Any) -> None:
        return None


class LogEntry(Base):
    """One leaf: its canonical JSON body and RFC 9162 leaf hash.

    ``licensee_id``, ``cmo_id`` and ``model_id`` repeat what the body says so that summaries
    and listings can select entries without parsing every body.
    """

    __tablename__ = "tlog_entry"
    __table_args__ = (Index("ix_tlog_entry_type_model", "entry_type", "model_id"),)

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(RawBytes(32), unique=True)
    entry_type: Mapped[str] = mapped_column(String(32))
    licensee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cmo_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[bytes] = mapped_column(RawBytes)
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LogTile(Base):
    """A tile of height 8: base hashes of tree level ``8 * level`` plus its inner levels."""

    __tablename__ = "tlog_tile"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(SmallInteger)
    hashes: Mapped[bytes] = mapped_column(RawBytes)


class LogState(Base):
    """The one row holding the tree's size and root; written with every batch of leaves."""

    __tablename__ = "tlog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(RawBytes(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LogCheckpoint(Base):
    """A signed checkpoint (C2SP signed note), one per appended batch."""

    __tablename__ = "tlog_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(RawBytes(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LogFileHash(Base):
    """A file content hash declared in a dataset-manifest entry: "was this file declared?"."""

    __tablename__ = "tlog_file_hash"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
