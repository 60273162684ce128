"""Voiceprints in the registry: write one version, read the current ones as an index."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, allowed, authorize, authorize_role
from sostenuto.errors import Forbidden, IntegrityFailure, NotFound
from sostenuto.storage.models.registry import Mandate, Performer
from sostenuto.storage.models.voice import Voiceprint
from sostenuto.voice._embed import Floats
from sostenuto.voice._index import VoiceIndex
from sostenuto.voice._types import VoiceprintInfo


def performer_or_404(session: Session, performer_id: int) -> Performer:
    performer = session.get(Performer, performer_id)
    if performer is None:
        raise NotFound(f"no performer with id {performer_id}", details={"performer": performer_id})
    return performer


def manages(session: Session, principal: Principal, performer: Performer) -> bool:
    """Whether the caller's CMO represents this performer: it registered them, or holds an
    active mandate from them in force today (the ``represents`` fact of the policy)."""
    if principal.role != "cmo-admin" or principal.cmo_id is None:
        return False
    if performer.registered_by_cmo_id == principal.cmo_id:
        return True
    today = dt.datetime.now(dt.UTC).date()
    mandate = session.scalar(
        select(Mandate.id)
        .where(
            Mandate.performer_id == performer.id,
            Mandate.cmo_id == principal.cmo_id,
            Mandate.status == "active",
            Mandate.valid_from <= today,
            or_(Mandate.valid_to.is_(None), Mandate.valid_to >= today),
        )
        .limit(1)
    )
    return mandate is not None


def require_manager(session: Session, principal: Principal, performer: Performer) -> None:
    """Only the performer's CMO (or the local operator) enrols their voice."""
    if principal.operator:
        return
    authorize_role(principal, "voiceprint.enrol")
    if not manages(session, principal, performer):
        raise Forbidden(
            "this CMO neither registered this performer nor holds a current mandate from them"
            " (right 'voiceprint.enrol' covers the performers it represents only)",
            details={
                "action": "voiceprint.enrol",
                "performer": performer.id,
                "token_cmo": principal.cmo_id,
            },
        )


def to_bytes(vector: Floats) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes, dim: int) -> Floats:
    vector = np.frombuffer(data, dtype="<f4")
    if vector.size != dim:
        raise IntegrityFailure(f"stored voiceprint has {vector.size} values, expected {dim}")
    return vector.astype(np.float32)


def save_voiceprint(
    session: Session,
    principal: Principal,
    *,
    performer_id: int,
    model_name: str,
    model_version: str,
    vector: Floats,
    clip_sha256: list[str],
    voiced_seconds: float,
) -> Voiceprint:
    """Add a version and make it current; the previous one stays, no longer current."""
    session.execute(
        update(Voiceprint)
        .where(
            Voiceprint.performer_id == performer_id,
            Voiceprint.model_name == model_name,
            Voiceprint.model_version == model_version,
            Voiceprint.is_current.is_(True),
        )
        .values(is_current=False)
    )
    # Flush the demotion first so the partial unique index never sees two current rows.
    session.flush()
    row = Voiceprint(
        performer_id=performer_id,
        model_name=model_name,
        model_version=model_version,
        dim=int(vector.size),
        embedding=to_bytes(vector),
        clip_sha256=clip_sha256,
        voiced_seconds=round(voiced_seconds, 3),
        is_current=True,
        created_by=principal.name,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row


def load_index(session: Session, model_name: str, model_version: str, dim: int) -> VoiceIndex:
    """Every current voiceprint of one model version, as a search matrix."""
    rows = session.execute(
        select(Voiceprint.performer_id, Voiceprint.embedding)
        .where(
            Voiceprint.model_name == model_name,
            Voiceprint.model_version == model_version,
            Voiceprint.is_current.is_(True),
        )
        .order_by(Voiceprint.performer_id)
    ).all()
    if not rows:
        return VoiceIndex([], np.zeros((0, dim), dtype=np.float32))
    ids = [int(row[0]) for row in rows]
    return VoiceIndex(ids, np.stack([from_bytes(row[1], dim) for row in rows]))


def info(row: Voiceprint, performer_name: str) -> VoiceprintInfo:
    return VoiceprintInfo(
        id=row.id,
        performer_id=row.performer_id,
        performer_name=performer_name,
        model_name=row.model_name,
        model_version=row.model_version,
        clips=len(row.clip_sha256),
        clip_sha256=list(row.clip_sha256),
        voiced_seconds=row.voiced_seconds,
        current=row.is_current,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def list_voiceprints(
    session: Session,
    principal: Principal,
    *,
    performer_id: int | None = None,
    include_history: bool = False,
) -> list[VoiceprintInfo]:
    """Voiceprints a caller may see: auditors all, a CMO admin those of its performers."""
    authorize_role(principal, "voiceprint.read")
    query = (
        select(Voiceprint, Performer)
        .join(Performer, Performer.id == Voiceprint.performer_id)
        .order_by(Voiceprint.performer_id, Voiceprint.model_name, Voiceprint.id)
    )
    if performer_id is not None:
        performer = performer_or_404(session, performer_id)
        authorize(principal, "voiceprint.read", represents=manages(session, principal, performer))
        query = query.where(Voiceprint.performer_id == performer_id)
    if not include_history:
        query = query.where(Voiceprint.is_current.is_(True))
    out = []
    for row, performer in session.execute(query).all():
        represents = manages(session, principal, performer)
        if allowed(principal, "voiceprint.read", represents=represents):
            out.append(info(row, performer.name))
    return out
