"""Performers and their mandates to CMOs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, record_creation, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, Forbidden, InvalidInput
from sostenuto.registry._common import (
    get_row,
    is_reader_of_all,
    require_performer_visible,
)
from sostenuto.registry._records import MandateInfo, PerformerDetail, PerformerInfo
from sostenuto.registry._validate import (
    check_country,
    check_name,
    check_period,
    check_territory_list,
    check_use_list,
    normalise_ipn,
    normalise_isni,
)
from sostenuto.storage.models.registry import Cmo, Mandate, Performer
from sostenuto.vocabulary import WORLDWIDE


def add_performer(
    session: Session,
    principal: Principal,
    *,
    name: str,
    isni: str | None = None,
    ipn: str | None = None,
    nationality: str | None = None,
    residence: str | None = None,
    cmo_id: int | None = None,
) -> PerformerInfo:
    """Register a performer. A CMO admin registers them under its own CMO."""
    if principal.operator:
        registered_by = cmo_id
        if cmo_id is not None:
            get_row(session, Cmo, cmo_id, "cmo")
    else:
        principal.require("cmo-admin")
        if cmo_id is not None:
            principal.require_cmo(cmo_id)
        registered_by = principal.cmo_id
    row = Performer(
        name=check_name(name),
        isni=normalise_isni(isni) if isni else None,
        ipn=normalise_ipn(ipn) if ipn else None,
        nationality=check_country(nationality, "nationality") if nationality else None,
        residence=check_country(residence, "residence") if residence else None,
        registered_by_cmo_id=registered_by,
    )
    for field, value in (("isni", row.isni), ("ipn", row.ipn)):
        if value is None:
            continue
        existing = session.scalar(select(Performer).where(getattr(Performer, field) == value))
        if existing is not None:
            raise Conflict(
                f"performer {existing.id} ({existing.name}) already has {field.upper()} {value}",
                details={"field": field, "value": value, "existing_performer": existing.id},
            )
    record_creation(session, principal, row, "performer")
    return PerformerInfo.of(row)


def show_performer(session: Session, principal: Principal, performer_id: int) -> PerformerDetail:
    """A performer and their mandates; a CMO admin sees only the mandates with its CMO."""
    performer = get_row(session, Performer, performer_id, "performer")
    require_performer_visible(session, principal, performer)
    query = select(Mandate).where(Mandate.performer_id == performer_id).order_by(Mandate.id)
    if not is_reader_of_all(principal):
        query = query.where(Mandate.cmo_id == principal.cmo_id)
    mandates = [MandateInfo.of(row) for row in session.scalars(query)]
    return PerformerDetail(PerformerInfo.of(performer), mandates)


def _periods_overlap(
    a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None
) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def _territories_overlap(a: list[str], b: list[str]) -> bool:
    return WORLDWIDE in a or WORLDWIDE in b or bool(set(a) & set(b))


def find_overlap(
    candidates: list[Mandate],
    *,
    territories: list[str],
    uses: list[str],
    valid_from: dt.date,
    valid_to: dt.date | None,
) -> Mandate | None:
    """The first mandate sharing a day, a territory and a use with the proposed one."""
    for other in candidates:
        if (
            _periods_overlap(valid_from, valid_to, other.valid_from, other.valid_to)
            and _territories_overlap(territories, list(other.territories))
            and set(uses) & set(other.uses)
        ):
            return other
    return None


def add_mandate(
    session: Session,
    principal: Principal,
    *,
    performer_id: int,
    cmo_id: int,
    territories: list[str],
    uses: list[str],
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> MandateInfo:
    """Record that a performer entrusts ``cmo_id``; refused if it overlaps any mandate."""
    principal.require_cmo(cmo_id)
    get_row(session, Cmo, cmo_id, "cmo")
    territories = check_territory_list(territories)
    uses = check_use_list(uses)
    check_period(valid_from, valid_to)
    # Lock the performer so two concurrent mandates cannot both pass the overlap check
    # (PostgreSQL; SQLite serialises writers anyway).
    performer = session.get(Performer, performer_id, with_for_update=True)
    if performer is None:
        get_row(session, Performer, performer_id, "performer")
    existing = list(session.scalars(select(Mandate).where(Mandate.performer_id == performer_id)))
    clash = find_overlap(
        existing, territories=territories, uses=uses, valid_from=valid_from, valid_to=valid_to
    )
    if clash is not None:
        shared_uses = sorted(set(uses) & set(clash.uses))
        raise Conflict(
            f"mandate {clash.id} of performer {performer_id} with CMO {clash.cmo_id} already "
            f"covers {', '.join(shared_uses)} in an overlapping territory and period "
            f"({clash.valid_from.isoformat()} to "
            f"{clash.valid_to.isoformat() if clash.valid_to else 'open'})",
            details={
                "existing_mandate": clash.id,
                "existing_cmo": clash.cmo_id,
                "uses": shared_uses,
            },
        )
    if valid_from < _today() and not principal.operator:
        raise InvalidInput(
            f"a mandate cannot take effect in the past ({valid_from.isoformat()}); it applies"
            " from today or later",
            details={"field": "valid_from", "value": valid_from.isoformat()},
        )
    # A performer another CMO represents (now or from a later day) is not taken over by a
    # registration: the mandate waits until that CMO (or the performer) confirms it.
    others = sorted(
        {
            mandate.cmo_id
            for mandate in existing
            if mandate.cmo_id != cmo_id
            and mandate.status == "active"
            and (mandate.valid_to is None or mandate.valid_to >= _today())
        }
    )
    row = Mandate(
        performer_id=performer_id,
        cmo_id=cmo_id,
        territories=territories,
        uses=uses,
        valid_from=valid_from,
        valid_to=valid_to,
        status="pending" if others and not principal.operator else "active",
    )
    record_creation(session, principal, row, "mandate")
    return MandateInfo.of(row)


def confirm_mandate(session: Session, principal: Principal, mandate_id: int) -> MandateInfo:
    """Confirm a pending mandate: the admin of a CMO that represents the performer today
    (the transfer's other side) or the operator may; the mandate then counts."""
    principal.require("cmo-admin")
    row = get_row(session, Mandate, mandate_id, "mandate")
    if row.status != "pending":
        raise Conflict(f"mandate {mandate_id} is {row.status}, not pending")
    today = _today()
    representing = {
        mandate.cmo_id
        for mandate in session.scalars(
            select(Mandate).where(
                Mandate.performer_id == row.performer_id,
                Mandate.status == "active",
                Mandate.cmo_id != row.cmo_id,
            )
        )
        if mandate.valid_to is None or mandate.valid_to >= today
    }
    if not principal.operator and principal.cmo_id not in representing:
        raise Forbidden(
            f"mandate {mandate_id} waits for the performer or for CMO {sorted(representing)},"
            f" which represents the performer; CMO {principal.cmo_id} may not confirm it",
            details={"representing_cmos": sorted(representing), "token_cmo": principal.cmo_id},
        )
    before = snapshot(row)
    row.status = "active"
    # Confirmation is not retroactive: the mandate counts from today at the earliest.
    row.valid_from = max(row.valid_from, today)
    session.flush()
    record_change(
        session,
        principal,
        action="confirm",
        entity_type="mandate",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )
    return MandateInfo.of(row)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def list_mandates(
    session: Session,
    principal: Principal,
    *,
    cmo_id: int | None = None,
    performer_id: int | None = None,
    on_date: dt.date | None = None,
) -> list[MandateInfo]:
    """Mandates by CMO and/or performer, optionally only those in force on ``on_date``."""
    if not is_reader_of_all(principal):
        principal.require("cmo-admin")
        if cmo_id is not None:
            principal.require_cmo(cmo_id)
        cmo_id = principal.cmo_id
    query = select(Mandate).order_by(Mandate.id)
    if cmo_id is not None:
        query = query.where(Mandate.cmo_id == cmo_id)
    if performer_id is not None:
        query = query.where(Mandate.performer_id == performer_id)
    if on_date is not None:
        query = query.where(Mandate.valid_from <= on_date).where(
            (Mandate.valid_to.is_(None)) | (Mandate.valid_to >= on_date)
        )
    return [MandateInfo.of(row) for row in session.scalars(query)]


def end_mandate(
    session: Session, principal: Principal, mandate_id: int, *, on: dt.date
) -> MandateInfo:
    """End a mandate on ``on`` (its last day). It can be shortened, never extended."""
    row = get_row(session, Mandate, mandate_id, "mandate")
    principal.require_cmo(row.cmo_id)
    if on < _today() - dt.timedelta(days=1) and not principal.operator:
        raise InvalidInput(
            f"invalid end date {on.isoformat()}: a mandate ends from today on (its last day"
            " is yesterday at the earliest); the past is not rewritten",
            details={"field": "on", "value": on.isoformat()},
        )
    if on < row.valid_from:
        raise InvalidInput(
            f"invalid end date {on.isoformat()}: mandate {mandate_id} starts "
            f"{row.valid_from.isoformat()}",
            details={"field": "on", "value": on.isoformat()},
        )
    if row.valid_to is not None and on > row.valid_to:
        raise InvalidInput(
            f"invalid end date {on.isoformat()}: mandate {mandate_id} already ends "
            f"{row.valid_to.isoformat()}; ending cannot extend it",
            details={"field": "on", "value": on.isoformat()},
        )
    before = snapshot(row)
    row.valid_to = on
    session.flush()
    record_change(
        session,
        principal,
        action="end",
        entity_type="mandate",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )
    return MandateInfo.of(row)
