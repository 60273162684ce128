"""Reading statements and runs, and settling held claims, with each role's limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sostenuto.audit import record_change
from sostenuto.auth import Principal
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.remuneration._period import parse_period
from sostenuto.remuneration._statements import PARTY_KINDS
from sostenuto.storage.models.remuneration import DistributionRun, Payment, Statement


def _cmos_of(statement: Statement) -> set[int]:
    declared = {int(d[0]) for d in statement.document.get("declarations", [])}
    return declared | {int(c) for c in statement.document.get("cmos", [])}


def may_read(principal: Principal, statement: Statement) -> bool:
    """Auditors read all; a CMO admin its own statement and those its money passed through;
    a licensee or a performer its own statement; the public none (it sees the log's
    declarations)."""
    if principal.operator or principal.role == "auditor":
        return True
    if principal.role == "cmo-admin":
        if statement.party_kind == "cmo":
            return statement.party_id == principal.cmo_id
        return principal.cmo_id in _cmos_of(statement)
    if principal.role == "licensee":
        return statement.party_kind == "licensee" and statement.party_id == principal.licensee_id
    if principal.role == "performer":
        return statement.party_kind == "performer" and statement.party_id == principal.performer_id
    return False


def get_statement(
    session: Session, principal: Principal, *, period: str, party_kind: str, party_id: int
) -> Statement:
    """One statement; :class:`NotFound` when absent, :class:`Forbidden` when not visible."""
    if party_kind not in PARTY_KINDS:
        raise InvalidInput(f"unknown party kind {party_kind!r}; kinds: {', '.join(PARTY_KINDS)}")
    label = parse_period(period).label
    statement = session.scalar(
        select(Statement).where(
            Statement.period == label,
            Statement.party_kind == party_kind,
            Statement.party_id == party_id,
        )
    )
    if statement is None:
        raise NotFound(f"no {party_kind} statement for {party_id} in {label}")
    if not may_read(principal, statement):
        raise Forbidden(f"this caller may not read the {party_kind} statement of {party_id}")
    return statement


def list_statements(
    session: Session, principal: Principal, *, period: str, party_kind: str | None = None
) -> list[Statement]:
    """The period's statements this caller may read."""
    principal.require("cmo-admin", "licensee", "auditor", "performer")
    query = select(Statement).where(Statement.period == parse_period(period).label)
    if party_kind is not None:
        if party_kind not in PARTY_KINDS:
            raise InvalidInput(f"unknown party kind {party_kind!r}")
        query = query.where(Statement.party_kind == party_kind)
    rows = session.scalars(query.order_by(Statement.party_kind, Statement.party_id))
    return [row for row in rows if may_read(principal, row)]


def list_periods(session: Session) -> list[str]:
    """Labels of the distributed periods, newest first (labels alone say nothing private)."""
    return list(
        session.scalars(select(DistributionRun.period).order_by(DistributionRun.period.desc()))
    )


@dataclass(frozen=True)
class RunView:
    """A period's run as one caller may see it: ``summary`` holds only that caller's money."""

    id: int
    period: str
    attribution: str
    result_sha256: str
    summary: dict[str, Any]
    created_at: dt.datetime


def visible_summary(principal: Principal, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run's summary a caller may read.

    Auditors and the operator read everything. A CMO admin reads its own CMO's figures per
    currency (collected as the licensing CMO, paid to its members, forwarded to partners,
    administration fees kept, claims held, received from partners) and the unlicensed usage
    of licensees it licenses; a licensee what it owes and its own unlicensed usage. Other
    CMOs' and licensees' money is never shown to them; the public reads nothing.
    """
    if principal.operator or principal.role == "auditor":
        return dict(summary)
    principal.require("cmo-admin", "licensee")
    gaps = summary.get("unlicensed", [])
    if principal.role == "cmo-admin":
        own = principal.cmo_id
        return {
            "scope": {"cmo_id": own},
            "currencies": summary.get("by_cmo", {}).get(str(own), {}),
            "unlicensed": [g for g in gaps if own in g.get("cmos", ())],
        }
    own = principal.licensee_id
    return {
        "scope": {"licensee_id": own},
        "currencies": summary.get("by_licensee", {}).get(str(own), {}),
        "unlicensed": [g for g in gaps if g.get("licensee_id") == own],
    }


def get_run(session: Session, principal: Principal, period: str) -> RunView:
    """A period's run with the totals this caller may read (see :func:`visible_summary`)."""
    principal.require("cmo-admin", "licensee", "auditor")
    label = parse_period(period).label
    run = session.scalar(select(DistributionRun).where(DistributionRun.period == label))
    if run is None:
        raise NotFound(f"period {label} has not been distributed")
    return RunView(
        id=run.id,
        period=run.period,
        attribution=run.attribution,
        result_sha256=run.result_sha256,
        summary=visible_summary(principal, run.summary),
        created_at=run.created_at,
    )


def settle_claim(
    session: Session, principal: Principal, *, period: str, performer_id: int, cmo_id: int
) -> int:
    """A non-member came forward: the collecting CMO marks their held claims of the period
    as claimed (paid out). Returns the minor units settled."""
    principal.require_cmo(cmo_id)
    label = parse_period(period).label
    run = session.scalar(select(DistributionRun).where(DistributionRun.period == label))
    if run is None:
        raise NotFound(f"period {label} has not been distributed")
    held = list(
        session.scalars(
            select(Payment).where(
                Payment.run_id == run.id,
                Payment.performer_id == performer_id,
                Payment.collecting_cmo_id == cmo_id,
                Payment.payee_cmo_id.is_(None),
                Payment.claimed.is_(False),
            )
        )
    )
    if not held:
        raise NotFound(f"CMO {cmo_id} holds no open claim of performer {performer_id} in {label}")
    now = dt.datetime.now(dt.UTC)
    session.execute(
        update(Payment)
        .where(Payment.id.in_([p.id for p in held]))
        .values(claimed=True, claimed_at=now)
    )
    total = sum(p.net_minor for p in held)
    record_change(
        session,
        principal,
        action="update",
        entity_type="held-claim",
        entity_id=f"{label}:{performer_id}",
        before={"claimed": False},
        after={"claimed": True, "payments": len(held), "net_minor": total},
    )
    return total
