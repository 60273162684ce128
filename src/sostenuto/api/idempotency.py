"""``Idempotency-Key`` on every API write (draft-ietf-httpapi-idempotency-key-header).

A client that retries a write after a lost answer sends the same key; the server then
replays the first answer instead of acting twice. Keys are scoped to the credential that
sent them (the SHA-256 of its bearer token or session cookie) and kept for 24 hours.

- First use of a key: the request is claimed (a row without an answer), runs, and a 2xx
  answer is stored with it. Any other answer releases the claim: nothing was done (every
  write is one transaction), so a retry may run again.
- The same key with the same request (method, path, query, body): the stored answer, with
  ``Idempotent-Replayed: true``.
- The same key while the first request still runs: 409; with another request: 422.

Only requests with a key are touched, and only bodies up to ``MAX_BODY`` are held in
memory for the fingerprint; a larger upload with a key is refused with 413 rather than run
without the guarantee.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sostenuto.api.deps import SESSION_COOKIE
from sostenuto.api.problems import problem
from sostenuto.storage import Database
from sostenuto.storage.models.api import IdempotentRequest

HEADER = b"idempotency-key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEEP_FOR = dt.timedelta(hours=24)
MAX_KEY = 255
MAX_BODY = 64 * 1024 * 1024  # audio uploads to label or inspect fit; a corpus does not


@dataclass(frozen=True)
class _Claim:
    outcome: Literal["run", "replay", "busy", "mismatch"]
    status: int = 0
    content_type: str | None = None
    body: bytes = b""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _claim(database: Database, owner: bytes, key: str, fingerprint: bytes) -> _Claim:
    with database.transaction() as session:
        found = session.get(IdempotentRequest, (owner, key))
        if found is not None and found.created_at < _now() - KEEP_FOR:
            session.delete(found)
            session.flush()
            found = None
        if found is None:
            session.add(
                IdempotentRequest(owner=owner, key=key, fingerprint=fingerprint, created_at=_now())
            )
            try:
                session.flush()
            except IntegrityError:  # another worker claimed it between our read and write
                return _Claim("busy")
            return _Claim("run")
        if bytes(found.fingerprint) != fingerprint:
            return _Claim("mismatch")
        if found.status is None:
            return _Claim("busy")
        return _Claim("replay", found.status, found.content_type, bytes(found.body or b""))


def _settle(
    database: Database, owner: bytes, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    with database.transaction() as session:
        found = session.get(IdempotentRequest, (owner, key))
        if found is None:
            return
        if 200 <= status < 300:
            found.status, found.content_type, found.body = status, content_type, body
        else:
            session.delete(found)
        # Expired keys go as new ones come, so the table stays one day deep.
        session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.created_at < _now() - KEEP_FOR)
        )


def _owner(scope: Scope) -> bytes | None:
    """The credential the request carries (bearer token, else session cookie), hashed."""
    headers = dict(scope.get("headers") or [])
    authorization = headers.get(b"authorization")
    if authorization:
        return hashlib.sha256(b"bearer\0" + authorization).digest()
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and value:
            return hashlib.sha256(b"session\0" + value).digest()
    return None


def _fingerprint(scope: Scope, body: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(body)
    return digest.digest()


class IdempotencyMiddleware:
    """The ASGI layer that gives writes with an ``Idempotency-Key`` at-most-once effect."""

    def __init__(self, app: ASGIApp, database: Callable[[], Database]) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        raw_key = dict(scope.get("headers") or []).get(HEADER)
        owner = _owner(scope)
        if raw_key is None or owner is None:
            await self.app(scope, receive, send)  # no key, or no caller: authorisation decides
            return
        key = raw_key.decode("latin-1")
        if not 1 <= len(key) <= MAX_KEY or not key.isprintable() or not key.isascii():
            response = problem(
                400,
                "invalid-input",
                f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters",
            )
            await response(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if not complete:
            response = problem(
                413,
                "invalid-input",
                f"a write with an Idempotency-Key may carry at most {MAX_BODY} bytes",
            )
            await response(scope, receive, send)
            return
        database = self.database()
        fingerprint = _fingerprint(scope, body)
        claim = await run_in_threadpool(_claim, database, owner, key, fingerprint)
        if claim.outcome == "replay":
            await _replay(claim, send)
            return
        if claim.outcome != "run":
            status, detail = (
                (409, "a request with this Idempotency-Key is still being processed")
                if claim.outcome == "busy"
                else (422, "this Idempotency-Key was used for another request")
            )
            await problem(status, "conflict" if status == 409 else "invalid-input", detail)(
                scope, receive, send
            )
            return
        await self._run(scope, body, send, database, owner, key)

    async def _run(
        self, scope: Scope, body: bytes, send: Send, database: Database, owner: bytes, key: str
    ) -> None:
        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        content_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await run_in_threadpool(
                _settle, database, owner, key, status, content_type, b"".join(chunks)
            )


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", False
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts), True


async def _replay(claim: _Claim, send: Send) -> None:
    headers = [
        (b"idempotent-replayed", b"true"),
        (b"content-length", str(len(claim.body)).encode()),
    ]
    if claim.content_type:
        headers.append((b"content-type", claim.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": claim.status, "headers": headers})
    await send({"type": "http.response.body", "body": claim.body, "more_body": False})
