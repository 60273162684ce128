"""The only place where errors become HTTP responses: RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from sostenuto.api.responses import FastJSONResponse
from sostenuto.errors import SostenutoError

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, detail: str, **extra: Any) -> FastJSONResponse:
    body = {
        "type": f"https://sostenuto.dev/problems/{code}",
        "title": code.replace("-", " "),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return FastJSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


async def _domain_error(_request: Request, exc: Exception) -> FastJSONResponse:
    assert isinstance(exc, SostenutoError)
    return problem(exc.http_status, exc.code, exc.message, details=exc.details)


async def _validation_error(_request: Request, exc: Exception) -> FastJSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", "")} for error in exc.errors()
    ]
    return problem(422, "invalid-input", "the request does not match its schema", errors=errors)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SostenutoError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
