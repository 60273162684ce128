"""The only place where errors become HTTP responses: RFC 9457 problem details.

Every error the API answers with is a problem document (``application/problem+json``): the
domain errors of :mod:`sostenuto.errors`, request validation, an unknown route or method
(Starlette's ``HTTPException``) and, as a last resort, an unexpected failure. Whatever a
problem's details carry, the document is written: values JSON cannot hold exactly (integers
beyond 64 bits, bytes, sets, exceptions, lone surrogates, cycles) are rendered as text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sostenuto.api._routing import allowed_methods
from sostenuto.api.responses import FastJSONResponse
from sostenuto.errors import SostenutoError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://sostenuto.dev/problems/"

# What orjson writes as a number; anything outside is written as its decimal text.
_INT_RANGE = (-(2**63), 2**64 - 1)
# Deeper structures are cut (orjson refuses beyond 254 levels; a cycle never ends).
_MAX_DEPTH = 32
_TOO_DEEP = "(nested too deeply)"
# A request that breaks its schema a million times gets the first errors, and their count.
MAX_ERRORS = 100

_CODES = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "forbidden"}


def _text(value: str) -> str:
    """``value`` as valid UTF-8 (lone surrogates become backslash escapes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _describe(value: object) -> str:
    try:
        return _text(str(value))
    except Exception:  # a broken __str__ must not break the error answer
        return f"<{type(value).__name__}>"


def _sort_key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data that orjson always writes, exactly where JSON can."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value, depth)
    if isinstance(value, int):
        low, high = _INT_RANGE
        return int(value) if low <= value <= high else _big_integer(int(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, SostenutoError):
        return _describe(value.message)
    if isinstance(value, BaseException):
        return _describe(value)
    if depth >= _MAX_DEPTH:
        return _TOO_DEEP
    if isinstance(value, Mapping):
        return {_key(key): jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item, depth + 1) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item, depth + 1) for item in value), key=_sort_key)
    if isinstance(value, BaseModel):
        try:
            return jsonable(value.model_dump(), depth + 1)
        except Exception:
            return _describe(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        return jsonable(fields, depth + 1)
    return _describe(value)


def _big_integer(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # beyond Python's limit on integer-to-text conversion (4300 digits)
        return f"<an integer of {value.bit_length()} bits>"


def _key(key: Any) -> str:
    plain = jsonable(key, _MAX_DEPTH)
    return plain if isinstance(plain, str) else _describe(plain)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> FastJSONResponse:
    """A problem document; ``extra`` members (``details``, ``errors``) may hold any value."""
    body = {
        "type": f"{PROBLEM_BASE}{code}",
        "title": code.replace("-", " "),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return FastJSONResponse(
        jsonable(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=all_headers or None,
    )


async def _domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SostenutoError)
    return problem(exc.http_status, exc.code, exc.message, details=exc.details)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in found[:MAX_ERRORS]
    ]
    extra: dict[str, Any] = {"errors": errors}
    if len(found) > MAX_ERRORS:
        extra["errors_omitted"] = len(found) - MAX_ERRORS
    return problem(422, "invalid-input", "the request does not match its schema", **extra)


def _slug(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return phrase.lower().replace(" ", "-").replace("'", "")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors: no route for a path (404), a method it does not take (405)."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status in {204, 304} or status < 200:
        return Response(status_code=status, headers=exc.headers)
    code = _CODES.get(status) or _slug(status)
    detail = exc.detail if isinstance(exc.detail, str) else _describe(exc.detail)
    headers = dict(exc.headers or {})
    if status == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path}"
    elif status == 405:
        # Starlette names the methods of the first route at the path; a path served by
        # several routes (GET and POST apart) takes all of theirs.
        allowed = allowed_methods(request.app, request.scope["path"])
        if allowed:
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
            headers["Allow"] = ", ".join(allowed)
        if detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}" + (
                f"; allowed: {', '.join(allowed)}" if allowed else ""
            )
    return problem(status, code, detail, headers=headers)


async def _data_error(_request: Request, exc: Exception) -> Response:
    """The database refused a value of the request (SQLSTATE class 22: a NUL in text, a number
    out of range, text too long). The edge should have refused it (``api/params.py``); this is
    the net under it, so such a request is never a 500."""
    assert isinstance(exc, DataError)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
    return problem(
        422,
        "invalid-input",
        "the request holds a value the database cannot store" + (f": {reason}" if reason else ""),
    )


async def _unexpected(_request: Request, _exc: Exception) -> Response:
    """A failure no handler expected: still a problem document (the server logs the error)."""
    return problem(500, "internal-error", "the server failed to answer this request")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SostenutoError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)


# ------------------------------------------------------------------ the OpenAPI document

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "object"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
        "errors_omitted": {"type": "integer", "minimum": 1},
    },
}

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
_ERROR_RESPONSES = {
    "422": "The request does not match its schema, or breaks a rule of the service.",
    "4XX": "The caller's error: no or a bad token (401), a role that may not (403), nothing "
    "there (404), a conflict with what is stored (409), an unusable file (415).",
    "5XX": "The server's failure, or an optional dependency that is not installed (501).",
}
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Describe every operation's errors as what they are: problem documents.

    FastAPI documents a 422 body as its own ``HTTPValidationError``; this API answers with a
    problem document instead, and with one for every other error too.
    """
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for operations in openapi.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_RESPONSES.items():
                responses[status] = {"description": description, "content": _PROBLEM_CONTENT}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return openapi
