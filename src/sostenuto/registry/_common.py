"""Look-ups and access checks shared by the registry services."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.errors import Forbidden, NotFound
from sostenuto.registry._validate import normalise_isrc
from sostenuto.storage.base import Base
from sostenuto.storage.models.registry import Cmo, Licensee, Mandate, Performer, Recording

T = TypeVar("T", bound=Base)


def get_row(session: Session, table: type[T], row_id: int, what: str) -> T:
    row = session.get(table, row_id)
    if row is None:
        raise NotFound(f"no {what} with id {row_id}", details={what: row_id})
    return row


def resolve_cmo(session: Session, ref: str | int) -> Cmo:
    """A CMO by its id or its code (``AIE``, ``SAMI``, ...)."""
    if isinstance(ref, int) or ref.isdigit():
        return get_row(session, Cmo, int(ref), "cmo")
    row = session.scalar(select(Cmo).where(Cmo.code == ref.strip().upper()))
    if row is None:
        raise NotFound(f"no CMO with code {ref!r}", details={"cmo": ref})
    return row


def resolve_licensee(session: Session, ref: str | int) -> Licensee:
    """A licensee by its id or its exact name."""
    if isinstance(ref, int) or ref.isdigit():
        return get_row(session, Licensee, int(ref), "licensee")
    row = session.scalar(select(Licensee).where(Licensee.name == ref))
    if row is None:
        raise NotFound(f"no licensee named {ref!r}", details={"licensee": ref})
    return row


def resolve_recording(session: Session, ref: str | int) -> Recording:
    """A recording by its id or its ISRC (any written form)."""
    if isinstance(ref, int) or ref.isdigit():
        return get_row(session, Recording, int(ref), "recording")
    isrc = normalise_isrc(ref)
    row = session.scalar(select(Recording).where(Recording.isrc == isrc))
    if row is None:
        raise NotFound(f"no recording with ISRC {isrc}", details={"isrc": isrc})
    return row


def is_reader_of_all(principal: Principal) -> bool:
    return principal.operator or principal.role == "auditor"


def require_performer_visible(session: Session, principal: Principal, performer: Performer) -> None:
    """Auditors see every performer; a CMO admin those it registered or holds a mandate of;
    a performer itself."""
    if is_reader_of_all(principal):
        return
    if principal.role == "performer" and principal.performer_id == performer.id:
        return
    principal.require("cmo-admin")
    if performer.registered_by_cmo_id == principal.cmo_id:
        return
    mandated = session.scalar(
        select(Mandate.id)
        .where(Mandate.performer_id == performer.id, Mandate.cmo_id == principal.cmo_id)
        .limit(1)
    )
    if mandated is None:
        raise Forbidden(
            "this CMO neither registered this performer nor holds a mandate from them",
            details={"performer": performer.id, "token_cmo": principal.cmo_id},
        )
