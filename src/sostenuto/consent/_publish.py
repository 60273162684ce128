"""Declaring consent rule changes in the transparency log, so reservations are public record.

The log is public, so only rules that hold for every licensee are published: a rule for one
licensee is part of a private licence between a CMO and that licensee. Publishing is
idempotent (the same change gives the same leaf), so a failed append can simply be retried
with ``sostenuto consent publish RULE_ID``.
"""

from __future__ import annotations

from typing import Any

from sostenuto.auth import Principal
from sostenuto.consent._rules import _acting_cmos, _authorise, view
from sostenuto.consent._types import RuleView
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.transparency import Receipt, declare


def change_kind(rule: RuleView) -> str:
    """What the rule's latest step means for the public: a reservation made or lifted."""
    if rule.revoked_from is not None:
        return "revoke" if rule.effect == "permit" else "opt-in"
    return "grant" if rule.effect == "permit" else "opt-out"


def _declaring_cmo(database: Database, principal: Principal, rule: RuleView) -> int | None:
    with database.reader() as session:
        # Only whoever may change the rule may speak for it in the log.
        _authorise(session, principal, rule.scope, rule.scope_id, opt_out=rule.source == "opt-out")
        if principal.cmo_id is not None:
            return principal.cmo_id
        if rule.scope == "cmo":
            return rule.scope_id
        # The operator acts for whichever CMO represents the scope; the lowest id is stable.
        acting = _acting_cmos(session, rule.scope, rule.scope_id, opt_out=False)
    return min(acting) if acting else None


def consent_change_payload(rule: RuleView, cmo_id: int) -> dict[str, Any]:
    """The ``consent-change`` entry for a rule's creation or revocation."""
    payload: dict[str, Any] = {
        "cmo_id": cmo_id,
        "change": change_kind(rule),
        "scope": "repertoire" if rule.scope == "cmo" else rule.scope,
        "uses": sorted(rule.uses),
        "territories": sorted(rule.territories),
        "effective_on": (rule.revoked_from or rule.valid_from).isoformat(),
        "rule_id": rule.id,
    }
    if rule.scope == "performer":
        payload["performer_id"] = rule.scope_id
    elif rule.scope == "recording":
        payload["recording_id"] = rule.scope_id
    return payload


def publish_rule_change(
    database: Database, settings: Settings, principal: Principal, rule: RuleView
) -> Receipt | None:
    """Declare the rule's current state (made, or revoked) as a ``consent-change`` entry.

    Returns ``None`` when the rule is not for the public record (it names one licensee) or no
    CMO represents its scope (an unrepresented performer's opt-out recorded by the operator).
    """
    if rule.licensee_id is not None:
        return None
    cmo_id = _declaring_cmo(database, principal, rule)
    if cmo_id is None:
        return None
    return declare(
        database, settings, principal, "consent-change", consent_change_payload(rule, cmo_id)
    )


def rule_with_entry(rule: RuleView, receipt: Receipt | None) -> dict[str, Any]:
    """A rule as the front ends show it after publishing: its fields and its log entry."""
    return {**rule.as_json(), "log_entry": receipt.as_json() if receipt else None}


def publish_rule(
    database: Database, settings: Settings, principal: Principal, rule_id: int
) -> Receipt:
    """(Re)declare a stored rule by id; refuses rules that are not for the public record."""
    with database.reader() as session:
        row = session.get(ConsentRule, rule_id)
        if row is None:
            raise NotFound(f"no consent rule with id {rule_id}")
        rule = view(row)
    if rule.licensee_id is not None:
        raise InvalidInput(
            f"rule {rule_id} is for licensee {rule.licensee_id} alone: it is part of a private"
            " licence and is not published in the public log"
        )
    receipt = publish_rule_change(database, settings, principal, rule)
    if receipt is None:
        raise InvalidInput(f"no CMO represents the scope of rule {rule_id}; name one to publish")
    return receipt
