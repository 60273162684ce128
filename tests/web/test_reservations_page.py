"""A CMO's reservations as a page: plain words, the machine-readable forms linked, and
nothing of a licence agreed with one developer."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sostenuto import consent
from sostenuto.auth import Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.web.conftest import World, app_client


@pytest.fixture
def client(sqlite_database: Database, settings: Settings, world: World) -> TestClient:
    return app_client(sqlite_database, settings)


def _links(page: str) -> list[str]:
    return re.findall(r'href="(/api/v1/[^"]+)"', page.replace("&amp;", "&"))


def test_the_cmos_are_listed_with_their_pages(client: TestClient) -> None:
    page = client.get("/reservations")
    assert page.status_code == 200
    for code in ("AIE", "SAMI", "GVL"):
        assert f'href="/reservations/{code}"' in page.text
    assert 'href="/reservations"' in page.text  # in the public navigation


def test_a_cmo_page_says_what_is_reserved_and_permitted_in_plain_words(
    client: TestClient, sqlite_database: Database, world: World
) -> None:
    admin = Principal(name="marta", role="cmo-admin", cmo_id=world.aie)
    with sqlite_database.transaction() as session:
        consent.permit(
            session,
            admin,
            scope="cmo",
            scope_id=world.aie,
            uses=["search-index"],
            territories=["ES", "PT"],
            cmo_id=world.aie,
        )
    consent.forget_snapshots()
    page = client.get("/reservations/aie")  # the code in any case
    assert page.status_code == 200
    reserved = page.text[
        page.text.index('id="reserved"') : page.text.index('id="permitted-heading"')
    ]
    assert "Voice cloning" in reserved
    assert f"the recordings of one member (performer {world.lucia})" in reserved
    assert "worldwide" in reserved
    permitted = page.text[page.text.index('id="permitted"') :]
    assert "Search indexing" in permitted and "ES, PT" in permitted
    assert "every recording its members play on" in permitted


def test_a_licence_for_one_developer_stays_off_the_page(client: TestClient) -> None:
    # The demo's AIE permits generative training in Spain to Aurora Audio Labs alone.
    page = client.get("/reservations/AIE").text
    assert "Generative AI training" not in page
    assert "Aurora" not in page
    assert "Lucía" not in page  # performers appear by id, as in the exports


def test_the_machine_readable_forms_are_linked_and_served(client: TestClient) -> None:
    page = client.get("/reservations/AIE").text
    links = _links(page[page.index('id="machine-readable"') :].split("</ul>")[0])
    assert len(links) == 5
    kinds = {
        "format=aipref": "application/json",
        "robots.txt": "text/plain",
        "tdmrep.json": "application/json",
        "tdm-policy": "application/ld+json",
        "format=odrl": "application/json",
    }
    for marker, media_type in kinds.items():
        (link,) = [link for link in links if marker in link]
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["content-type"].startswith(media_type), link
    assert "voice-clone" in client.get(next(x for x in links if "odrl" in x)).text


def test_an_unknown_cmo_is_a_404_page(client: TestClient) -> None:
    response = client.get("/reservations/NOPE", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "no CMO with code" in response.text
