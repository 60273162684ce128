"""Errors as pages for people: a browser asking for a page gets HTML that says what happened
and what to do; API clients and ``/api/`` paths keep their problem documents.

The problem handlers of ``api/problems.py`` stay the one place that maps errors to statuses:
each is wrapped here, and only its rendering changes (by content negotiation).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from sostenuto.api.problems import PROBLEM_MEDIA_TYPE

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

# What a person can do about each kind of failure.
_ADVICE: dict[int, str] = {
    401: "Sign in, then open this page again.",
    403: "Your account's role does not give access to this. Sign in with an account that has"
    " it, or ask your organisation's administrator.",
    404: "Check the address, or start again from the home page.",
    405: "Use the page's own form or links instead of typing this address.",
    409: "Someone changed this in the meantime. Reload the page to see its current state.",
    422: "Go back, correct the form and send it again.",
    429: "Too many attempts. Wait a few minutes before trying again.",
}
_SERVER_ADVICE = "Try again in a moment. If it keeps failing, tell the service's operator."


def wants_page(request: Request) -> bool:
    """A browser's request for a page: not an API path, and HTML accepted before JSON."""
    if request.url.path.startswith(("/api/", "/static/", "/.well-known/")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def advice(status: int) -> str:
    return _ADVICE.get(status, _SERVER_ADVICE if status >= 500 else _ADVICE[422])


def _as_page(request: Request, problem: Response) -> Response:
    from sostenuto.web import templates

    document: dict[str, Any] = orjson.loads(bytes(problem.body))
    status = problem.status_code
    headers = {
        key: value
        for key, value in problem.headers.items()
        if key.lower() not in {"content-type", "content-length"}
    }
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "title": str(document.get("title", "error")).capitalize(),
            "detail": document.get("detail", ""),
            "advice": advice(status),
            "errors": document.get("errors") or [],
        },
        status_code=status,
        headers=headers,
    )


def _wrapped(handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        answer = handler(request, exc)
        response = answer if isinstance(answer, Response) else await answer
        if response.media_type == PROBLEM_MEDIA_TYPE and wants_page(request):
            return _as_page(request, response)
        return response

    return handle


def install(app: FastAPI) -> None:
    """Wrap every problem handler already installed (call after ``problems.install``)."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _wrapped(handler)
