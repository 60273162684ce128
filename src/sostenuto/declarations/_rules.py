"""Declaring consent rule changes in the transparency log, so reservations are public record.

The log is public, so only rules that hold for every licensee are published: a rule for one
licensee is part of a private licence between a CMO and that licensee. Publishing is
idempotent (the same change gives the same leaf), so a failed append can simply be retried
with ``sostenuto consent publish RULE_ID``.
"""

from __future__ import annotations

from typing import Any

from sostenuto import consent
from sostenuto.auth import Principal
from sostenuto.declarations._deliveries import notify_changes
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import Receipt, declare


def change_kind(rule: consent.RuleView) -> str:
    """What the rule's latest step means for the public: a reservation made or lifted."""
    if rule.revoked_from is not None:
        return "revoke" if rule.effect == "permit" else "opt-in"
    return "grant" if rule.effect == "permit" else "opt-out"


def _declarer(principal: Principal, rule: consent.RuleView) -> Principal:
    """Who speaks in the log for this change: the caller, except that a performer ending a
    reservation of its own (``rule.revoke`` allows it) speaks through the rule's CMO, whose
    act the rule is; the audit trail keeps the performer as the one who revoked it."""
    own = rule.scope == "performer" and rule.scope_id == principal.performer_id
    if principal.role == "performer" and own and rule.cmo_id is not None:
        return Principal(
            f"{principal.name} (own reservation, via CMO {rule.cmo_id})",
            "cmo-admin",
            cmo_id=rule.cmo_id,
        )
    return principal


def _declaring_cmo(database: Database, principal: Principal, rule: consent.RuleView) -> int | None:
    # Only the CMO whose act the rule is may speak for it in the log.
    consent.check_may_speak_for(principal, rule)
    if rule.cmo_id is not None:
        return rule.cmo_id
    if rule.scope == "cmo":
        return rule.scope_id
    with database.reader() as session:
        # The operator's rule: declared for whichever CMO represents the scope today (the
        # lowest id is stable).
        acting = consent.representing_cmos(session, rule.scope, rule.scope_id)
    return min(acting) if acting else None


def consent_change_payload(rule: consent.RuleView, cmo_id: int) -> dict[str, Any]:
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
    database: Database, settings: Settings, principal: Principal, rule: consent.RuleView
) -> Receipt | None:
    """Declare the rule's current state (made, or revoked) as a ``consent-change`` entry.

    Returns ``None`` when the rule is not for the public record (it names one licensee) or no
    CMO represents its scope (an unrepresented performer's opt-out recorded by the operator).
    """
    if rule.licensee_id is not None:
        return None
    principal = _declarer(principal, rule)
    cmo_id = _declaring_cmo(database, principal, rule)
    if cmo_id is None:
        return None
    # A consent-change cites no decision, so the log's own declare takes it as it is.
    receipt = declare(
        database, settings, principal, "consent-change", consent_change_payload(rule, cmo_id)
    )
    # Committed: the webhooks whose licensees' declared files it touches are told.
    notify_changes(database, [receipt.index])
    return receipt


def rule_with_entry(rule: consent.RuleView, receipt: Receipt | None) -> dict[str, Any]:
    """A rule as the front ends show it after publishing: its fields and its log entry."""
    return {**rule.as_json(), "log_entry": receipt.as_json() if receipt else None}


def publish_rule(
    database: Database, settings: Settings, principal: Principal, rule_id: int
) -> Receipt:
    """(Re)declare a stored rule by id; refuses rules that are not for the public record."""
    with database.reader() as session:
        rule = consent.get_rule(session, principal, rule_id)
    if rule.licensee_id is not None:
        raise InvalidInput(
            f"rule {rule_id} is for licensee {rule.licensee_id} alone: it is part of a private"
            " licence and is not published in the public log"
        )
    receipt = publish_rule_change(database, settings, principal, rule)
    if receipt is None:
        raise InvalidInput(f"no CMO represents the scope of rule {rule_id}; name one to publish")
    return receipt
