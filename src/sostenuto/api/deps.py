"""Dependencies shared by every route, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sostenuto.auth import (
    PUBLIC,
    Principal,
    authenticate,
    authorize_role,
    check_csrf,
    session_principal,
)
from sostenuto.errors import Unauthenticated
from sostenuto.settings import Settings
from sostenuto.storage import Database

_bearer = HTTPBearer(auto_error=False, description="An API token issued by `sostenuto token`.")


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SESSION_COOKIE = "sostenuto_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


async def _csrf_presented(request: Request) -> str | None:
    """The synchronizer token a state-changing request carries (header or form field)."""
    if request.method in _SAFE or SESSION_COOKIE not in request.cookies:
        return None
    if "authorization" in request.headers:
        return None
    presented = request.headers.get(CSRF_HEADER)
    if presented:
        return presented
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def get_principal(
    request: Request,
    database: Annotated[Database, Depends(get_database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    csrf: Annotated[str | None, Depends(_csrf_presented)],
) -> Principal:
    """The caller: a Bearer token, else a browser session cookie (whose state-changing
    requests must carry its CSRF token), else the anonymous public. A bad token or an expired
    session is refused outright (a stale cookie on a read is the anonymous public)."""
    if credentials is None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return PUBLIC
        try:
            with database.transaction() as session:
                principal, expected = session_principal(session, session_id)
        except Unauthenticated:
            if request.method in _SAFE:
                return PUBLIC  # a stale cookie reads what anyone reads; sign in again
            raise
        request.state.principal = principal
        request.state.csrf_token = expected
        if request.method not in _SAFE:
            check_csrf(expected, csrf)
        return principal
    with database.reader() as session:
        return authenticate(session, credentials.credentials)


def require_signed_in(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Refuse anonymous callers before the request body is even validated."""
    if principal.role == "public" and principal.name == PUBLIC.name:
        raise Unauthenticated("this endpoint needs an API token ('Authorization: Bearer ...')")
    return principal


Db = Annotated[Database, Depends(get_database)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
# Any caller, the anonymous public included: for public reads.
Caller = Annotated[Principal, Depends(get_principal)]
# A caller with a token: every write and every non-public read.
SignedIn = Annotated[Principal, Depends(require_signed_in)]


# ---------------------------------------------------------------- role gates
# A caller whose role can never take a route's action is refused (403) before the body or the
# query is validated, as ``SignedIn`` refuses anonymous callers (401): a refusal then reveals
# nothing about the objects named. The roles come from the policy table
# (``sostenuto.auth.POLICY``); the service still checks the tenant.


def role_gate(*actions: str, does: str) -> Callable[[Principal], Principal]:
    """A dependency: the signed-in caller, if its role holds one of ``actions``."""

    def gate(principal: Annotated[Principal, Depends(require_signed_in)]) -> Principal:
        authorize_role(principal, *actions, does=does)
        return principal

    gate.__doc__ = f"Refuse roles that may not {does}."
    return gate


# Registry, consent-rule, tariff and voice-enrolment writes: CMO admins only.
CMO_ADMIN_ACTIONS = (
    "agreement.add",
    "performer.add",
    "mandate.add",
    "mandate.end",
    "mandate.confirm",
    "recording.add",
    "recording.change",
    "catalogue.import",
    "licensee.add",
    "licence.grant",
    "licence.suspend",
    "rule.change",
    "rule.publish",
    "tariff.add",
    "distribution-rule.set",
    "claim.settle",
    "voiceprint.enrol",
)
CmoAdmin = Annotated[
    Principal, Depends(role_gate(*CMO_ADMIN_ACTIONS, does="change a CMO's registry or consent"))
]
# Revoking a consent rule: the CMO that made it, or the performer it concerns.
RuleRevoker = Annotated[Principal, Depends(role_gate("rule.revoke", does="revoke a consent rule"))]
# A licensee's own declarations: its models, its labelled outputs.
LicenseeOnly = Annotated[
    Principal,
    Depends(role_gate("model.add", "label.apply", does="act as a licensee")),
]
# Log declarations, revenue reports, voice screenings: a licensee or a CMO admin.
LicenseeOrCmoAdmin = Annotated[
    Principal,
    Depends(
        role_gate(
            "log.declare",
            "revenue.report",
            "voice.screen",
            "voice.declare",
            does="declare or report in a licensee's or a CMO's name",
        )
    ),
]
# Consent decisions (a licensee's, or a preview), output checks: any token but the public's.
TenantOrAuditor = Annotated[
    Principal,
    Depends(
        role_gate(
            "decision.request",
            "decision.preview",
            "identify.check-output",
            "identify.index.read",
            "voice.screening.read",
            does="use a licensee's, a CMO's or an auditor's service",
        )
    ),
]
# A licensee's corpus screenings and watermark ids: that licensee and auditors.
LicenseeOrAuditor = Annotated[
    Principal,
    Depends(
        role_gate(
            "identify.screen.read", "watermarks.list", does="read a licensee's screenings or marks"
        )
    ),
]
# Voiceprints: the performer's CMO and auditors.
CmoAdminOrAuditor = Annotated[
    Principal, Depends(role_gate("voiceprint.read", does="see voiceprints"))
]
# Performers' requests to their CMO: the performer asks, the CMO's admin decides.
PerformerOnly = Annotated[
    Principal,
    Depends(role_gate("consent-request.make", does="ask one's CMO for a consent change")),
]
RequestReader = Annotated[
    Principal,
    Depends(role_gate("consent-request.read", does="see performers' requests to a CMO")),
]
RequestDecider = Annotated[
    Principal,
    Depends(role_gate("consent-request.decide", does="apply or decline a performer's request")),
]
# Witness cosignatures: auditors (who run the witnesses).
AuditorOnly = Annotated[
    Principal, Depends(role_gate("log.cosign", does="hand over witness cosignatures"))
]
# The revocation feed: a licensee's own, or any licensee's for an auditor.
ChangesReader = Annotated[
    Principal, Depends(role_gate("changes.read", does="read a licensee's revocation feed"))
]
# Webhook subscriptions and their deliveries: the licensee's own.
WebhookManager = Annotated[
    Principal,
    Depends(role_gate("webhook.manage", does="manage a licensee's webhook subscriptions")),
]
# Starting a distribution run from the log: any CMO's admin (the run covers every CMO).
RunStarter = Annotated[
    Principal,
    Depends(role_gate("remuneration.run-from-log", does="run a distribution from the log's usage")),
]
