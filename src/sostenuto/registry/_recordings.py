"""Recordings of a CMO's catalogue and the performers' contributions to them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_creation
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, InvalidInput
from sostenuto.registry._common import (
    get_row,
    is_reader_of_all,
    resolve_recording,
)
from sostenuto.registry._records import ContributionInfo, RecordingBasics, RecordingInfo
from sostenuto.registry._validate import (
    CONTRIBUTION_KINDS,
    check_choice,
    check_duration_ms,
    check_name,
    check_sha256,
    check_weight,
    check_year,
    normalise_isrc,
)
from sostenuto.storage.models.registry import Cmo, Contribution, Performer, Recording


@dataclass(frozen=True)
class NewContribution:
    """A performer's part in a recording, as given to :func:`add_recording`."""

    performer_id: int
    featured: bool
    kind: str = "instrument"
    instrument: str | None = None
    weight: Decimal | float | str = Decimal(1)


def check_contribution_fields(
    kind: str, instrument: str | None, weight: Decimal | float | str
) -> tuple[str, str | None, Decimal]:
    kind = check_choice(kind, "kind", CONTRIBUTION_KINDS)
    instrument = " ".join(instrument.split()) if instrument else None
    if kind == "voice" and instrument:
        raise InvalidInput(
            f"invalid instrument {instrument!r}: a voice contribution names no instrument",
            details={"field": "instrument", "value": instrument},
        )
    if instrument and len(instrument) > 100:
        raise InvalidInput(
            "invalid instrument: longer than 100 characters", details={"field": "instrument"}
        )
    return kind, instrument, check_weight(weight)


def _contribution_infos(session: Session, recording_id: int) -> list[ContributionInfo]:
    rows = session.execute(
        select(Contribution, Performer.name)
        .join(Performer, Performer.id == Contribution.performer_id)
        .where(Contribution.recording_id == recording_id)
        .order_by(Contribution.id)
    )
    return [ContributionInfo.of(row, name) for row, name in rows]


def add_recording(
    session: Session,
    principal: Principal,
    *,
    cmo_id: int,
    isrc: str,
    title: str,
    duration_ms: int | None = None,
    fixation_year: int | None = None,
    audio_sha256: str | None = None,
    contributions: list[NewContribution] | None = None,
) -> RecordingInfo:
    """Add a recording to ``cmo_id``'s catalogue, with its contributions, all or nothing."""
    principal.require_cmo(cmo_id)
    get_row(session, Cmo, cmo_id, "cmo")
    row = Recording(
        isrc=normalise_isrc(isrc),
        title=check_name(title, "title", limit=500),
        duration_ms=check_duration_ms(duration_ms) if duration_ms is not None else None,
        fixation_year=check_year(fixation_year) if fixation_year is not None else None,
        audio_sha256=check_sha256(audio_sha256) if audio_sha256 else None,
        registered_by_cmo_id=cmo_id,
    )
    existing = session.scalar(select(Recording).where(Recording.isrc == row.isrc))
    if existing is not None:
        raise Conflict(
            f"recording {existing.id} already has ISRC {row.isrc}",
            details={"isrc": row.isrc, "existing_recording": existing.id},
        )
    checked = []
    seen: set[int] = set()
    for spec in contributions or []:
        get_row(session, Performer, spec.performer_id, "performer")
        if spec.performer_id in seen:
            raise InvalidInput(
                f"performer {spec.performer_id} is listed twice for {row.isrc}",
                details={"field": "performer_id", "value": spec.performer_id},
            )
        seen.add(spec.performer_id)
        checked.append((spec, *check_contribution_fields(spec.kind, spec.instrument, spec.weight)))
    record_creation(session, principal, row, "recording")
    for spec, kind, instrument, weight in checked:
        _insert_contribution(
            session, principal, row.id, spec.performer_id, spec.featured, kind, instrument, weight
        )
    return RecordingInfo.of(row, _contribution_infos(session, row.id))


def _insert_contribution(
    session: Session,
    principal: Principal,
    recording_id: int,
    performer_id: int,
    featured: bool,
    kind: str,
    instrument: str | None,
    weight: Decimal,
) -> Contribution:
    row = Contribution(
        recording_id=recording_id,
        performer_id=performer_id,
        featured=featured,
        kind=kind,
        instrument=instrument,
        weight=weight,
    )
    record_creation(session, principal, row, "contribution")
    return row


def add_contribution(
    session: Session,
    principal: Principal,
    *,
    recording: str | int,
    performer_id: int,
    featured: bool,
    kind: str = "instrument",
    instrument: str | None = None,
    weight: Decimal | float | str = Decimal(1),
) -> ContributionInfo:
    """Add a performer's part to a recording of the caller's catalogue."""
    row = resolve_recording(session, recording)
    if row.registered_by_cmo_id is None:
        principal.require_operator("edit a recording that no CMO registered")
    else:
        principal.require_cmo(row.registered_by_cmo_id)
    performer = get_row(session, Performer, performer_id, "performer")
    kind, instrument, weight_value = check_contribution_fields(kind, instrument, weight)
    clash = session.scalar(
        select(Contribution.id).where(
            Contribution.recording_id == row.id, Contribution.performer_id == performer_id
        )
    )
    if clash is not None:
        raise Conflict(
            f"performer {performer_id} already contributes to {row.isrc} (contribution {clash})",
            details={"existing_contribution": clash},
        )
    added = _insert_contribution(
        session, principal, row.id, performer_id, featured, kind, instrument, weight_value
    )
    return ContributionInfo.of(added, performer.name)


def show_recording(
    session: Session, principal: Principal, ref: str | int
) -> RecordingInfo | RecordingBasics:
    """A recording in full for auditors and its CMO's admin; ISRC, title and year for others."""
    row = resolve_recording(session, ref)
    full = is_reader_of_all(principal) or (
        principal.role == "cmo-admin"
        and principal.cmo_id is not None
        and principal.cmo_id == row.registered_by_cmo_id
    )
    if not full:
        return RecordingBasics(row.isrc, row.title, row.fixation_year)
    return RecordingInfo.of(row, _contribution_infos(session, row.id))
