"""The registry over HTTP, with real tokens of every role on the demo registry."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto.api import create_app
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo, Licensee

# These build a registry whose history starts before today: see tests/conftest.py.
pytestmark = pytest.mark.usefixtures("history_clock")

BASE = "/api/v1/registry"


class Api:
    def __init__(self, settings: Settings, database: Database) -> None:
        with database.transaction() as session:
            self.tokens = load_demo(session)
            self.cmo = {row.code: row.id for row in session.scalars(select(Cmo))}
            self.licensee = {row.name: row.id for row in session.scalars(select(Licensee))}
        self.client = TestClient(create_app(settings, database))

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(settings: Settings, database: Database) -> Api:
    return Api(settings, database)


def test_public_reads_cmos_and_recording_basics_only(api: Api) -> None:
    cmos = api.client.get(f"{BASE}/cmos").json()
    assert sorted(c["code"] for c in cmos) == ["AIE", "GVL", "SAMI"]
    basics = api.client.get(f"{BASE}/recordings/ES-A7Q-19-00101").json()
    assert basics == {"isrc": "ESA7Q1900101", "title": "Marea baja", "fixation_year": 2019}
    full = api.client.get(
        f"{BASE}/recordings/ESA7Q1900101", headers=api.headers("cmo-admin:AIE")
    ).json()
    assert {c["performer_name"] for c in full["contributions"]} == {"Lucía Ferrer", "Mateo Ibarra"}
    for path in ("/licences", "/audit", "/mandates", "/performers/1"):
        assert api.client.get(BASE + path).status_code == 401


def test_writes_need_the_right_role_and_cmo(api: Api) -> None:
    mandate = {
        "performer_id": 9,  # Elsa Nyberg, a non-member
        "cmo_id": api.cmo["AIE"],
        "territories": ["ES"],
        "uses": ["train-genai"],
        "valid_from": "2026-01-01",
    }
    wrong_cmo = api.client.post(
        f"{BASE}/mandates", json=mandate, headers=api.headers("cmo-admin:SAMI")
    )
    assert wrong_cmo.status_code == 403
    assert wrong_cmo.json()["code"] == "forbidden"
    wrong_role = api.client.post(
        f"{BASE}/mandates", json=mandate, headers=api.headers("licensee:Aurora Audio Labs")
    )
    assert wrong_role.status_code == 403
    created = api.client.post(
        f"{BASE}/mandates", json=mandate, headers=api.headers("cmo-admin:AIE")
    )
    assert created.status_code == 201, created.text
    overlapping = {**mandate, "cmo_id": api.cmo["SAMI"], "territories": ["WW"]}
    clash = api.client.post(
        f"{BASE}/mandates", json=overlapping, headers=api.headers("cmo-admin:SAMI")
    )
    assert clash.status_code == 409
    assert clash.json()["details"]["existing_mandate"] == created.json()["id"]


def test_invalid_isrc_is_a_422_problem_naming_the_field(api: Api) -> None:
    response = api.client.post(
        f"{BASE}/recordings",
        json={"cmo_id": api.cmo["AIE"], "isrc": "ES-A7Q-24-1", "title": "Corta"},
        headers=api.headers("cmo-admin:AIE"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["details"] == {"field": "isrc", "value": "ES-A7Q-24-1"}


def test_licensees_see_only_their_licences(api: Api) -> None:
    aurora = api.licensee["Aurora Audio Labs"]
    mine = api.client.get(f"{BASE}/licences", headers=api.headers("licensee:Aurora Audio Labs"))
    assert {lic["licensee_id"] for lic in mine.json()} == {aurora}
    assert len(mine.json()) == 2
    other = api.client.get(
        f"{BASE}/licences?licensee_id={aurora}", headers=api.headers("licensee:Cadenza Stream")
    )
    assert other.status_code == 403
    models = api.client.get(
        f"{BASE}/licensees/{aurora}/models", headers=api.headers("licensee:Cadenza Stream")
    )
    assert models.status_code == 403


def test_extended_licence_needs_a_jurisdiction_that_allows_it(api: Api) -> None:
    body = {
        "cmo_id": api.cmo["AIE"],
        "licensee_id": api.licensee["Cadenza Stream"],
        "uses": ["train-ai"],
        "territories": ["ES"],
        "valid_from": "2026-01-01",
        "extended": True,
    }
    response = api.client.post(f"{BASE}/licences", json=body, headers=api.headers("cmo-admin:AIE"))
    assert response.status_code == 422
    assert "extended" in response.json()["detail"]


def test_import_over_http_reports_bad_rows(api: Api) -> None:
    csv_text = (
        "isrc,title,performer_name,kind\n"
        "ESA7Q2500001,Nueva,Carmen Olmos,voice\n"
        "ESA7Q2500002,,Carmen Olmos,voice\n"
    )
    response = api.client.post(
        f"{BASE}/imports?cmo_id={api.cmo['AIE']}",
        files={"file": ("catalogue.csv", csv_text.encode(), "text/csv")},
        headers=api.headers("cmo-admin:AIE"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert [(e["line"], "title" in e["reason"]) for e in body["errors"]] == [(3, True)]


def test_audit_trail_is_for_auditors(api: Api) -> None:
    events = api.client.get(f"{BASE}/audit?entity_type=licence", headers=api.headers("auditor"))
    assert events.status_code == 200
    assert len(events.json()) == 3
    for role in ("cmo-admin:AIE", "licensee:Aurora Audio Labs", "public"):
        assert api.client.get(f"{BASE}/audit", headers=api.headers(role)).status_code == 403


def test_openapi_lists_the_registry(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert f"{BASE}/mandates" in paths
    assert f"{BASE}/imports" in paths
