"""Issue, check and revoke API tokens. Tokens are random; only their SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth._principal import OPERATOR, ROLES, Principal, Role
from sostenuto.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from sostenuto.storage.models.auth import ApiToken
from sostenuto.storage.models.registry import Cmo, Licensee, Mandate, Performer

TOKEN_PREFIX = "sos_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    *,
    role: str,
    label: str,
    cmo_id: int | None = None,
    licensee_id: int | None = None,
    performer_id: int | None = None,
    issuer: Principal = OPERATOR,
) -> str:
    """Create a token for ``role`` and return it; it is shown once and never stored.

    A ``performer`` token is issued by the operator or by the admin of a CMO that holds an
    active mandate of that performer (``issuer``); other roles by the operator alone."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if role != "performer":
        issuer.require_operator(f"issue {role} tokens")
    if role == "cmo-admin":
        if cmo_id is None or session.get(Cmo, cmo_id) is None:
            raise NotFound(f"a cmo-admin token needs an existing CMO; got {cmo_id!r}")
        licensee_id = performer_id = None
    elif role == "licensee":
        if licensee_id is None or session.get(Licensee, licensee_id) is None:
            raise NotFound(f"a licensee token needs an existing licensee; got {licensee_id!r}")
        cmo_id = performer_id = None
    elif role == "performer":
        if performer_id is None or session.get(Performer, performer_id) is None:
            raise NotFound(f"a performer token needs an existing performer; got {performer_id!r}")
        _check_performer_issuer(session, issuer, performer_id)
        cmo_id = licensee_id = None
    else:
        cmo_id = licensee_id = performer_id = None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_sha256=_digest(token),
            role=role,
            cmo_id=cmo_id,
            licensee_id=licensee_id,
            performer_id=performer_id,
            label=label,
        )
    )
    session.flush()
    return token


def token_id(session: Session, token: str) -> int:
    """The id of a token just issued (to revoke it later by id)."""
    found = session.scalar(select(ApiToken.id).where(ApiToken.token_sha256 == _digest(token)))
    if found is None:
        raise NotFound("no such token")
    return found


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[dict[str, object]]:
    """Every token's id, role, binding and dates (never a token or its hash), oldest first."""
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [
        {
            "id": row.id,
            "role": row.role,
            "label": row.label,
            "cmo_id": row.cmo_id,
            "licensee_id": row.licensee_id,
            "performer_id": row.performer_id,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        }
        for row in session.scalars(query)
    ]


def _check_performer_issuer(session: Session, issuer: Principal, performer_id: int) -> None:
    """The operator, or the admin of a CMO holding an active mandate of the performer today."""
    if issuer.operator:
        return
    issuer.require("cmo-admin")
    today = dt.datetime.now(dt.UTC).date()
    mandate = session.scalar(
        select(Mandate.id).where(
            Mandate.performer_id == performer_id,
            Mandate.cmo_id == issuer.cmo_id,
            Mandate.status == "active",
            Mandate.valid_from <= today,
            (Mandate.valid_to.is_(None)) | (Mandate.valid_to >= today),
        )
    )
    if mandate is None:
        raise Forbidden(
            f"CMO {issuer.cmo_id} holds no active mandate of performer {performer_id}, so it"
            " may not issue that performer's token",
            details={"token_cmo": issuer.cmo_id, "performer_id": performer_id},
        )


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal behind ``token``; raises :class:`Unauthenticated` for a bad one."""
    if not token:
        raise Unauthenticated("no API token presented (send 'Authorization: Bearer <token>')")
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the API token is unknown or revoked")
    role: Role = row.role  # type: ignore[assignment]
    return Principal(
        name=f"token:{row.id}:{row.label}",
        role=role,
        cmo_id=row.cmo_id,
        licensee_id=row.licensee_id,
        performer_id=row.performer_id,
    )


def revoke_token(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    row.revoked_at = dt.datetime.now(dt.UTC)
