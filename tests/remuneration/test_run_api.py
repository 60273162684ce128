"""``POST /api/v1/remuneration/runs``: a CMO's admin runs an ended period from the log; the
answer holds only the caller's own money; a usage file or a correction is never accepted."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.remuneration.conftest import Example, add_terms, build_registry
from tests.remuneration.test_loader import declare_example

RUNS = "/api/v1/remuneration/runs"


def _bearer(database: Database, **kwargs: object) -> dict[str, str]:
    with database.transaction() as session:
        token = issue_token(session, label="test", **kwargs)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def declared(sqlite_database: Database, settings: Settings) -> Example:
    with sqlite_database.transaction() as session:
        example = build_registry(session)
        add_terms(session, example)
    declare_example(sqlite_database, settings, example)
    return example


def test_a_cmo_admin_runs_the_period_and_reads_its_own_money(
    sqlite_database: Database, settings: Settings, declared: Example
) -> None:
    client = TestClient(create_app(settings, sqlite_database))
    ex = declared
    sami = _bearer(sqlite_database, role="cmo-admin", cmo_id=ex.sami)
    aie = _bearer(sqlite_database, role="cmo-admin", cmo_id=ex.aie)

    first = client.post(RUNS, json={"period": "2026-Q3"}, headers=sami)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["period"], body["created"], body["statements"], body["declared"]) == (
        "2026-Q3",
        True,
        7,
        7,
    )
    assert body["summary"]["scope"] == {"cmo_id": ex.sami} and "by_cmo" not in body["summary"]
    assert body["summary"]["currencies"]["SEK"]["collected_minor"] == 1_617_384
    # Another CMO's admin starts it again: the stored run, its own figures only.
    again = client.post(RUNS, json={"period": "2026-Q3"}, headers=aie).json()
    assert (again["id"], again["created"], again["declared"]) == (body["id"], False, 0)
    assert again["result_sha256"] == body["result_sha256"]
    assert again["summary"]["currencies"]["SEK"]["received_minor"] == 336_479
    assert "1617384" not in str(again["summary"])
    shown = client.get("/api/v1/remuneration/runs/2026-Q3", headers=sami).json()
    assert shown["id"] == body["id"]


def test_refusals_name_the_problem(
    sqlite_database: Database, settings: Settings, declared: Example
) -> None:
    client = TestClient(create_app(settings, sqlite_database))
    sami = _bearer(sqlite_database, role="cmo-admin", cmo_id=declared.sami)
    assert client.post(RUNS, json={"period": "2026-Q3"}).status_code == 401
    for kwargs in (
        {"role": "licensee", "licensee_id": declared.licensee},
        {"role": "auditor"},
        {"role": "public"},
        {"role": "performer", "performer_id": declared.anna},
    ):
        refused = client.post(
            RUNS, json={"period": "2026-Q3"}, headers=_bearer(sqlite_database, **kwargs)
        )
        assert refused.status_code == 403, (kwargs, refused.text)
    open_period = client.post(RUNS, json={"period": "2099-Q1"}, headers=sami)
    assert open_period.status_code == 422
    assert "period 2099-Q1 has not ended" in open_period.json()["detail"]
    assert client.post(RUNS, json={"period": "2026-Q5"}, headers=sami).status_code == 422
    for extra in ({"replace": True}, {"usage": {"training": [], "outputs": []}}):
        named = client.post(RUNS, json={"period": "2026-Q3"} | extra, headers=sami)
        assert named.status_code == 422 and next(iter(extra)) in named.text, named.text
    assert client.get("/api/v1/remuneration/runs/2026-Q3", headers=sami).status_code == 404
