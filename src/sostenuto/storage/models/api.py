"""Tables of the HTTP API itself (not of a capability): idempotency keys of writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class IdempotentRequest(Base):
    """A write sent with an ``Idempotency-Key``: claimed while it runs, then its answer.

    ``owner`` is the SHA-256 of the credential that sent it (keys are scoped per client);
    ``fingerprint`` the SHA-256 of method, path, query and body, so that the same key with
    another request is refused rather than answered with the first one's result.
    """

    __tablename__ = "api_idempotent_request"

    owner: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    # None while the first request runs.
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
