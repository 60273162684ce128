"""Delivering the revocation feed to webhooks: in process, in background threads.

After a consent change is appended to the log (its transaction committed), each active
subscription whose licensee's declared files the change touches gets one delivery: the feed
of that one change, POSTed and signed (Standard Webhooks). A failed attempt (no answer, or
an answer other than 2xx) is retried with exponential backoff, up to a bounded number of
attempts; every attempt is recorded. One delivery per (subscription, change entry), held by
a unique key, so a change published twice, or seen by two processes, is delivered once.
Deliveries in flight when the process stops are not resumed.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sostenuto.declarations._changes import feed_window
from sostenuto.declarations._signing import signed_headers
from sostenuto.storage import Database
from sostenuto.storage.models.declarations import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try: ``attempts`` in all, waiting ``first_delay_s`` after the first
    failure and ``factor`` times longer after each next one."""

    attempts: int = 5
    first_delay_s: float = 1.0
    factor: float = 2.0
    timeout_s: float = 10.0

    def delay(self, failed: int) -> float:
        """The wait after the ``failed``-th failed attempt."""
        return float(self.first_delay_s * self.factor ** (failed - 1))


DEFAULT_POLICY = DeliveryPolicy()
_policies: weakref.WeakKeyDictionary[Database, DeliveryPolicy] = weakref.WeakKeyDictionary()
_threads: set[threading.Thread] = set()
_lock = threading.Lock()


def set_delivery_policy(database: Database, policy: DeliveryPolicy) -> None:
    """Use ``policy`` for the deliveries of changes in ``database``."""
    _policies[database] = policy


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _start(target: object, *args: object) -> None:
    thread = threading.Thread(target=target, args=args, daemon=True, name="sostenuto-webhook")  # type: ignore[arg-type]
    with _lock:
        _threads.add(thread)
    thread.start()


def wait_for_deliveries(timeout_s: float = 30.0) -> bool:
    """Wait until the deliveries in flight are done; False if some still run after
    ``timeout_s`` (for tests and an orderly shutdown)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with _lock:
            running = [thread for thread in _threads if thread.is_alive()]
            _threads.intersection_update(running)
        if not running:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        running[0].join(timeout=left)


def notify_changes(database: Database, change_indexes: Sequence[int]) -> None:
    """Deliver the consent changes at ``change_indexes`` to the webhooks they concern.

    Called after the change is committed; returns at once (the work runs in a background
    thread) and never raises: a failure to deliver must not undo a change already made.
    """
    if not change_indexes:
        return
    try:
        with database.reader() as session:
            anyone = session.scalar(
                select(WebhookSubscription.id).where(WebhookSubscription.active).limit(1)
            )
    except Exception:
        log.exception("could not look up webhook subscriptions")
        return
    if anyone is not None:
        _start(_prepare, database, sorted(set(change_indexes)))


def _prepare(database: Database, change_indexes: list[int]) -> None:
    """Compute each concerned subscription's message, store it once, then send it."""
    try:
        with database.reader() as session:
            subscriptions = [
                (row.id, row.licensee_id, row.url, row.secret)
                for row in session.scalars(
                    select(WebhookSubscription).where(WebhookSubscription.active)
                )
            ]
        for index in change_indexes:
            feeds: dict[int, bytes | None] = {}
            for subscription_id, licensee_id, url, secret in subscriptions:
                if licensee_id not in feeds:
                    with database.reader() as session:
                        feed = feed_window(session, licensee_id, index, index + 1, 1)
                    feeds[licensee_id] = orjson.dumps(feed.as_json()) if feed.touched else None
                body = feeds[licensee_id]
                if body is None:
                    continue
                message_id = _store(database, subscription_id, index, body)
                if message_id is not None:
                    _start(_send, database, message_id, url, secret, body)
    except Exception:
        log.exception("could not prepare webhook deliveries for log entries %s", change_indexes)


def _store(database: Database, subscription_id: int, index: int, body: bytes) -> str | None:
    """The new delivery's message id, or None when this change was delivered here before."""
    try:
        with database.transaction() as session:
            known = session.scalar(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.change_index == index,
                )
            )
            if known is not None:
                return None
            message_id = "msg_" + secrets.token_hex(16)
            session.add(
                WebhookDelivery(
                    id=message_id,
                    subscription_id=subscription_id,
                    change_index=index,
                    body=body.decode(),
                    status="pending",
                    attempts=0,
                    created_at=_now(),
                )
            )
        return message_id
    except IntegrityError:
        return None  # another thread or process stored it first: it delivers it


def _attempt(
    client: httpx.Client, url: str, secret: str, message_id: str, body: bytes
) -> tuple[int | None, str | None]:
    headers = signed_headers(secret, message_id, int(time.time()), body)
    try:
        answer = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"the receiver answered {answer.status_code}"


def _send(database: Database, message_id: str, url: str, secret: str, body: bytes) -> None:
    policy = _policies.get(database, DEFAULT_POLICY)
    try:
        with httpx.Client(timeout=policy.timeout_s, follow_redirects=False) as client:
            for number in range(1, policy.attempts + 1):
                started = time.monotonic()
                at = _now()
                status_code, error = _attempt(client, url, secret, message_id, body)
                done = error is None
                with database.transaction() as session:
                    session.add(
                        WebhookAttempt(
                            delivery_id=message_id,
                            number=number,
                            attempted_at=at,
                            status_code=status_code,
                            error=error,
                            duration_ms=int((time.monotonic() - started) * 1000),
                        )
                    )
                    delivery = session.get(WebhookDelivery, message_id)
                    assert delivery is not None
                    delivery.attempts = number
                    if done:
                        delivery.status, delivery.delivered_at = "delivered", _now()
                    elif number == policy.attempts:
                        delivery.status = "failed"
                if done:
                    return
                if number < policy.attempts:
                    time.sleep(policy.delay(number))
    except Exception:
        log.exception("webhook delivery %s failed", message_id)
