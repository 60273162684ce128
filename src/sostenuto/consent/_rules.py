"""Creating, revoking and listing consent rules, with the role checks and audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, snapshot
from sostenuto.auth import Principal
from sostenuto.consent._types import CONDITIONS, SCOPES, RuleView
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import (
    Cmo,
    Contribution,
    Licensee,
    Mandate,
    Performer,
    Recording,
)
from sostenuto.vocabulary import check_territories, check_uses


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def view(row: ConsentRule) -> RuleView:
    return RuleView(
        id=row.id,
        effect=row.effect,  # type: ignore[arg-type]
        scope=row.scope_kind,  # type: ignore[arg-type]
        scope_id=row.scope_id,
        licensee_id=row.licensee_id,
        uses=list(row.uses),
        territories=list(row.territories),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        conditions=list(row.conditions or ()),
        source=row.source,
        note=row.note,
        created_by=row.created_by,
        revoked_from=row.revoked_from,
    )


def current_cmos(session: Session, performer_id: int, on: dt.date) -> set[int]:
    """CMOs holding a mandate of the performer valid on ``on`` (any territory or use)."""
    rows = session.scalars(
        select(Mandate.cmo_id).where(
            Mandate.performer_id == performer_id,
            Mandate.valid_from <= on,
            or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on),
        )
    )
    return set(rows)


def _acting_cmos(session: Session, scope: str, scope_id: int, *, opt_out: bool) -> set[int] | None:
    """The CMOs whose admin may change consent for this scope; None means any CMO admin."""
    today = _today()
    if scope == "cmo":
        if session.get(Cmo, scope_id) is None:
            raise NotFound(f"no CMO with id {scope_id}")
        return {scope_id}
    if scope == "performer":
        if session.get(Performer, scope_id) is None:
            raise NotFound(f"no performer with id {scope_id}")
        cmos = current_cmos(session, scope_id, today)
        if not cmos and opt_out:
            # A performer no CMO represents may still opt out; any CMO admin may record it
            # on their behalf (the CMO that received the notice).
            return None
        return cmos
    recording = session.get(Recording, scope_id)
    if recording is None:
        raise NotFound(f"no recording with id {scope_id}")
    cmos = set()
    if recording.registered_by_cmo_id is not None:
        cmos.add(recording.registered_by_cmo_id)
    performers = session.scalars(
        select(Contribution.performer_id).where(Contribution.recording_id == scope_id)
    )
    for performer_id in performers:
        cmos |= current_cmos(session, performer_id, today)
    return cmos


def _authorise(
    session: Session, principal: Principal, scope: str, scope_id: int, *, opt_out: bool = False
) -> None:
    principal.require("cmo-admin")
    allowed = _acting_cmos(session, scope, scope_id, opt_out=opt_out)
    if principal.operator or allowed is None:
        return
    if principal.cmo_id not in allowed:
        raise Forbidden(
            f"CMO {principal.cmo_id} does not represent this {scope}; only the admin of"
            f" {sorted(allowed) or 'a CMO holding a current mandate'} may change its consent",
            details={"scope": scope, "scope_id": scope_id, "allowed_cmos": sorted(allowed)},
        )


def _check_conditions(conditions: Iterable[str]) -> list[str]:
    checked = sorted(set(conditions))
    unknown = [code for code in checked if code not in CONDITIONS]
    if unknown:
        raise InvalidInput(
            f"unknown condition(s) {unknown}; known conditions: {', '.join(CONDITIONS)}"
        )
    return checked


def _create(
    session: Session,
    principal: Principal,
    *,
    effect: str,
    scope: str,
    scope_id: int,
    uses: Iterable[str],
    territories: Iterable[str],
    licensee_id: int | None,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    conditions: Iterable[str],
    source: str,
    note: str | None,
) -> RuleView:
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; scopes are: {', '.join(SCOPES)}")
    checked_uses = check_uses(uses)
    checked_territories = check_territories(territories)
    checked_conditions = _check_conditions(conditions)
    start = valid_from or _today()
    if valid_to is not None and valid_to < start:
        raise InvalidInput(f"the period ends ({valid_to}) before it starts ({start})")
    if licensee_id is not None and session.get(Licensee, licensee_id) is None:
        raise NotFound(f"no licensee with id {licensee_id}")
    _authorise(session, principal, scope, scope_id, opt_out=source == "opt-out")
    row = ConsentRule(
        effect=effect,
        scope_kind=scope,
        scope_id=scope_id,
        licensee_id=licensee_id,
        uses=checked_uses,
        territories=checked_territories,
        valid_from=start,
        valid_to=valid_to,
        conditions=checked_conditions,
        source=source,
        note=note,
        created_by=principal.name,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        principal,
        action=f"consent.{'opt-out' if source == 'opt-out' else effect}",
        entity_type="consent_rule",
        entity_id=row.id,
        before=None,
        after=snapshot(row),
    )
    session.flush()
    return view(row)


def permit(
    session: Session,
    principal: Principal,
    *,
    scope: str,
    scope_id: int,
    uses: Iterable[str],
    territories: Iterable[str] = ("WW",),
    licensee_id: int | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    conditions: Iterable[str] = (),
    note: str | None = None,
) -> RuleView:
    """Permit exactly these uses for a scope (never a narrower or broader use)."""
    return _create(
        session,
        principal,
        effect="permit",
        scope=scope,
        scope_id=scope_id,
        uses=uses,
        territories=territories,
        licensee_id=licensee_id,
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=conditions,
        source="cmo",
        note=note,
    )


def prohibit(
    session: Session,
    principal: Principal,
    *,
    scope: str,
    scope_id: int,
    uses: Iterable[str],
    territories: Iterable[str] = ("WW",),
    licensee_id: int | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    note: str | None = None,
) -> RuleView:
    """Prohibit these uses and every narrower one for a scope; prohibitions always win."""
    return _create(
        session,
        principal,
        effect="prohibit",
        scope=scope,
        scope_id=scope_id,
        uses=uses,
        territories=territories,
        licensee_id=licensee_id,
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=(),
        source="cmo",
        note=note,
    )


def opt_out(
    session: Session,
    principal: Principal,
    *,
    performer_id: int,
    uses: Iterable[str] = ("train-ai",),
    territories: Iterable[str] = ("WW",),
    valid_from: dt.date | None = None,
    note: str | None = None,
) -> RuleView:
    """A performer's reservation against these uses (for any licensee): also beats an
    extended collective licence. Recorded by a CMO admin on the performer's behalf."""
    return _create(
        session,
        principal,
        effect="prohibit",
        scope="performer",
        scope_id=performer_id,
        uses=uses,
        territories=territories,
        licensee_id=None,
        valid_from=valid_from,
        valid_to=None,
        conditions=(),
        source="opt-out",
        note=note,
    )


def revoke_rule(
    session: Session,
    principal: Principal,
    rule_id: int,
    *,
    effective_from: dt.date | None = None,
) -> RuleView:
    """End a rule's effect from ``effective_from`` (today by default, never in the past).

    Decisions already taken keep what they said: only the rule row changes.
    """
    row = session.get(ConsentRule, rule_id)
    if row is None:
        raise NotFound(f"no consent rule with id {rule_id}")
    when = effective_from or _today()
    if when < _today():
        raise InvalidInput(f"a revocation cannot take effect in the past ({when})")
    if row.revoked_from is not None:
        raise Conflict(f"rule {rule_id} is already revoked from {row.revoked_from}")
    _authorise(session, principal, row.scope_kind, row.scope_id, opt_out=row.source == "opt-out")
    before = snapshot(row)
    row.revoked_from = max(when, row.valid_from)
    session.flush()
    record_change(
        session,
        principal,
        action="consent.revoke",
        entity_type="consent_rule",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )
    session.flush()
    return view(row)


def get_rule(session: Session, principal: Principal, rule_id: int) -> RuleView:
    """One rule; a rule for one licensee is visible to that licensee, CMO admins and auditors."""
    row = session.get(ConsentRule, rule_id)
    if row is None:
        raise NotFound(f"no consent rule with id {rule_id}")
    if row.licensee_id is not None and not (
        principal.operator
        or principal.role in ("cmo-admin", "auditor")
        or principal.licensee_id == row.licensee_id
    ):
        raise NotFound(f"no consent rule with id {rule_id}")
    return view(row)


def list_rules(
    session: Session,
    principal: Principal,
    *,
    scope: str | None = None,
    scope_id: int | None = None,
    licensee_id: int | None = None,
    limit: int = 1000,
) -> list[RuleView]:
    """Rules, newest first. Rules for one licensee are shown only to that licensee, CMO
    admins and auditors; everyone sees the rules that hold for any licensee."""
    if scope is not None and scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; scopes are: {', '.join(SCOPES)}")
    query = select(ConsentRule).order_by(ConsentRule.id.desc()).limit(limit)
    if scope is not None:
        query = query.where(ConsentRule.scope_kind == scope)
    if scope_id is not None:
        query = query.where(ConsentRule.scope_id == scope_id)
    if licensee_id is not None:
        principal.require_licensee(licensee_id)
        query = query.where(ConsentRule.licensee_id == licensee_id)
    elif principal.operator or principal.role in ("cmo-admin", "auditor"):
        pass
    elif principal.role == "licensee":
        query = query.where(
            or_(
                ConsentRule.licensee_id.is_(None),
                ConsentRule.licensee_id == principal.licensee_id,
            )
        )
    else:
        query = query.where(ConsentRule.licensee_id.is_(None))
    return [view(row) for row in session.scalars(query)]
