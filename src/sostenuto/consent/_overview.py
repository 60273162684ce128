"""A CMO's public reservations in plain words: which uses it reserves or permits, for which
part of its repertoire, where and from when.

The rules are those the machine-readable exports publish (``_export_scope``): rules for any
licensee, in force today or later. A rule for one licensee belongs to that licensee's deal and
never appears here; performers are named by id only, as in the exports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.consent._export_scope import Target, collect
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import Cmo
from sostenuto.vocabulary import USES, WORLDWIDE


@dataclass(frozen=True)
class Statement:
    """One public rule, said in words."""

    rule_id: int
    effect: str  # "reserves" or "permits"
    uses: list[str]  # the uses' titles
    covers: str  # which repertoire
    territories: str
    period: str
    conditions: list[str]


@dataclass(frozen=True)
class ReservationOverview:
    cmo_id: int
    code: str
    name: str
    country: str
    reserved: list[Statement]
    permitted: list[Statement]
    recordings: int  # recording pages the rules reach


def _covers(target: Target) -> str:
    if target.kind == "cmo":
        return "every recording its members play on"
    if target.kind == "performer":
        return f"the recordings of one member (performer {target.id})"
    return f"the recording {target.uid.removeprefix('urn:isrc:')}"


def _territories(codes: list[str]) -> str:
    return "worldwide" if WORLDWIDE in codes else ", ".join(sorted(codes))


def _period(rule: ConsentRule) -> str:
    start = f"from {rule.valid_from.isoformat()}"
    end = rule.valid_to
    if rule.revoked_from is not None and (end is None or rule.revoked_from <= end):
        return f"{start} until {rule.revoked_from.isoformat()} (revoked)"
    return f"{start} until {end.isoformat()}" if end else f"{start}, with no end date"


def _statement(target: Target, rule: ConsentRule) -> Statement:
    return Statement(
        rule_id=rule.id,
        effect="reserves" if rule.effect == "prohibit" else "permits",
        uses=[USES[use].title if use in USES else use for use in rule.uses],
        covers=_covers(target),
        territories=_territories(list(rule.territories)),
        period=_period(rule),
        conditions=list(rule.conditions or []),
    )


def reservation_overview(
    session: Session, cmo_code: str, on_date: dt.date | None = None
) -> ReservationOverview:
    """The public reservations and permissions of the CMO with code ``cmo_code``."""
    code = cmo_code.strip().upper()
    if not code or len(code) > 32:
        raise InvalidInput("a CMO code is 1 to 32 characters", details={"cmo_code": cmo_code[:40]})
    cmo = session.scalars(select(Cmo).where(Cmo.code == code)).first()
    if cmo is None:
        raise NotFound(f"no CMO with code {code!r}", details={"cmo_code": code})
    scope = collect(session, cmo.id, None, on_date or dt.datetime.now(dt.UTC).date())
    statements = [_statement(target, rule) for target, rule in scope.pairs]
    return ReservationOverview(
        cmo_id=cmo.id,
        code=cmo.code,
        name=cmo.name,
        country=cmo.country,
        reserved=[s for s in statements if s.effect == "reserves"],
        permitted=[s for s in statements if s.effect == "permits"],
        recordings=len(scope.pages),
    )
