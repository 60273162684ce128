"""Where a CMO's repertoire was declared used: the log entries naming one recording of its
catalogue, or one performer it registered or holds a mandate from (right
``repertoire.usage``), read as :func:`~sostenuto.declarations.uses_of_performer` reads a
performer's own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, authorize
from sostenuto.declarations._usage import Use, scan_uses
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.registry import Contribution, Mandate, Performer, Recording


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 500:
        raise InvalidInput(f"limit must be 1 to 500, got {limit}", details={"field": "limit"})


def uses_of_recording(
    session: Session, principal: Principal, recording_id: int, *, limit: int = 50
) -> list[Use]:
    """The newest log entries naming the recording, newest first; its CMO's admin and
    auditors only."""
    _check_limit(limit)
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"no recording {recording_id}", details={"recording_id": recording_id})
    authorize(principal, "repertoire.usage", cmo_id=recording.registered_by_cmo_id)
    return scan_uses(session, {recording.id: recording.isrc}, None, limit=limit)


def uses_of_member(
    session: Session, principal: Principal, performer_id: int, *, limit: int = 50
) -> list[Use]:
    """The newest log entries naming the performer's recordings or voice, newest first; the
    admin of a CMO that registered the performer or holds a mandate from them, and auditors."""
    _check_limit(limit)
    performer = session.get(Performer, performer_id)
    if performer is None:
        raise NotFound(f"no performer {performer_id}", details={"performer_id": performer_id})
    mandated = principal.cmo_id is not None and (
        session.scalar(
            select(Mandate.id)
            .where(Mandate.performer_id == performer_id, Mandate.cmo_id == principal.cmo_id)
            .limit(1)
        )
        is not None
    )
    authorize(
        principal,
        "repertoire.usage",
        cmo_id=performer.registered_by_cmo_id,
        represents=mandated,
    )
    mine = {
        int(rid): isrc
        for rid, isrc in session.execute(
            select(Recording.id, Recording.isrc)
            .join(Contribution, Contribution.recording_id == Recording.id)
            .where(Contribution.performer_id == performer_id)
        )
    }
    return scan_uses(session, mine, performer_id, limit=limit)
