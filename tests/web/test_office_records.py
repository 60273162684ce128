"""The office's recording and performer pages: what a CMO's admin reads about a recording of
its catalogue and a performer of its members, another CMO's records hidden (404), and every
other role refused."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto import consent, declarations
from sostenuto.auth import Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Recording
from tests.web.conftest import LUCIA, World, app_client, sign_in

MAREA = "ESA7Q1900101"  # AIE's: Lucía Ferrer (voice, featured), Mateo Ibarra (guitar)


def _signed_in(database: Database, settings: Settings, username: str) -> TestClient:
    client = app_client(database, settings)
    sign_in(client, username)
    return client


def test_recording_page_shows_facts_contributions_rules_and_decisions(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    aurora = Principal("user:aurora", "licensee", licensee_id=world.aurora)
    with sqlite_database.transaction() as session:
        recording = session.scalars(select(Recording).where(Recording.isrc == MAREA)).one()
        decision = consent.decide(
            session,
            aurora,
            licensee_id=world.aurora,
            recording_id=recording.id,
            use="train-genai",
            territory="ES",
            on_date=dt.date.today(),
        )
        model = session.scalars(select(AiModel).where(AiModel.licensee_id == world.aurora)).first()
        assert model is not None
        recording_id, model_id = recording.id, model.id
    file = {
        "sha256": hashlib.sha256(b"marea baja, as trained on").hexdigest(),
        "recording_id": recording_id,
        "decision_id": decision.id,
    }
    receipt = declarations.declare(
        sqlite_database,
        settings,
        aurora,
        "dataset-manifest",
        {"licensee_id": world.aurora, "model_id": model_id, "name": "spring", "files": [file]},
    )
    marta = _signed_in(sqlite_database, settings, "marta")
    page = marta.get(f"/office/recordings/{MAREA}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Marea baja" in text and "3:34" in text  # 214 000 ms
    assert f'href="/office/performers/{world.lucia}"' in text and LUCIA in text
    assert "guitar" in text
    # Lucía's own refusal of voice cloning and AIE's permission for the whole repertoire.
    assert "about Lucía Ferrer&#39;s recordings" in text
    assert "about the whole repertoire" in text
    assert decision.id in text and "permitted" in text
    # The manifest that cites it, on the recording's page and on each contributor's.
    entry = f'<a href="/log/entries/{receipt.index}">'
    assert entry in text and "dataset-manifest" in text
    assert entry in marta.get(f"/office/performers/{world.lucia}").text


def test_performer_page_shows_identifiers_mandates_recordings_rules_and_voice(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    page = _signed_in(sqlite_database, settings, "marta").get(f"/office/performers/{world.lucia}")
    assert page.status_code == 200, page.text
    text = page.text
    assert LUCIA in text and "0000000412345" in text  # her ISNI
    assert 'id="mandates"' in text and "voice-clone" in text
    assert f'href="/office/recordings/{MAREA}"' in text and "Luz de enero" in text
    assert "refused to any AI company" in text  # her rule against voice cloning
    assert "not enrolled" in text
    assert "No entry names these recordings or this voice." in text


def test_catalogue_links_each_recording_to_its_page(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    page = _signed_in(sqlite_database, settings, "marta").get("/office/catalogue")
    assert f'href="/office/recordings/{MAREA}"' in page.text


def test_another_cmos_records_are_not_found(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    greta = _signed_in(sqlite_database, settings, "greta")  # GVL's admin
    assert greta.get(f"/office/recordings/{MAREA}").status_code == 404
    assert greta.get(f"/office/performers/{world.lucia}").status_code == 404
    marta = _signed_in(sqlite_database, settings, "marta")
    assert marta.get("/office/recordings/ESA7Q9999999").status_code == 404
    assert marta.get("/office/performers/999999").status_code == 404
    with sqlite_database.reader() as session:
        gvl = session.scalars(
            select(Recording.isrc).where(Recording.registered_by_cmo_id == world.gvl)
        ).first()
    assert gvl is not None
    assert marta.get(f"/office/recordings/{gvl}").status_code == 404
    assert greta.get(f"/office/recordings/{gvl}").status_code == 200


@pytest.mark.parametrize("username", ["", "lucia", "aurora", "audra"])
def test_other_roles_are_refused(
    sqlite_database: Database, settings: Settings, world: World, username: str
) -> None:
    client = app_client(sqlite_database, settings)
    if username:
        sign_in(client, username)
    expected = {403} if username else {401, 403}
    for path in (f"/office/recordings/{MAREA}", f"/office/performers/{world.lucia}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in expected, (username, path, answer.status_code)
        assert "Marea baja" not in answer.text and "0000000412345" not in answer.text
