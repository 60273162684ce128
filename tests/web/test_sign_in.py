"""Accounts and browser sessions: sign-in, sign-out, CSRF, expiry and the rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sostenuto.api import create_app
from sostenuto.auth import add_user, issue_token, list_users
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.auth import UserAccount, WebSession

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(database: Database, settings: Settings) -> TestClient:
    with database.transaction() as session:
        add_user(session, username="alice", password=PASSWORD, role="auditor")
    # Secure cookies travel over https only.
    return TestClient(
        create_app(settings, database),
        base_url="https://testserver",
        raise_server_exceptions=False,
    )


def _sign_in(client: TestClient, username: str = "alice", password: str = PASSWORD) -> str:
    response = client.post(
        "/sign-in", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    return str(client.cookies["sostenuto_session"])


def _csrf(client: TestClient) -> str:
    page = client.get("/")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_the_sign_in_form_is_plain_html(client: TestClient) -> None:
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert '<form method="post" action="/sign-in">' in page.text
    assert "<script" not in page.text


def test_sign_in_and_out_round_trip(client: TestClient) -> None:
    stolen = _sign_in(client)
    home = client.get("/")
    assert "Signed in as <strong>user:alice</strong> (auditor)" in home.text
    # The API accepts the cookie when no Bearer header is sent.
    assert client.get("/api/v1/registry/audit").status_code == 200
    out = client.post("/sign-out", data={"csrf_token": _csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert "sostenuto_session" not in client.cookies
    # The cookie copied before the sign-out no longer works: the session is gone.
    thief = TestClient(client.app, base_url="https://testserver")
    thief.cookies.set("sostenuto_session", stolen)
    assert thief.get("/api/v1/registry/audit").status_code == 401
    assert thief.post("/api/v1/consent/rules/permit", json={}).status_code == 401
    assert "Signed in as" not in thief.get("/").text


def test_a_forged_form_post_is_refused(client: TestClient) -> None:
    _sign_in(client)
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    # An API write from the cookie alone needs the token too; a Bearer request does not.
    refused = client.post("/api/v1/consent/rules/permit", json={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    # Still signed in.
    assert "Signed in as" in client.get("/").text


def test_an_expired_session_is_refused(client: TestClient, database: Database) -> None:
    _sign_in(client)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with database.transaction() as session:
        session.execute(update(WebSession).values(last_seen_at=long_ago))
    assert client.get("/api/v1/registry/audit").status_code == 401
    _sign_in(client)
    with database.transaction() as session:
        session.execute(update(WebSession).values(expires_at=long_ago))
    assert client.get("/api/v1/registry/audit").status_code == 401


def test_failed_sign_ins_are_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        wrong = client.post("/sign-in", data={"username": "alice", "password": "nope"})
        assert wrong.status_code == 401
        assert "wrong" in wrong.text
    # Even the right password is refused until the window passes.
    blocked = client.post(
        "/sign-in", data={"username": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert blocked.status_code == 429
    assert "sostenuto_session" not in client.cookies


def test_sign_in_with_an_api_token(client: TestClient, database: Database) -> None:
    with database.transaction() as session:
        token = issue_token(session, role="public", label="browser")
    response = client.post("/sign-in", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert "(public)" in client.get("/").text


def test_password_hashes_are_argon2_and_never_shown(client: TestClient, database: Database) -> None:
    with database.reader() as session:
        stored = session.scalars(select(UserAccount.password_hash)).one()
        listed = list_users(session)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert listed[0]["username"] == "alice"
    assert all("hash" not in key and "password" not in key for key in listed[0])
    with database.transaction() as session, pytest.raises(InvalidInput):
        add_user(session, username="bob", password="short", role="auditor")
