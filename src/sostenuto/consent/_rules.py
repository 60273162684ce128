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
from sostenuto.storage.models.consent import ConsentRule, JurisdictionRule
from sostenuto.storage.models.registry import (
    Cmo,
    Contribution,
    Licensee,
    Mandate,
    Performer,
    Recording,
)
from sostenuto.vocabulary import WORLDWIDE, check_territories, check_uses, use_ancestry


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
        cmo_id=row.cmo_id,
    )


def current_cmos(session: Session, performer_id: int, on: dt.date) -> set[int]:
    """CMOs holding an active mandate of the performer valid on ``on`` (any territory or use)."""
    return {mandate.cmo_id for mandate in _mandates(session, [performer_id], on)}


def _mandates(session: Session, performer_ids: list[int], on: dt.date) -> list[Mandate]:
    if not performer_ids:
        return []
    return list(
        session.scalars(
            select(Mandate).where(
                Mandate.performer_id.in_(performer_ids),
                Mandate.status == "active",
                Mandate.valid_from <= on,
                or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on),
            )
        )
    )


def _covers(mandate: Mandate, use: str, territory: str) -> bool:
    """A mandate entrusting ``use`` (or a broader use) in ``territory`` (``WW`` only by WW)."""
    territories = mandate.territories or []
    return (WORLDWIDE in territories or territory in territories) and any(
        code in (mandate.uses or []) for code in use_ancestry(use)
    )


def _ecl_standing(session: Session, cmo_id: int, use: str, territory: str) -> bool:
    """Whether the law of the CMO's own country lets it speak for non-members there."""
    cmo = session.get(Cmo, cmo_id)
    if cmo is None or cmo.country != territory:
        return False
    rule = session.get(JurisdictionRule, territory)
    return bool(rule and rule.extended_licensing and use in (rule.ecl_uses or []))


def _scope_performers(session: Session, scope: str, scope_id: int) -> list[int]:
    if scope == "cmo":
        if session.get(Cmo, scope_id) is None:
            raise NotFound(f"no CMO with id {scope_id}")
        return []
    if scope == "performer":
        if session.get(Performer, scope_id) is None:
            raise NotFound(f"no performer with id {scope_id}")
        return [scope_id]
    if session.get(Recording, scope_id) is None:
        raise NotFound(f"no recording with id {scope_id}")
    return list(
        session.scalars(
            select(Contribution.performer_id).where(Contribution.recording_id == scope_id)
        )
    )


def representing_cmos(session: Session, scope: str, scope_id: int) -> set[int]:
    """The CMOs holding an active mandate, valid today, of the scope's performers."""
    if scope == "cmo":
        return {scope_id}
    performers = _scope_performers(session, scope, scope_id)
    return {mandate.cmo_id for mandate in _mandates(session, performers, _today())}


def _acting_cmo(principal: Principal, cmo_id: int | None) -> int | None:
    """The CMO whose act this is: a CMO admin's own; the operator's choice (or none)."""
    principal.require("cmo-admin")
    if principal.operator:
        return cmo_id
    if cmo_id is not None and cmo_id != principal.cmo_id:
        raise Forbidden(
            f"this token administers CMO {principal.cmo_id}, not CMO {cmo_id}",
            details={"token_cmo": principal.cmo_id, "target_cmo": cmo_id},
        )
    return principal.cmo_id


def check_authority(
    session: Session,
    acting: int | None,
    *,
    scope: str,
    scope_id: int,
    uses: Iterable[str],
    territories: Iterable[str],
    on: dt.date,
    opt_out: bool = False,
) -> None:
    """Refuse a rule that ``acting`` has no standing to make: authority follows the mandate.

    - ``cmo``: only that CMO (the rule reaches its members where their mandates do);
    - ``performer``: every use and territory must be entrusted to the CMO by an active
      mandate valid on ``on``, or, for a non-member there, given by its country's extended
      licensing; an opt-out of a represented performer only through a representing CMO,
      of an unrepresented one through any CMO (the one that received the notice);
    - ``recording``: every use and territory entrusted by at least one contributor.
    ``acting`` None is the operator, whose authority is not bounded.
    """
    performers = _scope_performers(session, scope, scope_id)
    if acting is None:
        return
    if scope == "cmo":
        if scope_id != acting:
            raise Forbidden(
                f"CMO {acting} may not make rules for the repertoire of CMO {scope_id}",
                details={"acting_cmo": acting, "scope_cmo": scope_id},
            )
        return
    mandates = _mandates(session, performers, on)
    if opt_out:
        representing = {mandate.cmo_id for mandate in mandates}
        if representing and acting not in representing:
            raise Forbidden(
                f"performer {scope_id} is represented by CMO {sorted(representing)}; only a"
                " representing CMO (or the performer) may record an opt-out",
                details={"acting_cmo": acting, "representing_cmos": sorted(representing)},
            )
        return
    own = [mandate for mandate in mandates if mandate.cmo_id == acting]
    missing: list[str] = []
    for use in uses:
        for territory in territories:
            if any(_covers(mandate, use, territory) for mandate in own):
                continue
            represented = any(_covers(mandate, use, territory) for mandate in mandates)
            if performers and not represented and _ecl_standing(session, acting, use, territory):
                continue
            missing.append(f"{use} in {territory}")
    if missing:
        who = f"performer {scope_id}" if scope == "performer" else f"recording {scope_id}"
        whose = "" if scope == "performer" else " of any contributor of"
        raise Forbidden(
            f"CMO {acting} holds no mandate{whose} {who} for {', '.join(missing)} on {on}:"
            " a CMO's rules reach only the uses, territories and dates its mandates cover",
            details={
                "acting_cmo": acting,
                "scope": scope,
                "scope_id": scope_id,
                "missing_mandate": missing,
            },
        )


def check_may_speak_for(principal: Principal, rule: RuleView) -> None:
    """Only the CMO that recorded a rule (or the operator) revokes it or speaks for it, and
    the performer a performer-scoped rule concerns (a ``performer`` token bound to it)."""
    if (
        principal.role == "performer"
        and not principal.operator
        and rule.scope == "performer"
        and principal.performer_id is not None
        and rule.scope_id == principal.performer_id
    ):
        return
    principal.require("cmo-admin")
    if principal.operator:
        return
    if rule.cmo_id is None or rule.cmo_id != principal.cmo_id:
        recorder = f"CMO {rule.cmo_id}" if rule.cmo_id is not None else "the operator"
        raise Forbidden(
            f"rule {rule.id} was recorded by {recorder}; only it (or the performer it"
            " concerns) may revoke it or speak for it",
            details={"rule_id": rule.id, "rule_cmo": rule.cmo_id, "token_cmo": principal.cmo_id},
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
    cmo_id: int | None = None,
    correction: bool = False,
) -> RuleView:
    # Who may act comes before what the request says, so a refusal reveals nothing.
    acting = _acting_cmo(principal, cmo_id)
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; scopes are: {', '.join(SCOPES)}")
    checked_uses = check_uses(uses)
    checked_territories = check_territories(territories)
    checked_conditions = _check_conditions(conditions)
    today = _today()
    start = valid_from or today
    if start < today:
        if not correction:
            raise InvalidInput(
                f"a rule cannot take effect in the past ({start}); it applies from today or"
                " later (a correction of the past is a separate, explicit act)",
                details={"field": "valid_from", "value": start.isoformat()},
            )
        principal.require_operator("correct consent in the past")
    if valid_to is not None and valid_to < start:
        raise InvalidInput(f"the period ends ({valid_to}) before it starts ({start})")
    if licensee_id is not None and session.get(Licensee, licensee_id) is None:
        raise NotFound(f"no licensee with id {licensee_id}")
    check_authority(
        session,
        acting,
        scope=scope,
        scope_id=scope_id,
        uses=checked_uses,
        territories=checked_territories,
        on=max(start, today),
        opt_out=source == "opt-out",
    )
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
        cmo_id=acting,
    )
    session.add(row)
    session.flush()
    action = f"consent.{'opt-out' if source == 'opt-out' else effect}"
    record_change(
        session,
        principal,
        action=f"{action}.correction" if start < today else action,
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
    cmo_id: int | None = None,
    correction: bool = False,
) -> RuleView:
    """Permit exactly these uses for a scope (never a narrower or broader use), as the
    caller's CMO (the operator may name one with ``cmo_id``)."""
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
        cmo_id=cmo_id,
        correction=correction,
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
    cmo_id: int | None = None,
    correction: bool = False,
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
        cmo_id=cmo_id,
        correction=correction,
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
    cmo_id: int | None = None,
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
        cmo_id=cmo_id,
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
    principal.require("cmo-admin", "performer")
    row = session.get(ConsentRule, rule_id)
    if row is None:
        raise NotFound(f"no consent rule with id {rule_id}")
    check_may_speak_for(principal, view(row))
    when = effective_from or _today()
    if when < _today():
        raise InvalidInput(f"a revocation cannot take effect in the past ({when})")
    if row.revoked_from is not None:
        raise Conflict(f"rule {rule_id} is already revoked from {row.revoked_from}")
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
    """One rule; a rule for one licensee is visible to that licensee, the CMO that made it
    and auditors."""
    row = session.get(ConsentRule, rule_id)
    if row is None:
        raise NotFound(f"no consent rule with id {rule_id}")
    if row.licensee_id is not None and not (
        principal.operator
        or principal.role == "auditor"
        or (principal.role == "cmo-admin" and principal.cmo_id == row.cmo_id)
        or (principal.role == "licensee" and principal.licensee_id == row.licensee_id)
        or (
            principal.role == "performer"
            and row.scope_kind == "performer"
            and principal.performer_id is not None
            and row.scope_id == principal.performer_id
        )
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
    if principal.operator or principal.role == "auditor":
        pass
    elif principal.role == "cmo-admin":
        # A rule for one licensee is part of a private deal: only the CMO that made it.
        query = query.where(
            or_(ConsentRule.licensee_id.is_(None), ConsentRule.cmo_id == principal.cmo_id)
        )
    elif principal.role == "licensee":
        query = query.where(
            or_(
                ConsentRule.licensee_id.is_(None),
                ConsentRule.licensee_id == principal.licensee_id,
            )
        )
    elif principal.role == "performer" and principal.performer_id is not None:
        # Its own reservations, even those made for one licensee.
        query = query.where(
            or_(
                ConsentRule.licensee_id.is_(None),
                (ConsentRule.scope_kind == "performer")
                & (ConsentRule.scope_id == principal.performer_id),
            )
        )
    else:
        query = query.where(ConsentRule.licensee_id.is_(None))
    return [view(row) for row in session.scalars(query)]
