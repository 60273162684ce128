"""Authentication at the HTTP boundary and the single problem-details error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.auth import issue_token, revoke_token
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.auth import ApiToken
from sostenuto.storage.models.registry import Cmo


def _client(settings: Settings, database: Database) -> TestClient:
    return TestClient(create_app(settings, database))


def test_anonymous_caller_is_public(settings: Settings, database: Database) -> None:
    body = _client(settings, database).get("/api/v1/whoami").json()
    assert body["role"] == "public"


def test_token_identifies_its_holder(settings: Settings, database: Database) -> None:
    with database.transaction() as session:
        session.add(Cmo(code="AIE", name="AIE", country="ES", identifiers={}))
        session.flush()
        token = issue_token(session, role="cmo-admin", label="aie admin", cmo_id=1)
    response = _client(settings, database).get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "cmo-admin"
    assert response.json()["cmo_id"] == 1


def test_unknown_token_is_a_401_problem(settings: Settings, database: Database) -> None:
    response = _client(settings, database).get(
        "/api/v1/whoami", headers={"Authorization": "Bearer sos_not-a-token"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unauthenticated"
    assert problem["status"] == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_refused(settings: Settings, database: Database) -> None:
    with database.transaction() as session:
        token = issue_token(session, role="auditor", label="audit office")
    with database.transaction() as session:
        token_id = session.query(ApiToken).one().id
        revoke_token(session, token_id)
    response = _client(settings, database).get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_openapi_document_is_served(settings: Settings, database: Database) -> None:
    document = _client(settings, database).get("/openapi.json").json()
    assert document["info"]["title"] == "Sostenuto"
    assert "/api/v1/health" in document["paths"]
