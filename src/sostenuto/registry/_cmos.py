"""CMOs and their reciprocal representation agreements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sostenuto.audit import record_creation
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, InvalidInput
from sostenuto.registry._common import get_row, is_reader_of_all
from sostenuto.registry._records import AgreementInfo, CmoInfo
from sostenuto.registry._validate import (
    check_cmo_code,
    check_country,
    check_fee,
    check_name,
    check_period,
    check_territory_list,
    check_use_list,
)
from sostenuto.storage.models.registry import Cmo, ReciprocalAgreement


def add_cmo(
    session: Session,
    principal: Principal,
    *,
    code: str,
    name: str,
    country: str,
    identifiers: dict[str, Any] | None = None,
) -> CmoInfo:
    """Register a CMO. Only the operator does this: a CMO admin token needs the CMO first."""
    principal.require_operator("register a CMO")
    code = check_cmo_code(code)
    values = {
        "code": code,
        "name": check_name(name, limit=200),
        "country": check_country(country),
        "identifiers": {str(k): str(v) for k, v in (identifiers or {}).items()},
    }
    existing = session.scalar(select(Cmo).where(Cmo.code == code))
    if existing is not None:
        raise Conflict(f"a CMO with code {code} exists (id {existing.id})", details={"cmo": code})
    row = Cmo(**values)
    record_creation(session, principal, row, "cmo")
    return CmoInfo.of(row)


def list_cmos(session: Session, principal: Principal) -> list[CmoInfo]:
    """Every CMO: the list is public."""
    del principal  # public data: every role may read it
    return [CmoInfo.of(row) for row in session.scalars(select(Cmo).order_by(Cmo.code))]


def add_agreement(
    session: Session,
    principal: Principal,
    *,
    cmo_id: int,
    partner_cmo_id: int,
    territories: list[str],
    uses: list[str],
    admin_fee: Decimal | float | str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> AgreementInfo:
    """``cmo_id`` represents the members of ``partner_cmo_id``; recorded by ``cmo_id``'s admin."""
    principal.require_cmo(cmo_id)
    if cmo_id == partner_cmo_id:
        raise InvalidInput(
            "a reciprocal agreement needs two different CMOs",
            details={"field": "partner_cmo_id", "value": partner_cmo_id},
        )
    get_row(session, Cmo, cmo_id, "cmo")
    get_row(session, Cmo, partner_cmo_id, "cmo")
    check_period(valid_from, valid_to)
    row = ReciprocalAgreement(
        cmo_id=cmo_id,
        partner_cmo_id=partner_cmo_id,
        territories=check_territory_list(territories),
        uses=check_use_list(uses),
        admin_fee=check_fee(admin_fee),
        valid_from=valid_from,
        valid_to=valid_to,
    )
    record_creation(session, principal, row, "agreement")
    return AgreementInfo.of(row)


def list_agreements(session: Session, principal: Principal, *, cmo_id: int) -> list[AgreementInfo]:
    """Agreements a CMO is party to: for its admin and for auditors."""
    if not is_reader_of_all(principal):
        principal.require_cmo(cmo_id)
    query = (
        select(ReciprocalAgreement)
        .where(
            or_(ReciprocalAgreement.cmo_id == cmo_id, ReciprocalAgreement.partner_cmo_id == cmo_id)
        )
        .order_by(ReciprocalAgreement.id)
    )
    return [AgreementInfo.of(row) for row in session.scalars(query)]
