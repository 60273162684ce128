"""User accounts (argon2 password hashes) and browser sessions.

A session id is random and only its SHA-256 is stored; it expires after ``IDLE`` without use
and ``ABSOLUTE`` after sign-in, and signing out deletes it. Each session holds a synchronizer
token that every state-changing form must carry (:func:`check_csrf`). Failed sign-ins are
stored, so the limit (``MAX_FAILURES`` per username and ``MAX_CLIENT_FAILURES`` per client
address in ``WINDOW``) holds across workers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sostenuto.auth._principal import ROLES, Principal, Role
from sostenuto.auth._tokens import authenticate
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from sostenuto.storage.models.auth import ApiToken, SignInFailure, UserAccount, WebSession
from sostenuto.storage.models.registry import Cmo, Licensee, Performer

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
MIN_PASSWORD = 12

_hasher = PasswordHasher()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    cmo_id: int | None = None,
    licensee_id: int | None = None,
    performer_id: int | None = None,
) -> int:
    """Create an account bound to ``role`` (and its CMO, licensee or performer); its id."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise InvalidInput("a username is 1 to 64 printable characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    bound: dict[str, tuple[int | None, type[Any]]] = {
        "cmo-admin": (cmo_id, Cmo),
        "licensee": (licensee_id, Licensee),
        "performer": (performer_id, Performer),
    }
    if role in bound:
        ident, model = bound[role]
        if ident is None or session.get(model, ident) is None:
            raise NotFound(f"a {role} account needs an existing {model.__name__}; got {ident!r}")
    cmo_id = cmo_id if role == "cmo-admin" else None
    licensee_id = licensee_id if role == "licensee" else None
    performer_id = performer_id if role == "performer" else None
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)):
        raise Conflict(f"the username {username!r} is taken")
    row = UserAccount(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        cmo_id=cmo_id,
        licensee_id=licensee_id,
        performer_id=performer_id,
    )
    session.add(row)
    session.flush()
    return row.id


def list_users(session: Session) -> list[dict[str, Any]]:
    """Every account, without its password hash."""
    return [
        {
            "id": row.id,
            "username": row.username,
            "role": row.role,
            "cmo_id": row.cmo_id,
            "licensee_id": row.licensee_id,
            "performer_id": row.performer_id,
            "disabled": row.disabled_at is not None,
        }
        for row in session.scalars(select(UserAccount).order_by(UserAccount.id))
    ]


def _user_principal(row: UserAccount) -> Principal:
    role: Role = row.role  # type: ignore[assignment]
    return Principal(
        name=f"user:{row.username}",
        role=role,
        cmo_id=row.cmo_id,
        licensee_id=row.licensee_id,
        performer_id=row.performer_id,
    )


@dataclass(frozen=True)
class SignedIn:
    """A new browser session: the cookie value (shown once) and its CSRF token."""

    session_id: str
    csrf_token: str
    principal: Principal


def _check_rate(session: Session, username: str, client: str) -> None:
    since = _now() - WINDOW
    by_name = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.username == username, SignInFailure.at >= since)
    )
    by_client = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.client == client, SignInFailure.at >= since)
    )
    if (by_name or 0) >= MAX_FAILURES or (by_client or 0) >= MAX_CLIENT_FAILURES:
        raise Forbidden(
            "too many failed sign-ins; wait 15 minutes before trying again",
            details={"retry_after_s": int(WINDOW.total_seconds())},
        )


def sign_in(
    session: Session,
    *,
    client: str,
    username: str = "",
    password: str = "",
    token: str = "",
) -> SignedIn:
    """Open a session for a username and password, or for an API token.

    Raises :class:`Unauthenticated` for wrong credentials (recorded for the rate limit) and
    :class:`Forbidden` once the limit is reached. Commit the failure even when raising: the
    caller runs this in its own transaction and records failures with :func:`record_failure`.
    """
    username = username[:64]
    client = client[:64]
    key = username or "token"
    _check_rate(session, key, client)
    user_id: int | None = None
    token_id: int | None = None
    if token:
        principal = authenticate(session, token)
        token_id = session.scalar(
            select(ApiToken.id).where(ApiToken.token_sha256 == _digest(token))
        )
    else:
        row = session.scalar(select(UserAccount).where(UserAccount.username == username))
        valid = False
        if row is not None and row.disabled_at is None:
            try:
                valid = _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                valid = False
        else:
            # Spend the same time on an unknown name as on a wrong password.
            _hasher.hash(password or "x")
        if row is None or not valid:
            raise Unauthenticated("the username or the password is wrong")
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        principal = _user_principal(row)
        user_id = row.id
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    session.add(
        WebSession(
            session_sha256=_digest(session_id),
            user_id=user_id,
            token_id=token_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
        )
    )
    session.flush()
    return SignedIn(session_id, csrf, principal)


def record_failure(session: Session, *, username: str, client: str) -> None:
    """Count a failed sign-in (in a transaction of its own, so it survives the refusal)."""
    session.add(SignInFailure(username=username[:64] or "token", client=client[:64], at=_now()))
    cutoff = _now() - WINDOW
    session.execute(delete(SignInFailure).where(SignInFailure.at < cutoff))


def session_principal(session: Session, session_id: str) -> tuple[Principal, str]:
    """The principal and CSRF token of a live session; refreshes its idle clock."""
    row = session.scalar(select(WebSession).where(WebSession.session_sha256 == _digest(session_id)))
    now = _now()
    if row is None:
        raise Unauthenticated("the session is unknown or signed out; sign in again")
    if _aware(row.expires_at) <= now or _aware(row.last_seen_at) + IDLE <= now:
        session.delete(row)
        raise Unauthenticated("the session has expired; sign in again")
    if row.user_id is not None:
        user = session.get(UserAccount, row.user_id)
        if user is None or user.disabled_at is not None:
            session.delete(row)
            raise Unauthenticated("the account is disabled; sign in again")
        principal = _user_principal(user)
    else:
        token = session.get(ApiToken, row.token_id)
        if token is None or token.revoked_at is not None:
            session.delete(row)
            raise Unauthenticated("the API token behind this session was revoked")
        role: Role = token.role  # type: ignore[assignment]
        principal = Principal(
            name=f"token:{token.id}:{token.label}",
            role=role,
            cmo_id=token.cmo_id,
            licensee_id=token.licensee_id,
            performer_id=token.performer_id,
        )
    row.last_seen_at = now
    return principal, row.csrf_token


def check_csrf(expected: str, presented: str | None) -> None:
    """Refuse a state-changing request from a session without its synchronizer token."""
    if not presented or not hmac.compare_digest(expected, presented):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")


def sign_out(session: Session, session_id: str) -> None:
    """Delete the server-side session (a copied cookie no longer works)."""
    session.execute(delete(WebSession).where(WebSession.session_sha256 == _digest(session_id)))
