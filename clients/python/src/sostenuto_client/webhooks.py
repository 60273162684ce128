"""Checking a webhook delivery from Sostenuto (Standard Webhooks signatures).

Each delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256>``, space-separated when there are several)
over ``<id>.<timestamp>.<body>``, keyed with the secret the subscription was given
(``whsec_<base64>``). :func:`verify` returns nothing or raises; verify the raw body bytes,
before parsing them::

    from sostenuto_client import webhooks

    webhooks.verify(secret, request.headers, await request.body())
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from sostenuto_client._errors import SostenutoClientError

__all__ = ["InvalidSignature", "StaleTimestamp", "WebhookVerificationError", "verify"]

SECRET_PREFIX = "whsec_"


class WebhookVerificationError(SostenutoClientError):
    """A delivery that cannot be trusted: refuse it (answer 4xx, do not act on it)."""


class InvalidSignature(WebhookVerificationError):
    """The headers are missing or malformed, or no signature matches the body."""


class StaleTimestamp(WebhookVerificationError):
    """The timestamp is further from now than the tolerance allows (a replay, or a clock)."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise InvalidSignature(f"the delivery has no {name} header")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature("the secret is not a whsec_ secret (base64 after whsec_)") from None


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise :class:`InvalidSignature` or :class:`StaleTimestamp` unless the delivery was
    signed with ``secret`` within ``tolerance`` seconds of ``now`` (default: the clock)."""
    message_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature(f"webhook-timestamp {stamp[:40]!r} is not Unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise StaleTimestamp(
            f"webhook-timestamp {timestamp} is {int(current - timestamp)} s from now;"
            f" at most {tolerance} s is accepted"
        )
    raw = body.encode() if isinstance(body, str) else body
    signed = f"{message_id}.{timestamp}.".encode() + raw
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise InvalidSignature("no v1 signature of the delivery matches its body and the secret")
