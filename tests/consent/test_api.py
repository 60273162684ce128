"""The consent HTTP API through FastAPI's TestClient, with real tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule, Decision
from tests.consent.conftest import World


@pytest.fixture
def api(
    database: Database, settings: Settings
) -> tuple[TestClient, dict[str, int], dict[str, str]]:
    world = World(database)
    ids = {"A": world.cmo("A", "ES"), "B": world.cmo("B", "FR")}
    ids["L1"], ids["L2"] = world.licensee("Lab one"), world.licensee("Lab two")
    ids["p1"], ids["p2"] = world.performer("Ana"), world.performer("Bea")
    world.mandate(ids["p1"], ids["A"])
    world.mandate(ids["p2"], ids["A"])
    ids["r1"] = world.recording(ids["p1"], cmo=ids["A"])
    ids["r2"] = world.recording(ids["p1"], ids["p2"], cmo=ids["A"])
    ids["licence"] = world.licence(ids["A"], ids["L1"])
    with database.transaction() as session:
        tokens = {
            "A": issue_token(session, role="cmo-admin", label="A", cmo_id=ids["A"]),
            "B": issue_token(session, role="cmo-admin", label="B", cmo_id=ids["B"]),
            "L1": issue_token(session, role="licensee", label="L1", licensee_id=ids["L1"]),
            "L2": issue_token(session, role="licensee", label="L2", licensee_id=ids["L2"]),
        }
    client = TestClient(create_app(settings, database))
    return client, ids, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rows(database: Database, table: type) -> int:
    with database.reader() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_decide_and_read_back(api: tuple[TestClient, dict[str, int], dict[str, str]]) -> None:
    client, ids, tokens = api
    body = {
        "licensee_id": ids["L1"],
        "recording_id": ids["r2"],
        "use": "train-genai",
        "territory": "ES",
    }
    answer = client.post("/api/v1/consent/decisions", json=body, headers=bearer(tokens["L1"]))
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert (decision["outcome"], decision["licence_id"]) == ("permit", ids["licence"])
    again = client.get(f"/api/v1/consent/decisions/{decision['id']}", headers=bearer(tokens["L1"]))
    assert again.json() == decision
    hidden = client.get(f"/api/v1/consent/decisions/{decision['id']}", headers=bearer(tokens["L2"]))
    assert hidden.status_code == 404
    assert client.get(f"/api/v1/consent/decisions/{decision['id']}").status_code == 401


def test_batch_over_http(api: tuple[TestClient, dict[str, int], dict[str, str]]) -> None:
    client, ids, tokens = api
    body = {
        "licensee_id": ids["L1"],
        "recording_ids": [ids["r1"], ids["r2"], ids["r1"]],
        "use": "voice-clone",
        "territory": "ES",
        "on_date": "2026-06-01",
    }
    answer = client.post("/api/v1/consent/decisions/batch", json=body, headers=bearer(tokens["L1"]))
    assert answer.status_code == 200, answer.text
    batch = answer.json()
    assert batch["size"] == 3 and batch["permitted"] == 0
    assert [batch["bases"][i]["outcome"] for i in batch["basis_index"]] == ["deny"] * 3
    one = client.get(
        f"/api/v1/consent/decisions/{batch['batch_id']}.2", headers=bearer(tokens["A"])
    )
    assert one.json()["recording_id"] == ids["r1"]


def test_bad_requests_get_problems_and_write_nothing(
    api: tuple[TestClient, dict[str, int], dict[str, str]], database: Database
) -> None:
    client, ids, tokens = api
    before = rows(database, Decision), rows(database, ConsentRule)
    base = {
        "licensee_id": ids["L1"],
        "recording_id": ids["r1"],
        "use": "train-genai",
        "territory": "ES",
    }
    cases = [
        ({**base, "use": "train-everything"}, tokens["L1"], 422, "invalid-input"),
        ({**base, "territory": "XX"}, tokens["L1"], 422, "invalid-input"),
        ({**base, "recording_id": 999}, tokens["L1"], 404, "not-found"),
        ({**base, "licensee_id": ids["L2"]}, tokens["L1"], 403, "forbidden"),
        (base, "sos_not-a-token", 401, "unauthenticated"),
    ]
    for body, token, status, code in cases:
        answer = client.post("/api/v1/consent/decisions", json=body, headers=bearer(token))
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert client.post("/api/v1/consent/decisions", json=base).status_code == 401
    rule = {"scope": "cmo", "scope_id": ids["A"], "uses": ["train-ai"]}
    for token in (tokens["L1"], tokens["B"]):
        answer = client.post("/api/v1/consent/rules/prohibit", json=rule, headers=bearer(token))
        assert answer.status_code == 403
    assert (rows(database, Decision), rows(database, ConsentRule)) == before


def test_rules_revocation_and_exports(
    api: tuple[TestClient, dict[str, int], dict[str, str]],
) -> None:
    client, ids, tokens = api
    rule = {
        "scope": "performer",
        "scope_id": ids["p2"],
        "uses": ["train-ai"],
        "territories": ["ES", "FR"],
    }
    made = client.post("/api/v1/consent/rules/prohibit", json=rule, headers=bearer(tokens["A"]))
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    body = {
        "licensee_id": ids["L1"],
        "recording_id": ids["r2"],
        "use": "train-genai",
        "territory": "ES",
    }
    denied = client.post(
        "/api/v1/consent/decisions", json=body, headers=bearer(tokens["L1"])
    ).json()
    assert (denied["outcome"], denied["rule_ids"]) == ("deny", [rule_id])
    aipref = client.get(f"/api/v1/consent/exports/performer/{ids['p2']}?format=aipref").json()
    assert aipref["preferences"][0]["content_usage"] == "train-ai=n"
    cut = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    revoked = client.post(
        f"/api/v1/consent/rules/{rule_id}/revoke",
        json={"effective_from": cut},
        headers=bearer(tokens["A"]),
    )
    assert revoked.json()["revoked_from"] == cut
    listed = client.get("/api/v1/consent/rules", headers=bearer(tokens["L2"])).json()
    assert [r["id"] for r in listed] == [rule_id]
    assert client.get("/api/v1/consent/jurisdictions").status_code == 200
    assert "/api/v1/consent/decisions/batch" in client.get("/openapi.json").json()["paths"]
