"""Licensees (AI developers, platforms), their models, and the licences CMOs grant them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, record_creation, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, InvalidInput, NotFound
from sostenuto.registry._common import get_row, is_reader_of_all
from sostenuto.registry._records import LicenceInfo, LicenseeInfo, ModelInfo
from sostenuto.registry._validate import (
    LICENSEE_KINDS,
    check_choice,
    check_conditions,
    check_country,
    check_name,
    check_period,
    check_territory_list,
    check_use_list,
)
from sostenuto.storage.models.consent import JurisdictionRule
from sostenuto.storage.models.registry import AiModel, Cmo, Licence, Licensee


def add_licensee(
    session: Session,
    principal: Principal,
    *,
    name: str,
    kind: str,
    country: str | None = None,
) -> LicenseeInfo:
    """Register an AI developer or platform; the operator or any CMO admin may."""
    principal.require("cmo-admin")
    name = check_name(name)
    row = Licensee(
        name=name,
        kind=check_choice(kind, "kind", LICENSEE_KINDS),
        country=check_country(country) if country else None,
    )
    existing = session.scalar(select(Licensee).where(Licensee.name == name))
    if existing is not None:
        raise Conflict(f"licensee {existing.id} is already named {name!r}")
    record_creation(session, principal, row, "licensee")
    return LicenseeInfo.of(row)


def list_licensees(session: Session, principal: Principal) -> list[LicenseeInfo]:
    """CMO admins and auditors see every licensee; a licensee sees itself."""
    query = select(Licensee).order_by(Licensee.name)
    if not is_reader_of_all(principal):
        principal.require("cmo-admin", "licensee")
        if principal.role == "licensee":
            query = query.where(Licensee.id == principal.licensee_id)
    return [LicenseeInfo.of(row) for row in session.scalars(query)]


def add_model(
    session: Session,
    principal: Principal,
    *,
    licensee_id: int,
    name: str,
    version: str,
    purpose: str,
) -> ModelInfo:
    """A licensee declares one of its models (name, version, purpose)."""
    if not principal.operator:
        principal.require("licensee")
        principal.require_licensee(licensee_id)
    get_row(session, Licensee, licensee_id, "licensee")
    row = AiModel(
        licensee_id=licensee_id,
        name=check_name(name, limit=200),
        version=check_name(version, "version", limit=100),
        purpose=check_name(purpose, "purpose", limit=500),
    )
    clash = session.scalar(
        select(AiModel.id).where(
            AiModel.licensee_id == licensee_id,
            AiModel.name == row.name,
            AiModel.version == row.version,
        )
    )
    if clash is not None:
        raise Conflict(f"model {row.name} {row.version} is already declared (id {clash})")
    record_creation(session, principal, row, "ai_model")
    return ModelInfo.of(row)


def list_models(session: Session, principal: Principal, *, licensee_id: int) -> list[ModelInfo]:
    principal.require_licensee(licensee_id)
    query = select(AiModel).where(AiModel.licensee_id == licensee_id).order_by(AiModel.id)
    return [ModelInfo.of(row) for row in session.scalars(query)]


def _check_extended(session: Session, cmo: Cmo, territories: list[str], uses: list[str]) -> None:
    """An extended collective licence is only granted where the law (as data) lets this CMO
    grant one: in its own country, whose jurisdiction rule allows extended licensing for
    each use (a licence that could never reach anyone is refused, not stored)."""
    if territories == ["WW"]:
        raise InvalidInput(
            "an extended collective licence names its territories; 'WW' is not allowed",
            details={"field": "territories", "value": "WW"},
        )
    for territory in territories:
        if territory != cmo.country:
            raise InvalidInput(
                f"invalid territory {territory!r} for an extended licence: CMO {cmo.id} is"
                f" established in {cmo.country} and has extended-licensing standing only there",
                details={"field": "territories", "value": territory},
            )
        rule = session.get(JurisdictionRule, territory)
        if rule is None or not rule.extended_licensing:
            raise InvalidInput(
                f"invalid territory {territory!r} for an extended licence: its jurisdiction "
                "rule does not allow extended collective licensing",
                details={"field": "territories", "value": territory},
            )
        outside = sorted(set(uses) - set(rule.ecl_uses or []))
        if outside:
            allowed = sorted(rule.ecl_uses or [])
            raise InvalidInput(
                f"invalid uses {outside} for an extended licence in {territory}: "
                f"its jurisdiction allows {allowed or 'no use'}",
                details={"field": "uses", "value": outside},
            )


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _not_retroactive(principal: Principal, when: dt.date, what: str, field: str) -> None:
    """Acts take effect from today on; only the operator corrects the past (audited)."""
    if when < _today() and not principal.operator:
        raise InvalidInput(
            f"{what} cannot take effect in the past ({when}); it applies from today or later",
            details={"field": field, "value": when.isoformat()},
        )


def grant_licence(
    session: Session,
    principal: Principal,
    *,
    cmo_id: int,
    licensee_id: int,
    uses: list[str],
    territories: list[str],
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    tariff_ref: str | None = None,
    extended: bool = False,
    conditions: list[str] | None = None,
    model_id: int | None = None,
) -> LicenceInfo:
    """``cmo_id`` licenses ``licensee_id`` (for one model version when ``model_id`` is
    given, else for all its models); only that CMO's admin grants it, from today on."""
    principal.require_cmo(cmo_id)
    cmo = get_row(session, Cmo, cmo_id, "cmo")
    get_row(session, Licensee, licensee_id, "licensee")
    if model_id is not None:
        model = session.get(AiModel, model_id)
        if model is None or model.licensee_id != licensee_id:
            raise NotFound(
                f"licensee {licensee_id} has no model with id {model_id}",
                details={"licensee_id": licensee_id, "model_id": model_id},
            )
    uses = check_use_list(uses)
    territories = check_territory_list(territories)
    check_period(valid_from, valid_to)
    _not_retroactive(principal, valid_from, "a licence", "valid_from")
    if extended:
        _check_extended(session, cmo, territories, uses)
    row = Licence(
        cmo_id=cmo_id,
        licensee_id=licensee_id,
        model_id=model_id,
        uses=uses,
        territories=territories,
        valid_from=valid_from,
        valid_to=valid_to,
        tariff_ref=check_name(tariff_ref, "tariff_ref", limit=100) if tariff_ref else None,
        status="active",
        extended=extended,
        conditions=check_conditions(conditions or []),
    )
    record_creation(session, principal, row, "licence")
    return LicenceInfo.of(row)


def list_licences(
    session: Session,
    principal: Principal,
    *,
    cmo_id: int | None = None,
    licensee_id: int | None = None,
) -> list[LicenceInfo]:
    """Licences the caller may see: its CMO's grants, its own licences, or all (auditors)."""
    if not is_reader_of_all(principal):
        principal.require("cmo-admin", "licensee")
        if principal.role == "licensee":
            if licensee_id is not None:
                principal.require_licensee(licensee_id)
            licensee_id = principal.licensee_id
        else:
            if cmo_id is not None:
                principal.require_cmo(cmo_id)
            cmo_id = principal.cmo_id
    query = select(Licence).order_by(Licence.id)
    if cmo_id is not None:
        query = query.where(Licence.cmo_id == cmo_id)
    if licensee_id is not None:
        query = query.where(Licence.licensee_id == licensee_id)
    return [LicenceInfo.of(row) for row in session.scalars(query)]


def suspend_licence(
    session: Session,
    principal: Principal,
    licence_id: int,
    *,
    effective_from: dt.date | None = None,
) -> LicenceInfo:
    """Suspend a licence from ``effective_from`` (today by default, never in the past); only
    the granting CMO's admin may. Use on earlier days stays licensed and paid for."""
    row = get_row(session, Licence, licence_id, "licence")
    principal.require_cmo(row.cmo_id)
    if row.status != "active":
        raise Conflict(
            f"licence {licence_id} is {row.status}, not active", details={"status": row.status}
        )
    when = effective_from or _today()
    if when < _today():
        raise InvalidInput(
            f"a suspension cannot take effect in the past ({when})",
            details={"field": "effective_from", "value": when.isoformat()},
        )
    before = snapshot(row)
    row.status = "suspended"
    row.suspended_from = max(when, row.valid_from)
    session.flush()
    record_change(
        session,
        principal,
        action="suspend",
        entity_type="licence",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )
    return LicenceInfo.of(row)
