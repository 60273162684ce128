"""Errors: an RFC 9457 problem document from the server becomes the exception of its ``code``.

Branch on the class (or ``code``), never on ``detail``, which is written for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SostenutoClientError(Exception):
    """Every error this package raises."""


class UsageError(SostenutoClientError, ValueError):
    """The caller passed something the client refuses before any request is made."""


class ConnectionFailed(SostenutoClientError):
    """The server could not be reached (after the retries allowed)."""


class ProblemError(SostenutoClientError):
    """A problem document answered by the server (``type``, ``title``, ``status``, ``detail``,
    ``code``, ``details``; ``errors`` for request validation failures)."""

    code = "problem"

    def __init__(self, problem: Mapping[str, Any], *, operation: str = "") -> None:
        self.problem = dict(problem)
        self.type: str = str(problem.get("type", "about:blank"))
        self.title: str = str(problem.get("title", ""))
        self.status: int = int(problem.get("status", 0))
        self.detail: str = str(problem.get("detail", ""))
        self.code = str(problem.get("code", self.code))
        self.details: dict[str, Any] = dict(problem.get("details") or {})
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        self.operation = operation
        where = f"{operation}: " if operation else ""
        super().__init__(f"{where}{self.status} {self.code}: {self.detail or self.title}")


class InvalidInput(ProblemError):
    code = "invalid-input"


class NotFound(ProblemError):
    code = "not-found"


class Conflict(ProblemError):
    code = "conflict"


class Unauthenticated(ProblemError):
    code = "unauthenticated"


class Forbidden(ProblemError):
    code = "forbidden"


class IntegrityFailure(ProblemError):
    code = "integrity-failure"


class UnsupportedFormat(ProblemError):
    code = "unsupported-format"


class DependencyMissing(ProblemError):
    code = "dependency-missing"


class RateLimited(ProblemError):
    code = "too-many-requests"


class ServerError(ProblemError):
    code = "server-error"


_BY_CODE: dict[str, type[ProblemError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        NotFound,
        Conflict,
        Unauthenticated,
        Forbidden,
        IntegrityFailure,
        UnsupportedFormat,
        DependencyMissing,
        RateLimited,
    )
}
_BY_STATUS: dict[int, type[ProblemError]] = {
    400: InvalidInput,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: UnsupportedFormat,
    422: InvalidInput,
    429: RateLimited,
}


def problem_error(problem: Mapping[str, Any], *, operation: str = "") -> ProblemError:
    """The exception for a problem document: by its ``code``, else by its HTTP status."""
    status = int(problem.get("status", 0) or 0)
    cls = _BY_CODE.get(str(problem.get("code", ""))) or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ProblemError
    return cls(problem, operation=operation)
