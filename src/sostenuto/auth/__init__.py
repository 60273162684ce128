"""Who is calling, and what their role lets them do.

Roles: ``cmo-admin`` (bound to one CMO), ``licensee`` (bound to one licensee), ``auditor``
(reads everything, changes nothing) and ``public`` (reads what is meant to be public).
What each role may do, and on which tenant's objects, is one table: :data:`POLICY`; services
check it with :func:`authorize`.
"""

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
from sostenuto.auth._tokens import authenticate, issue_token, revoke_token

__all__ = [
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
    "allowed",
    "authenticate",
    "authorize",
    "authorize_role",
    "issue_token",
    "revoke_token",
    "roles_for",
]
