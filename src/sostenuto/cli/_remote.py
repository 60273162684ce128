"""The CLI against a remote ``sostenuto serve``: operations called by their operationId.

Paths come from the server's own OpenAPI document (fetched once per command), so the CLI
follows the contract of the server it talks to rather than a copy of it. A problem document
comes back as the Sostenuto error of the same ``code``, so a remote failure exits with the
same code and message as a local one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from sostenuto import __version__, errors
from sostenuto.errors import NotFound, ServerUnavailable, SostenutoError

TIMEOUT = httpx.Timeout(30.0, read=300.0)  # a label or a screening of a long file takes a while


def _error_classes() -> dict[str, type[SostenutoError]]:
    found: dict[str, type[SostenutoError]] = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, SostenutoError):
            found.setdefault(value.code, value)
    return found


_BY_STATUS: dict[int, type[SostenutoError]] = {
    401: errors.Unauthenticated,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    415: errors.UnsupportedFormat,
    422: errors.InvalidInput,
}


class Remote:
    """One server, one token; ``call`` answers parsed JSON (or bytes for other media)."""

    def __init__(
        self, server: str, token: str | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.server = server.rstrip("/")
        headers = {"User-Agent": f"sostenuto-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.server, headers=headers, timeout=TIMEOUT, transport=transport
        )
        self._operations: dict[str, tuple[str, str]] | None = None

    def operations(self) -> dict[str, tuple[str, str]]:
        """operationId → (method, path template), from the server's OpenAPI document."""
        if self._operations is None:
            document = self._send("GET", "/openapi.json")
            self._operations = {
                operation["operationId"]: (method.upper(), path)
                for path, item in document.get("paths", {}).items()
                for method, operation in item.items()
                if isinstance(operation, dict) and "operationId" in operation
            }
        return self._operations

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        json: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, object] | None = None,
        raw: bool = False,
    ) -> Any:
        """The operation's answer: parsed JSON, bytes for other media, or with ``raw`` the
        response itself (for answers whose headers matter)."""
        try:
            method, template = self.operations()[operation_id]
        except KeyError:
            raise NotFound(
                f"the server at {self.server} has no operation {operation_id!r}; "
                "it may run an older version of Sostenuto",
                details={"operation": operation_id},
            ) from None
        url = template.format(**{k: quote(str(v), safe="") for k, v in (path or {}).items()})
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        form = {k: str(v) for k, v in (data or {}).items() if v is not None} or None
        request: dict[str, Any] = {"params": params, "files": files, "data": form}
        if json is not None:  # orjson: dates and other values the API reads as strings
            request["content"] = orjson.dumps(json, default=str)
            request["headers"] = {"Content-Type": "application/json"}
        return self._send(method, url, raw=raw, **request)

    def _send(self, method: str, url: str, *, raw: bool = False, **request: Any) -> Any:
        try:
            response = self._client.request(method, url, **request)
        except httpx.TransportError as error:
            raise ServerUnavailable(
                f"cannot reach the server at {self.server}: {error}",
                details={"server": self.server},
            ) from None
        if response.status_code >= 400:
            raise _problem(response, self.server)
        if raw:
            return response
        media = response.headers.get("content-type", "")
        if "json" in media:
            return response.json()
        return response.content


def _query_value(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _problem(response: httpx.Response, server: str) -> SostenutoError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.reason_phrase or "no detail")
    if response.status_code >= 500:
        return ServerUnavailable(
            f"the server at {server} failed ({response.status_code}): {detail}",
            details={"server": server},
        )
    cls = _error_classes().get(str(body.get("code")), None) or _BY_STATUS.get(
        response.status_code, SostenutoError
    )
    details = body.get("details")
    extra = {"errors": body["errors"]} if "errors" in body else {}
    return cls(detail, details={**(details if isinstance(details, dict) else {}), **extra})
