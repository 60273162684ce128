"""Delivering the revocation feed to webhooks: in process, in background threads.

After a consent change is appended to the log (its transaction committed), each active
subscription whose licensee's declared files the change touches gets one delivery: the feed
of that one change, POSTed and signed (Standard Webhooks). A failed attempt (no answer, or
an answer other than 2xx) is retried with exponential backoff, up to a bounded number of
attempts; every attempt is recorded. One delivery per (subscription, change entry), held by
a unique key, so a change published twice, or seen by two processes, is delivered once.

Deliveries a stopped process left unfinished are resumed (:func:`resume_deliveries`, when
the application starts and whenever a change is delivered) once they have been quiet for
longer than a live sender could be: delivery is at least once, and receivers dedupe by the
``webhook-id`` header as Standard Webhooks asks. Deliveries go to public addresses only
(:mod:`sostenuto.declarations._egress`) unless the policy allows private networks.
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
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from sostenuto.declarations._changes import feed_window
from sostenuto.declarations._egress import PrivateAddress, check_public
from sostenuto.declarations._secrets import is_sealed, secret_box
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
    # Loopback, private, link-local and other non-public receivers: off unless a private
    # deployment asks (SOSTENUTO_WEBHOOK_PRIVATE_NETWORKS), so a subscriber cannot make
    # the service call into its own network.
    allow_private_networks: bool = False

    def delay(self, failed: int) -> float:
        """The wait after the ``failed``-th failed attempt."""
        return float(self.first_delay_s * self.factor ** (failed - 1))

    def quiet_s(self) -> float:
        """How long a live sender can go without recording an attempt: a delivery quiet
        for longer was left by a process that stopped."""
        waits = sum(self.delay(n) for n in range(1, self.attempts))
        return waits + 2 * self.timeout_s + 60.0


DEFAULT_POLICY = DeliveryPolicy()
_policies: weakref.WeakKeyDictionary[Database, DeliveryPolicy] = weakref.WeakKeyDictionary()
_threads: set[threading.Thread] = set()
_lock = threading.Lock()


def set_delivery_policy(database: Database, policy: DeliveryPolicy) -> None:
    """Use ``policy`` for the deliveries of changes in ``database``."""
    _policies[database] = policy


def delivery_policy(database: Database) -> DeliveryPolicy:
    """The policy the deliveries of changes in ``database`` follow."""
    return _policies.get(database, DEFAULT_POLICY)


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
        resume_deliveries(database)


def resume_deliveries(database: Database, now: dt.datetime | None = None) -> int:
    """Send on the deliveries left pending by a process that stopped; how many were taken.

    A delivery counts as left when nothing has happened to it (made, or an attempt) for
    longer than :meth:`DeliveryPolicy.quiet_s`. It is taken by a conditional update on its
    status and attempt count, so of several processes resuming at once one sends it. Never
    raises: resuming is best effort, like delivering.
    """
    policy = delivery_policy(database)
    cutoff = (now or _now()) - dt.timedelta(seconds=policy.quiet_s())
    try:
        with database.reader() as session:
            last_attempt = (
                select(
                    WebhookAttempt.delivery_id,
                    func.max(WebhookAttempt.attempted_at).label("at"),
                )
                .group_by(WebhookAttempt.delivery_id)
                .subquery()
            )
            left = session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.status,
                    WebhookDelivery.attempts,
                    WebhookDelivery.body,
                    WebhookSubscription.url,
                    WebhookSubscription.secret,
                )
                .join(
                    WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id
                )
                .outerjoin(last_attempt, last_attempt.c.delivery_id == WebhookDelivery.id)
                .where(WebhookDelivery.status.in_(("pending", "retrying")))
                .where(WebhookSubscription.active)
                # Quiet since it was made or last tried.
                .where(func.coalesce(last_attempt.c.at, WebhookDelivery.created_at) < cutoff)
            ).all()
    except Exception:
        log.exception("could not look up webhook deliveries to resume")
        return 0
    taken = 0
    for message_id, status, attempts, body, url, secret in left:
        opened = _opened(database, secret)
        if opened is None or not _take(database, message_id, status, attempts):
            continue
        taken += 1
        _start(_send, database, message_id, url, opened, body.encode(), attempts + 1)
    return taken


def _opened(database: Database, stored: str) -> str | None:
    """The signing secret, or None where it is sealed and this process has not the key (a
    CLI process that published a change): the delivery stays pending for the service."""
    if not is_sealed(stored):
        return stored
    box = secret_box(database)
    if box is None:
        return None
    try:
        return box.open(stored)
    except Exception:
        log.exception("cannot open a webhook secret")
        return None


def _take(database: Database, message_id: str, status: str, attempts: int) -> bool:
    try:
        with database.transaction() as session:
            result = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == message_id,
                    WebhookDelivery.status == status,
                    WebhookDelivery.attempts == attempts,
                )
                .values(status="retrying")
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
    except Exception:
        log.exception("could not take webhook delivery %s", message_id)
        return False


def _prepare(database: Database, change_indexes: list[int]) -> None:
    """Compute each concerned subscription's message, store it once, then send it."""
    try:
        with database.reader() as session:
            subscriptions = [
                (row.id, row.licensee_id, row.url, _opened(database, row.secret))
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
                # Without the key (secret None) the stored delivery is left to the service.
                if message_id is not None and secret is not None:
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
    client: httpx.Client,
    url: str,
    secret: str,
    message_id: str,
    body: bytes,
    policy: DeliveryPolicy,
) -> tuple[int | None, str | None, bool]:
    """The receiver's status code, the error if the attempt failed, and whether trying
    again could help (not for an address the policy refuses)."""
    headers = signed_headers(secret, message_id, int(time.time()), body)
    try:
        if not policy.allow_private_networks:
            check_public(url)
        answer = client.post(url, content=body, headers=headers)
    except PrivateAddress as refused:
        return None, str(refused)[:500], False
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500], True
    if 200 <= answer.status_code < 300:
        return answer.status_code, None, False
    return answer.status_code, f"the receiver answered {answer.status_code}", True


def _send(
    database: Database, message_id: str, url: str, secret: str, body: bytes, first: int = 1
) -> None:
    policy = delivery_policy(database)
    try:
        with httpx.Client(timeout=policy.timeout_s, follow_redirects=False) as client:
            for number in range(first, max(first, policy.attempts) + 1):
                started = time.monotonic()
                at = _now()
                status_code, error, retry = _attempt(client, url, secret, message_id, body, policy)
                done = error is None
                last = number >= policy.attempts or not retry
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
                    elif last:
                        delivery.status = "failed"
                if done or last:
                    return
                if number < policy.attempts:
                    time.sleep(policy.delay(number))
    except Exception:
        log.exception("webhook delivery %s failed", message_id)
