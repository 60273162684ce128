"""Where a performer's recordings and voice were declared used: the log entries that name them.

The log is public, but which recordings are a performer's is the registry's (contributors are
not public), so the question is the performer's own (or an auditor's): right
``performer.usage``. Three entry types name what a performer owns: a dataset manifest's files
(by recording id or ISRC), an output declaration's resemblances (a recording or the
performer) and a voice match (the performer). The newest :data:`SCANNED` entries of those
types are read; a longer history is the log's to page through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, authorize
from sostenuto.errors import InvalidInput
from sostenuto.storage.models.registry import Contribution, Recording
from sostenuto.storage.models.transparency import LogEntry

# Bounds the page's work: the log may hold millions of entries.
SCANNED = 5000
_TYPES = ("dataset-manifest", "output-declaration", "voice-match")


@dataclass(frozen=True)
class Use:
    """One log entry that names the performer's recordings or voice."""

    index: int
    entry_type: str
    submitted_at: dt.datetime
    licensee_id: int | None
    model_id: int | None
    # The performer's recordings it names, as ISRCs (or "recording <id>" without one).
    recordings: tuple[str, ...]
    voice: bool

    @property
    def entry_href(self) -> str:
        return f"/api/v1/log/entries/{self.index}"

    @property
    def proof_href(self) -> str:
        return f"/api/v1/log/proofs/inclusion/{self.index}"


def _named(body: dict[str, Any], entry_type: str) -> tuple[set[int], set[str]]:
    """The recording ids and ISRCs an entry's payload names."""
    ids: set[int] = set()
    isrcs: set[str] = set()
    if entry_type == "dataset-manifest":
        for item in body.get("files", ()):
            if item.get("recording_id") is not None:
                ids.add(int(item["recording_id"]))
            if item.get("isrc"):
                isrcs.add(str(item["isrc"]))
    elif entry_type == "output-declaration":
        for item in body.get("resemblances", ()):
            if item.get("recording_id") is not None:
                ids.add(int(item["recording_id"]))
    return ids, isrcs


def uses_of_performer(
    session: Session, principal: Principal, performer_id: int, *, limit: int = 50
) -> list[Use]:
    """The newest log entries (at most ``limit``) naming the performer's recordings or voice,
    newest first."""
    authorize(principal, "performer.usage", performer_id=performer_id)
    if not 1 <= limit <= 500:
        raise InvalidInput(f"limit must be 1 to 500, got {limit}", details={"field": "limit"})
    mine = {
        int(rid): isrc
        for rid, isrc in session.execute(
            select(Recording.id, Recording.isrc)
            .join(Contribution, Contribution.recording_id == Recording.id)
            .where(Contribution.performer_id == performer_id)
        )
    }
    return scan_uses(session, mine, performer_id, limit=limit)


def scan_uses(
    session: Session, mine: dict[int, str], performer_id: int | None, *, limit: int
) -> list[Use]:
    """The newest log entries (at most ``limit``, among the latest :data:`SCANNED`) naming
    one of the recordings ``mine`` (id -> ISRC) or, given ``performer_id``, that voice."""
    by_isrc = {isrc: rid for rid, isrc in mine.items() if isrc}
    found: list[Use] = []
    rows = session.execute(
        select(
            LogEntry.idx,
            LogEntry.entry_type,
            LogEntry.submitted_at,
            LogEntry.licensee_id,
            LogEntry.model_id,
            LogEntry.body,
        )
        .where(LogEntry.entry_type.in_(_TYPES))
        .order_by(LogEntry.idx.desc())
        .limit(SCANNED)
    )
    for idx, entry_type, submitted_at, licensee_id, model_id, body in rows:
        # A leaf is {"type", "v", "submitter", "payload"}: what it names is in the payload.
        document = orjson.loads(bytes(body)).get("payload", {})
        ids, isrcs = _named(document, entry_type)
        hits = {rid for rid in ids if rid in mine} | {by_isrc[i] for i in isrcs if i in by_isrc}
        voice = performer_id is not None and _names_performer(document, entry_type, performer_id)
        if not hits and not voice:
            continue
        found.append(
            Use(
                int(idx),
                entry_type,
                submitted_at,
                licensee_id,
                model_id,
                tuple(sorted(mine[rid] or f"recording {rid}" for rid in hits)),
                voice,
            )
        )
        if len(found) == limit:
            break
    return found


def _names_performer(body: dict[str, Any], entry_type: str, performer_id: int) -> bool:
    if entry_type == "voice-match":
        return int(body.get("performer_id", -1)) == performer_id
    if entry_type == "output-declaration":
        return any(r.get("performer_id") == performer_id for r in body.get("resemblances", ()))
    return False
