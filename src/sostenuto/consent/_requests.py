"""A performer's specific consent, given through its CMO: requests the CMO applies or declines.

A performer asks its CMO to permit or refuse a use (for any licensee or one), or to lift a
rule that concerns it. The request goes to the CMO that holds the performer's active mandate
for every use and territory asked (several CMOs: the request names one). The CMO's admin then
applies it — the rule is the CMO's act, bounded by the mandate like any other, audited under
the admin's name — or declines it with a reason. Nothing a performer asks takes effect until
its CMO acts: principle 2's consent goes through the CMO.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, record_creation, snapshot
from sostenuto.auth import Principal
from sostenuto.consent._rules import permit, prohibit, representing_cmos, revoke_rule
from sostenuto.consent._types import RuleView
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.storage.models.consent import ConsentRequest, ConsentRule
from sostenuto.storage.models.registry import Licensee
from sostenuto.vocabulary import check_territories, check_uses

ACTIONS = ("permit", "prohibit", "revoke")
STATUSES = ("pending", "applied", "declined")


@dataclass(frozen=True)
class RequestView:
    """A request as the front ends show it."""

    id: int
    performer_id: int
    cmo_id: int
    action: str
    uses: list[str]
    territories: list[str]
    licensee_id: int | None
    rule_id: int | None
    note: str | None
    status: str
    created_by: str
    created_at: dt.datetime | None
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    result_rule_id: int | None


def _view(row: ConsentRequest) -> RequestView:
    return RequestView(
        row.id,
        row.performer_id,
        row.cmo_id,
        row.action,
        list(row.uses),
        list(row.territories),
        row.licensee_id,
        row.rule_id,
        row.note,
        row.status,
        row.created_by,
        row.created_at,
        row.decided_by,
        row.decided_at,
        row.reason,
        row.result_rule_id,
    )


def _addressed_cmo(session: Session, performer_id: int, cmo_id: int | None) -> int:
    representing = representing_cmos(session, "performer", performer_id)
    if not representing:
        raise InvalidInput(
            f"no CMO holds an active mandate of performer {performer_id} today: a request"
            " goes to the CMO that represents you",
            details={"performer_id": performer_id},
        )
    if cmo_id is None:
        if len(representing) > 1:
            raise InvalidInput(
                "several CMOs represent you; name the one to ask (cmo_id)",
                details={"cmos": sorted(representing)},
            )
        return next(iter(representing))
    if cmo_id not in representing:
        raise InvalidInput(
            f"CMO {cmo_id} holds no active mandate of performer {performer_id}",
            details={"cmo_id": cmo_id, "representing": sorted(representing)},
        )
    return cmo_id


def request_change(
    session: Session,
    principal: Principal,
    *,
    action: str,
    uses: list[str] | None = None,
    territories: list[str] | None = None,
    licensee_id: int | None = None,
    rule_id: int | None = None,
    cmo_id: int | None = None,
    note: str | None = None,
) -> RequestView:
    """A performer asks its CMO to permit, refuse or lift (``revoke``) a use."""
    principal.require("performer")
    if principal.performer_id is None:
        raise Forbidden("only a performer's own token makes a request to its CMO")
    performer_id = principal.performer_id
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {action!r}; one of: {', '.join(ACTIONS)}",
            details={"field": "action", "value": action},
        )
    if action == "revoke":
        if rule_id is None:
            raise InvalidInput("a request to lift a rule names it (rule_id)")
        rule = session.get(ConsentRule, rule_id)
        if rule is None or rule.scope_kind != "performer" or rule.scope_id != performer_id:
            raise NotFound(f"no rule {rule_id} about performer {performer_id}")
        if rule.revoked_from is not None:
            raise Conflict(f"rule {rule_id} is already revoked from {rule.revoked_from}")
        checked_uses, checked_territories = list(rule.uses), list(rule.territories)
    else:
        if rule_id is not None:
            raise InvalidInput("only a request to lift a rule names a rule_id")
        checked_uses = check_uses(uses or [])
        if not checked_uses:
            raise InvalidInput("name at least one use", details={"field": "uses"})
        checked_territories = check_territories(territories or ["WW"])
    if licensee_id is not None and session.get(Licensee, licensee_id) is None:
        raise NotFound(f"no licensee with id {licensee_id}")
    row = ConsentRequest(
        performer_id=performer_id,
        cmo_id=_addressed_cmo(session, performer_id, cmo_id),
        action=action,
        uses=checked_uses,
        territories=checked_territories,
        licensee_id=licensee_id,
        rule_id=rule_id,
        note=note,
        status="pending",
        created_by=principal.name,
    )
    record_creation(session, principal, row, "consent_request")
    return _view(row)


def list_requests(
    session: Session, principal: Principal, *, status: str | None = None, limit: int = 500
) -> list[RequestView]:
    """A performer its own requests, a CMO admin those addressed to its CMO, an auditor all;
    newest first."""
    principal.require("performer", "cmo-admin", "auditor")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
    query = select(ConsentRequest).order_by(ConsentRequest.id.desc()).limit(limit)
    if not principal.operator and principal.role == "performer":
        query = query.where(ConsentRequest.performer_id == principal.performer_id)
    elif not principal.operator and principal.role == "cmo-admin":
        query = query.where(ConsentRequest.cmo_id == principal.cmo_id)
    if status is not None:
        query = query.where(ConsentRequest.status == status)
    return [_view(row) for row in session.scalars(query)]


def _visible(session: Session, principal: Principal, request_id: int) -> ConsentRequest:
    """The request, if the caller is its performer, the CMO it is addressed to or an auditor;
    for any other caller it does not exist (404)."""
    row = session.get(ConsentRequest, request_id)
    visible = row is not None and (
        principal.operator
        or principal.role == "auditor"
        or (principal.role == "performer" and row.performer_id == principal.performer_id)
        or (principal.role == "cmo-admin" and row.cmo_id == principal.cmo_id)
    )
    if row is None or not visible:
        raise NotFound(f"no request {request_id} visible to this caller")
    return row


def get_request(session: Session, principal: Principal, request_id: int) -> RequestView:
    """One request, for its performer, the CMO it is addressed to, or an auditor."""
    principal.require("performer", "cmo-admin", "auditor")
    return _view(_visible(session, principal, request_id))


def _pending_for(session: Session, principal: Principal, request_id: int) -> ConsentRequest:
    """A pending request addressed to the caller's CMO (404 for any other caller)."""
    principal.require("cmo-admin")
    row = _visible(session, principal, request_id)
    if row.status != "pending":
        raise Conflict(f"request {request_id} is already {row.status}")
    return row


def _decided(
    session: Session,
    principal: Principal,
    row: ConsentRequest,
    status: str,
    *,
    reason: str | None,
    rule_id: int | None = None,
) -> None:
    before = snapshot(row)
    row.status = status
    row.decided_by = principal.name
    row.decided_at = dt.datetime.now(dt.UTC)
    row.reason = reason
    row.result_rule_id = rule_id
    session.flush()
    record_change(
        session,
        principal,
        action=f"consent-request.{status}",
        entity_type="consent_request",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )


def apply_request(
    session: Session, principal: Principal, request_id: int, *, note: str | None = None
) -> tuple[RequestView, RuleView]:
    """The CMO's admin applies a pending request: the rule it makes or lifts is the CMO's
    act, within the CMO's mandate (refused naming what the mandate lacks, as any rule)."""
    row = _pending_for(session, principal, request_id)
    said = note or row.note or f"at the request of performer {row.performer_id}"
    if row.action == "revoke":
        assert row.rule_id is not None
        rule = revoke_rule(session, principal, row.rule_id)
    else:
        make = permit if row.action == "permit" else prohibit
        rule = make(
            session,
            principal,
            scope="performer",
            scope_id=row.performer_id,
            uses=row.uses,
            territories=row.territories,
            licensee_id=row.licensee_id,
            note=said,
            cmo_id=row.cmo_id,
        )
    _decided(session, principal, row, "applied", reason=note, rule_id=rule.id)
    return _view(row), rule


def decline_request(
    session: Session, principal: Principal, request_id: int, *, reason: str
) -> RequestView:
    """The CMO's admin declines a pending request, saying why (the performer reads it)."""
    if not reason.strip():
        raise InvalidInput("a declined request says why (reason)", details={"field": "reason"})
    row = _pending_for(session, principal, request_id)
    _decided(session, principal, row, "declined", reason=reason)
    return _view(row)
