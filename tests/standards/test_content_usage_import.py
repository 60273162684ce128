"""A CMO states reservations as an AIPREF Content-Usage value; a malformed value or a label
outside the vocabulary is refused with a problem naming it, and nothing is stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.auth import OPERATOR, issue_token
from sostenuto.consent import list_rules
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.standards.conftest import Catalogue

pytestmark = pytest.mark.usefixtures("history_clock")


@pytest.fixture
def client(settings: Settings, database: Database, catalogue: Catalogue) -> TestClient:
    with database.transaction() as session:
        token = issue_token(session, role="cmo-admin", label="admin", cmo_id=catalogue.cmo)
    return TestClient(create_app(settings, database), headers={"Authorization": f"Bearer {token}"})


def _rule_count(database: Database) -> int:
    with database.reader() as session:
        return len(list_rules(session, OPERATOR))


def test_a_statement_becomes_rules_and_is_served(
    client: TestClient, database: Database, catalogue: Catalogue
) -> None:
    statement = "train-ai=n, search=y"
    body = {"scope": "performer", "scope_id": catalogue.free, "content_usage": statement}
    answer = client.post("/api/v1/standards/content-usage", json=body)
    assert answer.status_code == 201, answer.text
    rules = answer.json()["rules"]
    assert [(r["effect"], r["uses"]) for r in rules] == [
        ("prohibit", ["train-genai"]), ("permit", ["search-index"]),
    ]  # fmt: skip
    assert all(r["log_entry"] for r in rules)  # declared in the public log
    isrc = catalogue.recordings[catalogue.free][0]
    page = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/recordings/{isrc}")
    assert page.headers["content-usage"] == statement


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("train-genai=n", "unknown AIPREF label 'train-genai'"),
        ("train-ai=n, ai-use=n", "unknown AIPREF label 'ai-use'"),
        ("train-ai=n;", "not an RFC 9651 Dictionary"),
        ("train-ai=nope", "token y or n"),
    ],
)
def test_a_bad_statement_is_refused(
    client: TestClient, database: Database, catalogue: Catalogue, value: str, named: str
) -> None:
    before = _rule_count(database)
    body = {"scope": "cmo", "scope_id": catalogue.cmo, "content_usage": value}
    answer = client.post("/api/v1/standards/content-usage", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert named in answer.json()["detail"]
    assert _rule_count(database) == before
