"""API tokens: only their SHA-256 is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    cmo_id: Mapped[int | None] = mapped_column(ForeignKey("cmo.id"), nullable=True)
    licensee_id: Mapped[int | None] = mapped_column(ForeignKey("licensee.id"), nullable=True)
    # The performer a ``performer`` token speaks for (auth_0001).
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("performer.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class UserAccount(Base):
    """A person who signs in with a password (argon2 hash), bound to a role like a token."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    cmo_id: Mapped[int | None] = mapped_column(ForeignKey("cmo.id"), nullable=True)
    licensee_id: Mapped[int | None] = mapped_column(ForeignKey("licensee.id"), nullable=True)
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("performer.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WebSession(Base):
    """A browser session: only the SHA-256 of its random id is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"), nullable=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class SignInFailure(Base):
    """A failed sign-in, kept for the rate limit (per username and per client address)."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
