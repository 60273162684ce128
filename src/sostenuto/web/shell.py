"""What every page's frame shows: who is signed in, for which organisation, the navigation
the role may use (from the policy table) and the log's current checkpoint.

A Jinja2 context processor, so that pages of every capability get the same frame without
passing it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from sostenuto import registry
from sostenuto.api.deps import SESSION_COOKIE
from sostenuto.auth import POLICY, PUBLIC, Principal, session_principal
from sostenuto.errors import Unauthenticated
from sostenuto.storage import Database
from sostenuto.transparency import checkpoint


@dataclass(frozen=True)
class NavItem:
    href: str
    text: str
    # The action of sostenuto.auth.POLICY the page needs; None: anyone.
    action: str | None = None


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/me", "My page", "consent-request.make"),
    NavItem("/office", "CMO office", "consent-request.decide"),
    NavItem("/office/requests", "Performers' requests", "consent-request.decide"),
    NavItem("/office/catalogue", "Catalogue", "recording.add"),
    NavItem("/office/import", "Import", "catalogue.import"),
    NavItem("/office/audio", "Reference audio", "recording.change"),
    NavItem("/office/remuneration", "Distributions", "tariff.add"),
    NavItem("/office/rules", "Consent rules", "rule.change"),
    NavItem("/office/licences", "Licences", "licence.grant"),
    NavItem("/office/agreements", "Agreements", "agreement.add"),
    NavItem("/console", "Consent look-up", "decision.request"),
    NavItem("/console/batch", "Look-up by list", "decision.request"),
    NavItem("/console/corpus", "Screen files", "identify.screen-corpus"),
    NavItem("/console/outputs", "Label an output", "label.apply"),
    NavItem("/console/receipts", "My log receipts", "label.apply"),
    NavItem("/identify/screens", "Corpus screenings", "identify.screen.read"),
    NavItem("/voice/screenings", "Voice screenings", "voice.screening.read"),
    NavItem("/remuneration", "Statements", "statement.read"),
    NavItem("/label/inspect", "Inspect a file", "label.inspect"),
    NavItem("/transparency", "Training summaries", "summary.read"),
    NavItem("/log", "Transparency log"),
    NavItem("/reservations", "Reservations"),
)


def may_use(principal: Principal, item: NavItem) -> bool:
    """Whether the role holds the page's action on anything (the page checks the tenant)."""
    return item.action is None or principal.operator or principal.role in POLICY[item.action].grants


def navigation(principal: Principal) -> list[NavItem]:
    return [item for item in NAVIGATION if may_use(principal, item)]


def signed_in(request: Request) -> Principal:
    """The page's caller: the one the route resolved, else the session cookie's (pages that
    take no caller still show who is signed in), else the anonymous public."""
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return PUBLIC
    database: Database = request.app.state.database
    try:
        with database.transaction() as session:
            principal, csrf = session_principal(session, session_id)
    except Unauthenticated:
        return PUBLIC
    request.state.principal = principal
    request.state.csrf_token = csrf
    return principal


def organisation(request: Request, principal: Principal) -> str | None:
    """The name of the CMO or licensee the role is bound to, for the header."""
    database: Database = request.app.state.database
    with database.reader() as session:
        if principal.role == "cmo-admin" and principal.cmo_id is not None:
            cmos = registry.list_cmos(session, principal)
            return next((c.name for c in cmos if c.id == principal.cmo_id), None)
        if principal.role == "licensee" and principal.licensee_id is not None:
            licensees = registry.list_licensees(session, principal)
            return next((x.name for x in licensees if x.id == principal.licensee_id), None)
    if principal.role == "performer" and principal.performer_id is not None:
        return f"performer {principal.performer_id}"
    return None


def context(request: Request) -> dict[str, Any]:
    """The frame's variables, for every template rendered with a request."""
    principal = signed_in(request)
    signed = checkpoint(request.app.state.database, request.app.state.settings)
    return {
        "who": principal if principal.name != PUBLIC.name else None,
        "organisation": organisation(request, principal),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": navigation(principal),
        "checkpoint": {"size": signed.size, "root": signed.root.hex()[:16]},
    }
