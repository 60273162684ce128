"""Licensees' webhook subscriptions: made, listed, deleted, and their deliveries listed.

The secret that signs deliveries is returned once, when the subscription is made, and stored
sealed (``_secrets``); listings never show it. A licensee sees and deletes its own
subscriptions only: another licensee's do not exist for it (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, allowed, authorize
from sostenuto.declarations._egress import check_named_public
from sostenuto.declarations._secrets import SecretBox
from sostenuto.declarations._signing import new_secret
from sostenuto.errors import Conflict, InvalidInput, NotFound
from sostenuto.storage.models.declarations import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sostenuto.storage.models.registry import Licensee
from sostenuto.storage.paging import DEFAULT_LIMIT, check_limit

MAX_SUBSCRIPTIONS = 10  # per licensee
MAX_URL = 2000


@dataclass(frozen=True)
class Subscription:
    id: int
    licensee_id: int
    url: str
    created_at: dt.datetime
    created_by: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "licensee_id": self.licensee_id,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def _view(row: WebhookSubscription) -> Subscription:
    return Subscription(row.id, row.licensee_id, row.url, row.created_at, row.created_by)


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"invalid webhook url {url[:100]!r}: an absolute http:// or https:// URL",
            details={"field": "url"},
        )
    if len(url) > MAX_URL:
        raise InvalidInput(f"the webhook url is longer than {MAX_URL} characters")
    if parts.username or parts.password:
        raise InvalidInput("a webhook url carries no user name or password: deliveries are signed")
    return url


def _licensee(principal: Principal, licensee_id: int | None) -> int:
    licensee_id = licensee_id if licensee_id is not None else principal.licensee_id
    if licensee_id is None:
        raise InvalidInput("name the licensee_id", details={"field": "licensee_id"})
    authorize(principal, "webhook.manage", licensee_id=licensee_id)
    return licensee_id


def add_subscription(
    session: Session,
    principal: Principal,
    *,
    url: str,
    licensee_id: int | None = None,
    private_networks: bool = False,
    box: SecretBox | None = None,
) -> tuple[Subscription, str]:
    """Subscribe ``url`` to the licensee's revocation feed; returns it and its secret.

    A URL whose host is written as a loopback or private address is refused unless
    ``private_networks`` (the delivery policy's) allows it; names are checked when sending.
    The secret is stored sealed by ``box`` (the application's); plain only without one.
    """
    licensee_id = _licensee(principal, licensee_id)
    url = _check_url(url)
    if not private_networks:
        check_named_public(url)
    if session.get(Licensee, licensee_id) is None:
        raise NotFound(f"no licensee with id {licensee_id}")
    active = session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.licensee_id == licensee_id, WebhookSubscription.active)
    )
    if (active or 0) >= MAX_SUBSCRIPTIONS:
        raise Conflict(
            f"licensee {licensee_id} has {MAX_SUBSCRIPTIONS} webhook subscriptions, the most"
            " allowed: delete one first"
        )
    secret = new_secret()
    row = WebhookSubscription(
        licensee_id=licensee_id,
        url=url,
        secret=box.seal(secret) if box else secret,
        active=True,
        created_at=dt.datetime.now(dt.UTC),
        created_by=principal.name[:200],
    )
    session.add(row)
    session.flush()
    return _view(row), secret


def list_subscriptions(
    session: Session, principal: Principal, licensee_id: int | None = None
) -> list[Subscription]:
    """The licensee's active subscriptions, oldest first (without their secrets)."""
    licensee_id = _licensee(principal, licensee_id)
    rows = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.licensee_id == licensee_id, WebhookSubscription.active)
        .order_by(WebhookSubscription.id)
    )
    return [_view(row) for row in rows]


def _own(session: Session, principal: Principal, subscription_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if (
        row is None
        or not row.active
        or not allowed(principal, "webhook.manage", licensee_id=row.licensee_id)
    ):
        raise NotFound(f"no webhook subscription {subscription_id}")
    return row


def delete_subscription(session: Session, principal: Principal, subscription_id: int) -> None:
    """End a subscription: nothing more is delivered to it; its deliveries stay listable."""
    row = _own(session, principal, subscription_id)
    row.active = False
    row.deleted_at = dt.datetime.now(dt.UTC)


def list_deliveries(
    session: Session, principal: Principal, subscription_id: int, limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """A subscription's deliveries, newest first, each with its attempts."""
    check_limit(limit)
    row = _own(session, principal, subscription_id)
    deliveries = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == row.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.change_index.desc())
            .limit(limit)
        )
    )
    attempts: dict[str, list[dict[str, Any]]] = {d.id: [] for d in deliveries}
    if deliveries:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
        ):
            attempts[attempt.delivery_id].append(
                {
                    "number": attempt.number,
                    "attempted_at": attempt.attempted_at.isoformat(),
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                }
            )
    return [
        {
            "id": delivery.id,
            "change_index": delivery.change_index,
            "status": delivery.status,
            "attempts": attempts[delivery.id],
            "created_at": delivery.created_at.isoformat(),
            "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        }
        for delivery in deliveries
    ]
