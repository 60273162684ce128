"""A write sent again with the same Idempotency-Key acts once and answers the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from sostenuto.api import create_app
from sostenuto.api.idempotency import _fingerprint, _owner
from sostenuto.consent import forget_snapshots
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.api import IdempotentRequest
from sostenuto.storage.models.consent import Decision
from sostenuto.storage.models.registry import Licensee

ISRC = "ES-A7Q-19-00101"
AURORA = "licensee:Aurora Audio Labs"
CADENZA = "licensee:Cadenza Stream"


@pytest.fixture
def demo(database: Database, settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    forget_snapshots()
    with database.transaction() as session:
        tokens = load_demo(session)
    yield TestClient(create_app(settings, database)), tokens
    forget_snapshots()


def _ask(database: Database, name: str) -> dict[str, object]:
    with database.reader() as session:
        licensee = session.scalars(select(Licensee).where(Licensee.name == name)).one()
    return {"licensee_id": licensee.id, "isrc": ISRC, "use": "train-ai", "territory": "ES"}


def _decide(
    client: TestClient, token: str, body: dict[str, object], key: str | None
) -> tuple[int, dict[str, object], dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    answer = client.post("/api/v1/consent/decisions", json=body, headers=headers)
    return answer.status_code, answer.json(), dict(answer.headers)


def _stored(database: Database) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(Decision)) or 0)


def test_a_retried_write_acts_once_and_answers_the_same(
    demo: tuple[TestClient, dict[str, str]], database: Database
) -> None:
    client, tokens = demo
    body = _ask(database, "Aurora Audio Labs")
    before = _stored(database)
    status, first, _ = _decide(client, tokens[AURORA], body, "run-7-batch-1")
    assert status == 200
    assert _stored(database) == before + 1
    status, again, headers = _decide(client, tokens[AURORA], body, "run-7-batch-1")
    assert (status, again) == (200, first)
    assert headers["idempotent-replayed"] == "true"
    assert _stored(database) == before + 1
    # Without a key, the same request is a new decision.
    status, other, _ = _decide(client, tokens[AURORA], body, None)
    assert other["id"] != first["id"]
    assert _stored(database) == before + 2


def test_the_same_key_with_another_request_is_refused(
    demo: tuple[TestClient, dict[str, str]], database: Database
) -> None:
    client, tokens = demo
    body = _ask(database, "Aurora Audio Labs")
    assert _decide(client, tokens[AURORA], body, "k1")[0] == 200
    stored = _stored(database)
    status, problem, _ = _decide(client, tokens[AURORA], {**body, "territory": "DE"}, "k1")
    assert status == 422
    assert "another request" in str(problem["detail"])
    assert _stored(database) == stored


def test_keys_belong_to_the_credential_that_sent_them(
    demo: tuple[TestClient, dict[str, str]], database: Database
) -> None:
    client, tokens = demo
    status, aurora, _ = _decide(client, tokens[AURORA], _ask(database, "Aurora Audio Labs"), "k")
    status, cadenza, headers = _decide(
        client, tokens[CADENZA], _ask(database, "Cadenza Stream"), "k"
    )
    assert status == 200
    assert "idempotent-replayed" not in headers
    assert cadenza["id"] != aurora["id"]


def test_a_failed_write_releases_its_key(
    demo: tuple[TestClient, dict[str, str]], database: Database
) -> None:
    client, tokens = demo
    body = {**_ask(database, "Aurora Audio Labs"), "isrc": "ZZ-ZZZ-00-00000"}
    assert _decide(client, tokens[AURORA], body, "k2")[0] == 404
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0
    assert _decide(client, tokens[AURORA], body, "k2")[0] == 404  # run again, not replayed


def test_a_key_in_flight_is_a_conflict_and_an_old_one_expires(
    demo: tuple[TestClient, dict[str, str]], database: Database
) -> None:
    client, tokens = demo
    body = _ask(database, "Aurora Audio Labs")
    headers = [(b"authorization", f"Bearer {tokens[AURORA]}".encode())]
    scope = {"method": "POST", "path": "/api/v1/consent/decisions", "query_string": b""}
    owner = _owner({"headers": headers})
    assert owner is not None
    content = client.build_request("POST", "/", json=body).content
    with database.transaction() as session:
        session.add(
            IdempotentRequest(
                owner=owner,
                key="k3",
                fingerprint=_fingerprint(scope, content),
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    stored = _stored(database)
    status, problem, _ = _decide(client, tokens[AURORA], body, "k3")
    assert (status, problem["code"]) == (409, "conflict")
    assert _stored(database) == stored
    with database.transaction() as session:
        session.execute(
            update(IdempotentRequest).values(
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
            )
        )
    assert _decide(client, tokens[AURORA], body, "k3")[0] == 200
    assert _stored(database) == stored + 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(
    demo: tuple[TestClient, dict[str, str]], database: Database, key: str
) -> None:
    client, tokens = demo
    headers = {"Authorization": f"Bearer {tokens[AURORA]}", "Idempotency-Key": key}
    answer = client.post(
        "/api/v1/consent/decisions",
        json=_ask(database, "Aurora Audio Labs"),
        headers={k: v.encode() for k, v in headers.items()},
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["detail"]
