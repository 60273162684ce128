"""Who is calling, and what their role lets them do.

Roles: ``cmo-admin`` (bound to one CMO), ``licensee`` (bound to one licensee), ``auditor``
(reads everything, changes nothing) and ``public`` (reads what is meant to be public).
What each role may do, and on which tenant's objects, is one table: :data:`POLICY`; services
check it with :func:`authorize`. People sign in to the web pages with an account (argon2
password) or an API token and get a browser session (:func:`sign_in`).
"""

from sostenuto.auth._accounts import ABSOLUTE as ABSOLUTE_SESSION
from sostenuto.auth._accounts import (
    SignedIn,
    add_user,
    check_csrf,
    list_users,
    record_failure,
    session_principal,
    sign_in,
    sign_out,
)
from sostenuto.auth._policy import (
    ACTIONS,
    ANY,
    OWN,
    OWN_OR_REPRESENTED,
    POLICY,
    REPRESENTED,
    Rule,
    Scope,
    allowed,
    authorize,
    authorize_role,
    roles_for,
)
from sostenuto.auth._principal import OPERATOR, PUBLIC, ROLES, Principal, Role
from sostenuto.auth._tokens import (
    authenticate,
    issue_token,
    list_tokens,
    revoke_token,
    token_id,
)

__all__ = [
    "ABSOLUTE_SESSION",
    "ACTIONS",
    "ANY",
    "OPERATOR",
    "OWN",
    "OWN_OR_REPRESENTED",
    "POLICY",
    "PUBLIC",
    "REPRESENTED",
    "ROLES",
    "Principal",
    "Role",
    "Rule",
    "Scope",
    "SignedIn",
    "add_user",
    "allowed",
    "authenticate",
    "authorize",
    "authorize_role",
    "check_csrf",
    "issue_token",
    "list_tokens",
    "list_users",
    "record_failure",
    "revoke_token",
    "roles_for",
    "session_principal",
    "sign_in",
    "sign_out",
    "token_id",
]
