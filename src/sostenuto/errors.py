"""The one error tree of Sostenuto.

Every error a user can cause or meet derives from :class:`SostenutoError` and carries a stable
``code``. The HTTP API maps them to RFC 9457 problem details in ``api/problems.py`` and the CLI
maps them to exit codes in ``cli/main.py``; nothing else catches them wholesale.
"""

from __future__ import annotations

from typing import Any


class SostenutoError(Exception):
    """Root of every error Sostenuto raises on purpose."""

    code: str = "error"
    http_status: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def diagnostics(self) -> str:
        """A human-readable account of the error, with its details one per line."""
        lines = [f"{self.code}: {self.message}"]
        lines.extend(f"  {key}: {value}" for key, value in self.details.items())
        return "\n".join(lines)


class InvalidInput(SostenutoError):
    """Input that is malformed or breaks a rule (bad ISRC, unknown territory, ...)."""

    code = "invalid-input"
    http_status = 422
    exit_code = 10  # 2 is a usage error (an unknown option), the convention of every shell


class NotFound(SostenutoError):
    """A referenced entity does not exist (or is not visible to the caller)."""

    code = "not-found"
    http_status = 404
    exit_code = 3


class Conflict(SostenutoError):
    """The request contradicts what is stored (overlapping mandate, duplicate, ...)."""

    code = "conflict"
    http_status = 409
    exit_code = 4


class Unauthenticated(SostenutoError):
    """No valid credentials were presented."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 5


class Forbidden(SostenutoError):
    """The caller's role does not allow the action."""

    code = "forbidden"
    http_status = 403
    exit_code = 6


class IntegrityFailure(SostenutoError):
    """Stored or presented data fails verification (bad proof, bad signature, torn log)."""

    code = "integrity-failure"
    http_status = 422
    exit_code = 7


class UnsupportedFormat(SostenutoError):
    """A file format cannot carry what was asked (e.g. a label layer) or cannot be read."""

    code = "unsupported-format"
    http_status = 415
    exit_code = 8


class DependencyMissing(SostenutoError):
    """An optional tool or package needed for this operation is not installed."""

    code = "dependency-missing"
    http_status = 501
    exit_code = 9


class Denied(SostenutoError):
    """A decision denied what was asked; an error only where the caller said so
    (``--fail-on-deny``), so that a script stops."""

    code = "denied"
    http_status = 403
    exit_code = 11


class ServerUnavailable(SostenutoError):
    """The remote server could not be reached or failed to answer (a 5xx)."""

    code = "server-unavailable"
    http_status = 502
    exit_code = 12
