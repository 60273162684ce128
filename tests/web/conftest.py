"""A demo registry with one account per role, for the page tests over HTTP and in Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto import consent
from sostenuto.api import create_app
from sostenuto.auth import add_user
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo, Licensee, Performer

PASSWORD = "correct horse battery staple"
LUCIA = "Lucía Ferrer"  # an AIE member whose mandate entrusts voice-clone


@dataclass(frozen=True)
class World:
    lucia: int
    aie: int
    aie_name: str
    gvl: int
    aurora: int


# Username -> (role, binding) filled in by the ``world`` fixture.
ACCOUNTS = ("lucia", "marta", "greta", "aurora", "audra")


@pytest.fixture
def world(sqlite_database: Database) -> World:
    consent.forget_snapshots()
    with sqlite_database.transaction() as session:
        load_demo(session)
        aie = session.scalars(select(Cmo).where(Cmo.code == "AIE")).one()
        gvl = session.scalars(select(Cmo).where(Cmo.code == "GVL")).one()
        lucia = session.scalars(select(Performer).where(Performer.name == LUCIA)).one()
        aurora = session.scalars(select(Licensee).where(Licensee.name == "Aurora Audio Labs")).one()
        found = World(lucia.id, aie.id, aie.name, gvl.id, aurora.id)
        add_user(
            session, username="lucia", password=PASSWORD, role="performer", performer_id=lucia.id
        )
        add_user(session, username="marta", password=PASSWORD, role="cmo-admin", cmo_id=aie.id)
        add_user(session, username="greta", password=PASSWORD, role="cmo-admin", cmo_id=gvl.id)
        add_user(
            session, username="aurora", password=PASSWORD, role="licensee", licensee_id=aurora.id
        )
        add_user(session, username="audra", password=PASSWORD, role="auditor")
    return found


def app_client(database: Database, settings: Settings) -> TestClient:
    # Secure cookies travel over https only.
    return TestClient(
        create_app(settings, database), base_url="https://testserver", raise_server_exceptions=False
    )


def sign_in(client: TestClient, username: str) -> str:
    """Sign ``client`` in as ``username``; the session's CSRF token."""
    response = client.post(
        "/sign-in", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)
