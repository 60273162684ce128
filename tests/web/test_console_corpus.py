"""The console's screening of a few uploaded files: identified against a catalogue of real
(synthesised) audio, decided, followed while it runs, then declared to the log with a
receipt that verifies offline."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto.auth import add_user
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Licensee
from sostenuto.transparency import verifier_key, verify_receipt
from tests.web.conftest import PASSWORD, World, app_client, sign_in
from tests.web.corpus_audio import PERMITTED_ISRC, Corpus, corpus_against_demo


@pytest.fixture
def corpus(sqlite_database: Database, settings: Settings, world: World, tmp_path: Path) -> Corpus:
    return corpus_against_demo(sqlite_database, settings, world.aurora, tmp_path / "audio")


@pytest.fixture
def client(sqlite_database: Database, settings: Settings, world: World) -> TestClient:
    with sqlite_database.transaction() as session:
        cadenza = session.scalars(select(Licensee).where(Licensee.name == "Cadenza Stream")).one()
        add_user(
            session, username="cadenza", password=PASSWORD, role="licensee", licensee_id=cadenza.id
        )
    return app_client(sqlite_database, settings)


def _upload(client: TestClient, csrf: str, files: list[Path]) -> tuple[int, str, str | None]:
    response = client.post(
        "/console/corpus",
        data={"csrf_token": csrf, "use": "train-genai", "territory": "ES"},
        files=[("files", (path.name, path.read_bytes(), "audio/wav")) for path in files],
        follow_redirects=False,
    )
    return response.status_code, response.text, response.headers.get("location")


def _finished(client: TestClient, location: str, seconds: float = 240.0) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state: dict[str, object] = client.get(location + "/progress").json()
        if state["state"] != "screening":
            return state
        # While it runs the page says how far it got and refreshes itself without script.
        page = client.get(location).text
        if 'id="files"' not in page:  # (unless it finished in between)
            assert '<meta http-equiv="refresh"' in page and 'id="progress-bar"' in page
        time.sleep(0.5)
    raise AssertionError("the screening did not finish")


def test_files_are_screened_decided_and_the_permitted_ones_declared(
    client: TestClient, corpus: Corpus, settings: Settings
) -> None:
    csrf = sign_in(client, "aurora")
    status, _, location = _upload(client, csrf, list(corpus.files.values()))
    assert status == 303 and location is not None
    assert re.fullmatch(r"/console/corpus/[0-9a-f]{16}", location)
    assert _finished(client, location) == {"state": "done", "done": 3, "total": 3}

    page = client.get(location).text
    rows = {
        name: status
        for name, status in re.findall(r'<tr data-file="([^"]+)" data-status="([^"]+)"', page)
    }
    assert rows == {
        "take-one.wav": "permitted",
        "take-two.flac": "denied",
        "new-song.wav": "unregistered",
    }
    permitted_row = page.split('data-file="take-one.wav"')[1].split("</tr>")[0]
    assert PERMITTED_ISRC in permitted_row and "score" in permitted_row
    assert "/console/decisions/" in permitted_row
    new_row = page.split('data-file="new-song.wav"')[1].split("</tr>")[0]
    assert "not identified" in new_row and "Permitted" not in new_row
    assert corpus.denied_isrc in page.split('data-file="take-two.flac"')[1].split("</tr>")[0]
    assert 'id="declare-form"' in page

    declared = client.post(location + "/declare", data={"csrf_token": csrf}, follow_redirects=False)
    assert declared.status_code == 303
    page = client.get(location).text
    index = int(re.search(r'id="receipt-index">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert 'id="declare-form"' not in page
    download = client.get(location + "/receipt.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    bundle = download.json()
    verified = verify_receipt(bundle, verifier_key(settings))
    assert verified.index == index
    entry = json.loads(verified.entry)
    assert entry["type"] == "dataset-manifest"
    (cited,) = entry["payload"]["files"]  # the permitted file only: not the new song
    assert cited["isrc"] == PERMITTED_ISRC
    assert cited["decision_id"] in permitted_row


def test_other_licensees_and_roles_are_refused_and_csrf_is_enforced(
    client: TestClient, corpus: Corpus
) -> None:
    csrf = sign_in(client, "aurora")
    assert _upload(client, "forged", [corpus.files["new"]])[0] == 403
    _, _, location = _upload(client, csrf, [corpus.files["new"]])
    assert location is not None
    _finished(client, location)
    assert client.post(location + "/declare", data={"csrf_token": "forged"}).status_code == 403
    # Nothing is permitted: nothing to declare, and the page says so.
    assert (
        "nothing to declare" in client.post(location + "/declare", data={"csrf_token": csrf}).text
    )
    assert "No file is permitted" in client.get(location).text
    client.post("/sign-out", data={"csrf_token": csrf})
    for username in ("cadenza", "marta", "lucia", "audra"):
        other = sign_in(client, username)
        for path in (location, location + "/progress", location + "/receipt.json"):
            assert client.get(path).status_code == 403, (username, path)
        assert client.post(location + "/declare", data={"csrf_token": other}).status_code == 403
        if username != "cadenza":
            assert client.get("/console/corpus").status_code == 403, username
            assert _upload(client, other, [corpus.files["new"]])[0] == 403, username
        client.post("/sign-out", data={"csrf_token": other})
    assert client.get(location, headers={"accept": "text/html"}).status_code == 401


def test_bad_uploads_are_refused_naming_the_file(client: TestClient, tmp_path: Path) -> None:
    csrf = sign_in(client, "aurora")
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")
    status, page, _ = _upload(client, csrf, [notes])
    assert status == 422 and "notes.txt" in page and "not a WAV, FLAC, Ogg or MP3" in page
    many = []
    for n in range(21):
        path = tmp_path / f"f{n}.wav"
        path.write_bytes(b"RIFF")
        many.append(path)
    status, page, _ = _upload(client, csrf, many)
    assert status == 422 and "at most 20 files" in page
