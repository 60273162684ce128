"""Who is calling, and what their role lets them do.

Roles: ``cmo-admin`` (bound to one CMO), ``licensee`` (bound to one licensee), ``auditor``
(reads everything, changes nothing) and ``public`` (reads what is meant to be public).
"""

from sostenuto.auth._principal import OPERATOR, PUBLIC, ROLES, Principal, Role
from sostenuto.auth._tokens import authenticate, issue_token, revoke_token

__all__ = [
    "OPERATOR",
    "PUBLIC",
    "ROLES",
    "Principal",
    "Role",
    "authenticate",
    "issue_token",
    "revoke_token",
]
