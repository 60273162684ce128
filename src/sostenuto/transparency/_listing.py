"""Listing log entries, one keyset page at a time (the log is public).

Entries come in log order (``idx``) and filter by type, licensee and model; ``sha256``
answers "was this file declared?": the dataset-manifest entries that name a file with that
content hash (``tlog_file_hash``, filled as manifests are appended).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput
from sostenuto.storage.models.transparency import LogEntry, LogFileHash
from sostenuto.storage.paging import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    page_of,
    query_tag,
)
from sostenuto.transparency._entries import ENTRY_TYPES

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class EntryListing:
    """One log entry: its index, leaf hash (the entry id), type, parties and body."""

    index: int
    entry_id: str
    type: str
    licensee_id: int | None
    cmo_id: int | None
    model_id: int | None
    submitted_at: dt.datetime
    entry: dict[str, Any]


def list_entries(
    session: Session,
    *,
    entry_type: str | None = None,
    licensee_id: int | None = None,
    model_id: int | None = None,
    sha256: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[EntryListing]:
    """Log entries in log order, filtered; anyone may list them."""
    check_limit(limit)
    if entry_type is not None and entry_type not in ENTRY_TYPES:
        raise InvalidInput(
            f"unknown entry type {entry_type!r}; types are: {', '.join(ENTRY_TYPES)}",
            details={"field": "entry_type", "value": entry_type},
        )
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput("invalid sha256: 64 hexadecimal digits", details={"field": "sha256"})
    filters = {"type": entry_type, "licensee": licensee_id, "model": model_id, "sha256": sha256}
    tag = query_tag("log.entries", filters)
    after = decode_cursor(cursor, tag, 1)
    query = select(LogEntry).order_by(LogEntry.idx)
    if after is not None:
        query = query.where(LogEntry.idx > int(after[0]))
    if entry_type is not None:
        query = query.where(LogEntry.entry_type == entry_type)
    if licensee_id is not None:
        query = query.where(LogEntry.licensee_id == licensee_id)
    if model_id is not None:
        query = query.where(LogEntry.model_id == model_id)
    if sha256 is not None:
        query = query.where(
            LogEntry.idx.in_(select(LogFileHash.idx).where(LogFileHash.sha256 == sha256))
        )
    rows = list(session.scalars(query.limit(limit + 1)))
    return page_of(
        rows,
        limit,
        tag,
        lambda row: (int(row.idx),),
        lambda row: EntryListing(
            int(row.idx),
            bytes(row.leaf_hash).hex(),
            row.entry_type,
            row.licensee_id,
            row.cmo_id,
            row.model_id,
            row.submitted_at,
            orjson.loads(bytes(row.body)),
        ),
    )
