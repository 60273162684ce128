"""A performer's own voiceprint status: is my voice enrolled, since when, from how much."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, authorize
from sostenuto.storage.models.registry import Performer
from sostenuto.storage.models.voice import Voiceprint
from sostenuto.voice._store import info, performer_or_404
from sostenuto.voice._types import VoiceprintInfo


def voiceprint_status(
    session: Session, principal: Principal, performer_id: int
) -> list[VoiceprintInfo]:
    """The performer's current voiceprints (one per model version), oldest first; empty when
    the voice is not enrolled. Right ``voiceprint.read-own``: a performer its own only."""
    authorize(principal, "voiceprint.read-own", performer_id=performer_id)
    performer: Performer = performer_or_404(session, performer_id)
    rows = session.scalars(
        select(Voiceprint)
        .where(Voiceprint.performer_id == performer_id, Voiceprint.is_current.is_(True))
        .order_by(Voiceprint.created_at, Voiceprint.id)
    )
    return [info(row, performer.name) for row in rows]
