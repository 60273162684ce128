"""Finding log entries the way a reader of the public log asks for them: the newest first, by
index, by entry id (leaf hash) or by a file's content hash.

A content hash is matched against the files dataset manifests declare (``tlog_file_hash``) and
against the outputs output declarations name (``output_sha256``, read from the bodies: output
declarations carry no hash index, so they are scanned in log order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput
from sostenuto.storage.models.transparency import LogEntry, LogFileHash
from sostenuto.transparency._listing import EntryListing

_HEX64 = re.compile(r"[0-9a-f]{64}")
_INDEX = re.compile(r"[0-9]{1,18}")
_SCAN_CHUNK = 1000
MAX_RECENT = 100


def _listing(row: LogEntry) -> EntryListing:
    return EntryListing(
        int(row.idx),
        bytes(row.leaf_hash).hex(),
        row.entry_type,
        row.licensee_id,
        row.cmo_id,
        row.model_id,
        row.submitted_at,
        orjson.loads(bytes(row.body)),
    )


def recent_entries(
    session: Session, *, before: int | None = None, limit: int = 20, licensee_id: int | None = None
) -> list[EntryListing]:
    """Up to ``limit`` entries, newest first, all below index ``before`` (default: the end),
    only those naming ``licensee_id`` if given (a licensee's own declarations)."""
    if not 1 <= limit <= MAX_RECENT:
        raise InvalidInput(f"limit must be between 1 and {MAX_RECENT}", details={"field": "limit"})
    if before is not None and before < 0:
        raise InvalidInput("before must be a log index (0 or more)", details={"field": "before"})
    query = select(LogEntry).order_by(LogEntry.idx.desc()).limit(limit)
    if before is not None:
        query = query.where(LogEntry.idx < before)
    if licensee_id is not None:
        query = query.where(LogEntry.licensee_id == licensee_id)
    return [_listing(row) for row in session.scalars(query)]


def entry_by_id(session: Session, entry_id: str) -> EntryListing | None:
    """The entry whose leaf hash is ``entry_id`` (hex), if the log holds it."""
    if not _HEX64.fullmatch(entry_id):
        return None
    row = session.scalars(
        select(LogEntry).where(LogEntry.leaf_hash == bytes.fromhex(entry_id))
    ).first()
    return _listing(row) if row is not None else None


def _output_declarations(session: Session) -> Iterator[LogEntry]:
    after = -1
    while True:
        query = (
            select(LogEntry)
            .where(LogEntry.entry_type == "output-declaration", LogEntry.idx > after)
            .order_by(LogEntry.idx)
            .limit(_SCAN_CHUNK)
        )
        rows = list(session.scalars(query))
        yield from rows
        if len(rows) < _SCAN_CHUNK:
            return
        after = int(rows[-1].idx)


def output_declarations_of(session: Session, sha256: str) -> list[EntryListing]:
    """The output declarations that name a file with content hash ``sha256``."""
    found = []
    for row in _output_declarations(session):
        payload = orjson.loads(bytes(row.body)).get("payload", {})
        if payload.get("output_sha256") == sha256:
            found.append(_listing(row))
    return found


def _declaring_file(session: Session, sha256: str) -> list[EntryListing]:
    query = (
        select(LogEntry)
        .where(LogEntry.idx.in_(select(LogFileHash.idx).where(LogFileHash.sha256 == sha256)))
        .order_by(LogEntry.idx)
    )
    return [_listing(row) for row in session.scalars(query)]


@dataclass(frozen=True)
class LogSearch:
    """What a search of the log found: an index to open, or the entries matching a hash."""

    query: str
    index: int | None
    entries: list[EntryListing]


def search_log(session: Session, query: str) -> LogSearch:
    """Look ``query`` up: a log index, an entry id, or a file's SHA-256 (64 hex digits)."""
    text = query.strip().lower()
    if _INDEX.fullmatch(text):
        return LogSearch(text, int(text), [])
    if not _HEX64.fullmatch(text):
        raise InvalidInput(
            "search for a log index (a number) or a SHA-256 hash (64 hexadecimal digits)",
            details={"field": "q", "value": query[:100]},
        )
    entries: dict[int, EntryListing] = {}
    exact = entry_by_id(session, text)
    if exact is not None:
        entries[exact.index] = exact
    for found in [*_declaring_file(session, text), *output_declarations_of(session, text)]:
        entries.setdefault(found.index, found)
    return LogSearch(text, None, [entries[i] for i in sorted(entries)])
