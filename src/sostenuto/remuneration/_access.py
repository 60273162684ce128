"""Reading statements and runs, and settling held claims, with each role's limits."""

from __future__ import annotations

import datetime as dt

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
    a licensee its own statement; the public none (it sees the log's declarations)."""
    if principal.operator or principal.role == "auditor":
        return True
    if principal.role == "cmo-admin":
        if statement.party_kind == "cmo":
            return statement.party_id == principal.cmo_id
        return principal.cmo_id in _cmos_of(statement)
    if principal.role == "licensee":
        return statement.party_kind == "licensee" and statement.party_id == principal.licensee_id
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
    principal.require("cmo-admin", "licensee", "auditor")
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


def get_run(session: Session, principal: Principal, period: str) -> DistributionRun:
    """A period's run summary (totals per currency): for CMO admins and auditors."""
    principal.require("cmo-admin", "auditor")
    label = parse_period(period).label
    run = session.scalar(select(DistributionRun).where(DistributionRun.period == label))
    if run is None:
        raise NotFound(f"period {label} has not been distributed")
    return run


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
