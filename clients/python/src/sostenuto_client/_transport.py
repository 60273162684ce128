"""HTTP in one place: the bearer token, retries with backoff, idempotency keys, and problem
documents turned into typed exceptions. The generated operations call :meth:`Transport.call`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from sostenuto_client import _json
from sostenuto_client._errors import ConnectionFailed, UsageError, problem_error

__all__ = ["AsyncTransport", "FileInput", "Operation", "RetryPolicy", "Transport"]

FileInput = bytes | os.PathLike[str] | IO[bytes] | tuple[str, bytes]
"""An uploaded file: its bytes, a path, an open binary file, or ``(filename, bytes)``."""

DEFAULT_SERVER = "http://127.0.0.1:8000"
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation as the OpenAPI document describes it."""

    op_id: str
    method: str
    path: str
    body_kind: str = "none"  # none | json | form | text
    response: str = "json"  # json | text | bytes
    retry_safe: bool = False  # may be sent again after a 5xx or a lost answer
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry: 429 always (the server refused before acting),
    5xx and lost answers only for operations that are safe to repeat."""

    attempts: int = 5
    backoff_s: float = 0.25
    max_backoff_s: float = 8.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = response.headers.get("Retry-After", "")
            if after.strip().isdigit():
                return min(float(after), self.max_backoff_s)
        # Full jitter, so many clients refused together do not come back together.
        return float(random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt)))


def _text(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _file(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        return (name, value)
    if isinstance(value, os.PathLike):
        path = Path(value)
        return (path.name, path.read_bytes())
    if isinstance(value, tuple) or hasattr(value, "read"):
        return value
    raise UsageError(f"{name}: a file is bytes, a path, an open binary file or (name, bytes)")


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    params: dict[str, Any]
    headers: dict[str, str]
    content: bytes | None
    data: dict[str, Any] | None
    # (field, file) pairs: a field that takes several files repeats.
    files: list[tuple[str, Any]] | None


def _build(
    op: Operation,
    path: Mapping[str, Any],
    query: Mapping[str, Any],
    body: Mapping[str, Any],
    idempotency_key: str | None,
    keyed: bool = True,
) -> _Request:
    url = op.path
    for name, value in path.items():
        if value is None:
            raise UsageError(f"{op.op_id}: {name} is required")
        # Tile paths carry '/' by design; every other path parameter is one segment.
        safe = "/" if name == "path" else ""
        url = url.replace("{" + name + "}", quote(str(_text(value)), safe=safe))
    params = {k: _text(v) for k, v in query.items() if v is not None}
    headers: dict[str, str] = {}
    key = idempotency_key
    if op.method != "GET" and (keyed or key is not None):
        # One key per logical call, kept across its retries.
        key = headers["Idempotency-Key"] = key or uuid.uuid4().hex
    content: bytes | None = None
    data: dict[str, Any] | None = None
    files: list[tuple[str, Any]] | None = None
    sent = {k: v for k, v in body.items() if v is not None}
    if op.body_kind == "json":
        content = _json.dumps(sent)
        headers["Content-Type"] = "application/json"
    elif op.body_kind == "text":
        content = str(sent.get("body", "")).encode()
        headers["Content-Type"] = "text/plain; charset=utf-8"
    elif op.body_kind == "form":
        files = [
            (k, _file(k, one))
            for k, v in sent.items()
            if k in op.files
            for one in (v if isinstance(v, list) else [v])
        ]
        data = {k: str(_text(v)) for k, v in sent.items() if k not in op.files}
        if key is not None:
            # The server replays a keyed write only for the same bytes: a boundary drawn at
            # random per attempt would make every retry "another request".
            boundary = hashlib.sha256(key.encode()).hexdigest()[:32]
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    return _Request(op.method, url, params, headers, content, data, files)


def _raise_for_problem(op: Operation, response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        problem = _json.loads(response.content)
        if not isinstance(problem, dict):
            raise ValueError
    except ValueError:
        problem = {
            "status": response.status_code,
            "title": response.reason_phrase,
            "detail": response.text[:500],
        }
    problem.setdefault("status", response.status_code)
    raise problem_error(problem, operation=op.op_id)


def _result(op: Operation, response: httpx.Response) -> Any:
    _raise_for_problem(op, response)
    if op.response == "json":
        return _json.loads(response.content)
    if op.response == "text":
        return response.text
    return response.content


def _retryable(op: Operation, response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    return op.retry_safe and response.status_code in _RETRY_STATUSES


def _settings(base_url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    from sostenuto_client import __version__

    server = (base_url or os.environ.get("SOSTENUTO_SERVER") or DEFAULT_SERVER).rstrip("/")
    headers = {"User-Agent": f"sostenuto-client/{__version__}", "Accept": "application/json"}
    secret = token if token is not None else os.environ.get("SOSTENUTO_TOKEN")
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return server, headers


class Transport:
    """Synchronous HTTP to one server, as one token's holder."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        http: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url, headers = _settings(base_url, token)
        self.retry = retry or RetryPolicy()
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout_s, transport=http
        )

    def call(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any],
        query: Mapping[str, Any],
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
        keyed: bool = True,
    ) -> Any:
        """Send ``op``, retrying as :class:`RetryPolicy` allows; its answer. ``keyed=False``
        sends no automatic ``Idempotency-Key``: for calls that are safe to repeat and whose
        answers the server need not keep (a batch decision's answer is megabytes)."""
        request = _build(op, path, query, body, idempotency_key, keyed)
        return _result(op, self.send(op, request))

    def send(self, op: Operation, request: _Request) -> httpx.Response:
        """Send a built request with retries; the last response, a problem or not (for the
        few callers that need its headers)."""
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            try:
                response = self.http.request(
                    request.method,
                    request.url,
                    params=request.params,
                    headers=request.headers,
                    content=request.content,
                    data=request.data,
                    files=request.files,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Nothing was sent: any operation may be tried again.
                if last:
                    raise ConnectionFailed(f"{op.op_id}: {self.base_url}: {error}") from error
                time.sleep(self.retry.delay(attempt, None))
                continue
            except httpx.TransportError as error:
                if last or not op.retry_safe:
                    raise ConnectionFailed(f"{op.op_id}: {error}") from error
                time.sleep(self.retry.delay(attempt, None))
                continue
            if not last and _retryable(op, response):
                time.sleep(self.retry.delay(attempt, response))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.http.close()


class AsyncTransport:
    """The same as :class:`Transport`, for asyncio."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url, headers = _settings(base_url, token)
        self.retry = retry or RetryPolicy()
        self.http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout_s, transport=http
        )

    async def call(
        self,
        op: Operation,
        *,
        path: Mapping[str, Any],
        query: Mapping[str, Any],
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> Any:
        import asyncio  # here: sync users should not pay for importing it

        request = _build(op, path, query, body, idempotency_key)
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            try:
                response = await self.http.request(
                    request.method,
                    request.url,
                    params=request.params,
                    headers=request.headers,
                    content=request.content,
                    data=request.data,
                    files=request.files,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if last:
                    raise ConnectionFailed(f"{op.op_id}: {self.base_url}: {error}") from error
                await asyncio.sleep(self.retry.delay(attempt, None))
                continue
            except httpx.TransportError as error:
                if last or not op.retry_safe:
                    raise ConnectionFailed(f"{op.op_id}: {error}") from error
                await asyncio.sleep(self.retry.delay(attempt, None))
                continue
            if not last and _retryable(op, response):
                await asyncio.sleep(self.retry.delay(attempt, response))
                continue
            return _result(op, response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.http.aclose()
