"""Webhooks over HTTP: subscriptions, signed deliveries to a real local receiver, retries,
one delivery per change; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sostenuto_client import webhooks

from sostenuto.api import create_app
from sostenuto.auth import Principal
from sostenuto.consent import forget_snapshots
from sostenuto.declarations import (
    DeliveryPolicy,
    SecretBox,
    add_subscription,
    box_from_settings,
    resume_deliveries,
    secret_box,
    set_delivery_policy,
    signature,
    use_secret_box,
    wait_for_deliveries,
)
from sostenuto.errors import IntegrityFailure
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.declarations.revocations import EFFECTIVE, LUCIA_ONLY, USE, Corpus, declare_corpus

AURORA = "licensee:Aurora Audio Labs"
CADENZA = "licensee:Cadenza Stream"
AIE = "cmo-admin:AIE"
AURORA_LAB = Principal(name="aurora-lab", role="licensee", licensee_id=1)  # demo licensee 1
LOOPBACK_POLICY = DeliveryPolicy(
    attempts=3, first_delay_s=0.05, timeout_s=5, allow_private_networks=True
)


@dataclass
class Receiver:
    """A webhook receiver on a loopback port: answers ``statuses`` in turn (then 200) and
    keeps every request it got."""

    statuses: list[int] = field(default_factory=list)
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            found.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(found.answer())
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sostenuto"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    corpus: Corpus
    database: Database

    def call(self, who: str, method: str, path: str, **options: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, path, headers=headers, **options)


@pytest.fixture
def world(database: Database, settings: Settings) -> Iterator[World]:
    forget_snapshots()
    with database.transaction() as session:
        tokens = load_demo(session)
    corpus = declare_corpus(database, settings)
    # The receivers here listen on loopback: a private network, allowed for this deployment.
    set_delivery_policy(database, LOOPBACK_POLICY)
    client = TestClient(create_app(settings, database))
    yield World(client, tokens, corpus, database)
    assert wait_for_deliveries(30)
    forget_snapshots()


def _subscribe(world: World, who: str, url: str) -> dict[str, Any]:
    made = world.call(who, "POST", "/api/v1/webhooks", json={"url": url})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _prohibit_lucia(world: World) -> dict[str, Any]:
    made = world.call(
        AIE,
        "POST",
        "/api/v1/consent/rules/prohibit",
        json={
            "scope": "performer",
            "scope_id": world.corpus.performer_id,
            "uses": [USE],
            "territories": ["WW"],
            "valid_from": EFFECTIVE.isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    assert wait_for_deliveries(30)
    return dict(made.json())


def test_a_change_is_delivered_signed_with_the_feed(world: World, receiver: Receiver) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    assert subscription["secret"].startswith("whsec_")
    rule = _prohibit_lucia(world)
    [(headers, body)] = receiver.got
    webhooks.verify(subscription["secret"], headers, body)
    message = json.loads(body)
    index = rule["log_entry"]["index"]
    assert [change["index"] for change in message["changes"]] == [index]
    [manifest] = message["manifests"]
    assert [item["isrc"] for item in manifest["revoked"]] == [LUCIA_ONLY]
    assert manifest["revoked"][0]["from"] == EFFECTIVE.isoformat()
    # The same body as the feed gives for that change.
    feed = world.call(AURORA, "GET", "/api/v1/changes", params={"since": index}).json()
    assert feed["manifests"] == message["manifests"]
    assert feed["changes"] == message["changes"]


def test_a_tampered_or_stale_delivery_fails_verification(world: World, receiver: Receiver) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    _prohibit_lucia(world)
    [(headers, body)] = receiver.got
    secret = subscription["secret"]
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(secret, headers, body.replace(LUCIA_ONLY.encode(), b"ESA7Q2400002"))
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(_subscribe(world, AURORA, receiver.url)["secret"], headers, body)
    with pytest.raises(webhooks.InvalidSignature, match="webhook-signature"):
        webhooks.verify(
            secret, {k: v for k, v in headers.items() if k != "webhook-signature"}, body
        )
    stamp = int(headers["webhook-timestamp"])
    with pytest.raises(webhooks.StaleTimestamp):
        webhooks.verify(secret, headers, body, now=stamp + 301)
    webhooks.verify(secret, headers, body, now=stamp + 299)
    # A replay with a fresh timestamp but the old signature does not pass either.
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(
            secret, {**headers, "webhook-timestamp": str(stamp + 60)}, body, now=stamp + 60
        )
    assert signature(secret, headers["webhook-id"], stamp, body) == headers["webhook-signature"]


def test_a_receiver_that_fails_twice_gets_the_third_attempt(
    world: World, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    subscription = _subscribe(world, AURORA, receiver.url)
    _prohibit_lucia(world)
    assert len(receiver.got) == 3
    ids = {headers["webhook-id"] for headers, _ in receiver.got}
    assert len(ids) == 1  # one message, tried three times
    for headers, body in receiver.got:
        webhooks.verify(subscription["secret"], headers, body)
    listed = world.call(AURORA, "GET", f"/api/v1/webhooks/{subscription['id']}/deliveries")
    [delivery] = listed.json()
    assert delivery["id"] in ids and delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["error"] == "the receiver answered 500"


def test_a_receiver_that_never_answers_is_given_up_after_the_bounded_attempts(
    world: World,
) -> None:
    subscription = _subscribe(world, AURORA, "http://127.0.0.1:9/nobody")
    _prohibit_lucia(world)
    listed = world.call(AURORA, "GET", f"/api/v1/webhooks/{subscription['id']}/deliveries")
    [delivery] = listed.json()
    assert delivery["status"] == "failed"
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    assert all(a["status_code"] is None and a["error"] for a in delivery["attempts"])


def test_a_change_is_delivered_once_and_only_where_it_touches(
    world: World, receiver: Receiver
) -> None:
    aurora = _subscribe(world, AURORA, receiver.url)
    cadenza = _subscribe(world, CADENZA, receiver.url + "/cadenza")
    rule = _prohibit_lucia(world)
    # Declared again: the same leaf, the same change; nothing is delivered twice.
    again = world.call(AIE, "POST", f"/api/v1/consent/rules/{rule['id']}/publish")
    assert again.status_code == 200, again.text
    assert again.json()["index"] == rule["log_entry"]["index"]
    assert wait_for_deliveries(30)
    assert len(receiver.got) == 1
    assert world.call(AURORA, "GET", f"/api/v1/webhooks/{aurora['id']}/deliveries").json()
    assert world.call(CADENZA, "GET", f"/api/v1/webhooks/{cadenza['id']}/deliveries").json() == []


def test_subscriptions_are_the_licensees_own_and_the_secret_is_shown_once(
    world: World, receiver: Receiver
) -> None:
    made = _subscribe(world, AURORA, receiver.url)
    listed = world.call(AURORA, "GET", "/api/v1/webhooks").json()
    assert [s["id"] for s in listed] == [made["id"]]
    assert "secret" not in listed[0] and made["secret"] not in json.dumps(listed)
    assert world.call(CADENZA, "GET", "/api/v1/webhooks").json() == []
    # Another licensee's subscription does not exist for Cadenza.
    path = f"/api/v1/webhooks/{made['id']}"
    assert world.call(CADENZA, "DELETE", path).status_code == 404
    assert world.call(CADENZA, "GET", f"{path}/deliveries").status_code == 404
    assert world.call(AURORA, "DELETE", path).json() == {"id": made["id"], "deleted": True}
    assert world.call(AURORA, "GET", "/api/v1/webhooks").json() == []
    _prohibit_lucia(world)
    assert receiver.got == []  # deleted: nothing delivered


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://ml.example/hook", "http:// or https://"),
        ("/relative/hook", "http:// or https://"),
        ("https://user:pw@ml.example/hook", "no user name or password"),
    ],
)
def test_a_bad_url_is_refused_with_the_reason(world: World, url: str, says: str) -> None:
    refused = world.call(AURORA, "POST", "/api/v1/webhooks", json={"url": url})
    assert refused.status_code == 422
    assert says in refused.json()["detail"]


def test_the_backoff_doubles() -> None:
    policy = DeliveryPolicy()
    assert [policy.delay(n) for n in range(1, policy.attempts)] == [1.0, 2.0, 4.0, 8.0]


def _delivery(world: World, subscription: dict[str, Any]) -> dict[str, Any]:
    path = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    [delivery] = world.call(AURORA, "GET", path).json()
    return dict(delivery)


PRIVATE_HOSTS = [
    "127.0.0.1",
    "10.1.2.3",
    "169.254.169.254",
    "192.168.0.7",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "localhost",
    "hooks.localhost",
    "0.0.0.0",
]


def test_a_receiver_on_a_private_network_is_refused_by_default(world: World) -> None:
    set_delivery_policy(world.database, DeliveryPolicy())
    for host in PRIVATE_HOSTS:
        url = f"http://{host}/h"
        refused = world.call(AURORA, "POST", "/api/v1/webhooks", json={"url": url})
        assert refused.status_code == 422, (host, refused.text)
        assert "public" in refused.json()["detail"], host
    assert world.call(AURORA, "GET", "/api/v1/webhooks").json() == []


def test_a_name_that_turns_private_is_refused_when_sending_and_not_retried(
    world: World, receiver: Receiver
) -> None:
    subscription = _subscribe(world, AURORA, receiver.url.replace("127.0.0.1", "localhost"))
    set_delivery_policy(world.database, DeliveryPolicy(attempts=3, first_delay_s=0.05))
    _prohibit_lucia(world)
    delivery = _delivery(world, subscription)
    assert receiver.got == []
    assert delivery["status"] == "failed"
    [attempt] = delivery["attempts"]
    assert "not a public address" in attempt["error"]


def _leave_pending(world: World, subscription: dict[str, Any], age_s: float) -> str:
    """A delivery as a process that stopped after one failed attempt leaves it."""
    from sostenuto.storage.models.declarations import WebhookAttempt, WebhookDelivery

    body = json.dumps({"changes": [], "manifests": [], "checkpoint": 1}).encode()
    then = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)
    with world.database.transaction() as session:
        session.add(
            WebhookDelivery(
                id="msg_left",
                subscription_id=subscription["id"],
                change_index=10_000,
                body=body.decode(),
                status="pending",
                attempts=1,
                created_at=then,
            )
        )
        session.flush()
        session.add(
            WebhookAttempt(
                delivery_id="msg_left",
                number=1,
                attempted_at=then,
                status_code=503,
                error="the receiver answered 503",
                duration_ms=3,
            )
        )
    return "msg_left"


def test_a_delivery_left_by_a_stopped_process_is_resumed_once_at_start(
    world: World, receiver: Receiver, settings: Settings
) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    message_id = _leave_pending(world, subscription, age_s=LOOPBACK_POLICY.quiet_s() + 5)
    # A restarted service (a new application over the same database) sends it on.
    create_app(settings, world.database)
    assert wait_for_deliveries(30)
    [(headers, body)] = receiver.got
    assert headers["webhook-id"] == message_id
    webhooks.verify(subscription["secret"], headers, body)
    delivery = _delivery(world, subscription)
    assert delivery["status"] == "delivered"
    assert [a["number"] for a in delivery["attempts"]] == [1, 2]
    # Taken once: resuming again finds nothing left.
    assert resume_deliveries(world.database) == 0
    assert wait_for_deliveries(30) and len(receiver.got) == 1


def test_a_delivery_a_live_sender_may_still_hold_is_not_taken(
    world: World, receiver: Receiver
) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    _leave_pending(world, subscription, age_s=LOOPBACK_POLICY.quiet_s() - 30)
    assert resume_deliveries(world.database) == 0
    assert wait_for_deliveries(30) and receiver.got == []
    assert _delivery(world, subscription)["status"] == "pending"


def _stored_secret(world: World, subscription_id: int) -> str:
    from sostenuto.storage.models.declarations import WebhookSubscription

    with world.database.reader() as session:
        row = session.get(WebhookSubscription, subscription_id)
        assert row is not None
        return row.secret


def test_the_secret_is_stored_sealed_under_the_services_key(
    world: World, receiver: Receiver, settings: Settings
) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    stored = _stored_secret(world, subscription["id"])
    assert stored.startswith("sealed:v1:") and subscription["secret"] not in stored
    key = settings.keys_dir / "webhook-secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600
    # A copy of the database with another key cannot sign anything.
    with pytest.raises(IntegrityFailure, match="another key"):
        SecretBox(os.urandom(32)).open(stored)
    assert box_from_settings(settings).open(stored) == subscription["secret"]
    _prohibit_lucia(world)
    [(headers, body)] = receiver.got
    webhooks.verify(subscription["secret"], headers, body)


def test_a_secret_stored_before_sealing_still_signs(world: World, receiver: Receiver) -> None:
    with world.database.transaction() as session:
        made, secret = add_subscription(
            session, AURORA_LAB, url=receiver.url, private_networks=True
        )
    assert _stored_secret(world, made.id) == secret  # plain, as rows made before sealing
    _prohibit_lucia(world)
    [(headers, body)] = receiver.got
    webhooks.verify(secret, headers, body)


def test_a_process_without_the_key_leaves_the_delivery_to_the_service(
    world: World, receiver: Receiver
) -> None:
    subscription = _subscribe(world, AURORA, receiver.url)
    # As in a process without the key (a CLI publishing a rule): the change is stored for
    # delivery but cannot be signed there.
    box = secret_box(world.database)
    use_secret_box(world.database, None)
    try:
        rule = _prohibit_lucia(world)
    finally:
        use_secret_box(world.database, box)
    assert receiver.got == []
    assert _delivery(world, subscription)["status"] == "pending"
    # The service, holding the key, sends it on once it is left.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LOOPBACK_POLICY.quiet_s() + 5)
    assert resume_deliveries(world.database, now=later) == 1
    assert wait_for_deliveries(30)
    [(headers, body)] = receiver.got
    webhooks.verify(subscription["secret"], headers, body)
    index = rule["log_entry"]["index"]
    assert [c["index"] for c in json.loads(body)["changes"]] == [index]
