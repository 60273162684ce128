"""The log explorer over HTTP: checkpoint, recent entries, search, an entry with its proof,
and receipts checked in the page (valid, and tampered ones failing with the reason)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from fastapi.testclient import TestClient

from sostenuto.auth import Principal
from sostenuto.declarations import declare
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.web.conftest import World, app_client, sign_in

AURORA_MODEL = 1  # aurora-music 2.1, the demo's model of Aurora Audio Labs


def _declare_output(
    database: Database, settings: Settings, world: World, content: bytes
) -> dict[str, object]:
    developer = Principal(name="aurora", role="licensee", licensee_id=world.aurora)
    receipt = declare(
        database,
        settings,
        developer,
        "output-declaration",
        {
            "licensee_id": world.aurora,
            "model_id": AURORA_MODEL,
            "output_sha256": hashlib.sha256(content).hexdigest(),
            "generated_on": dt.date.today().isoformat(),
        },
    )
    return receipt.as_json()


@pytest.fixture
def client(sqlite_database: Database, settings: Settings, world: World) -> TestClient:
    return app_client(sqlite_database, settings)


def _verify(client: TestClient, text: str) -> tuple[int, str]:
    response = client.post("/log/verify", data={"receipt": text})
    return response.status_code, response.text


def test_the_explorer_shows_the_checkpoint_and_pages_through_entries(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    receipts = [
        _declare_output(sqlite_database, settings, world, f"song {n}".encode()) for n in range(25)
    ]
    page = client.get("/log").text
    size = int(re.search(r'id="checkpoint-size">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert size == receipts[-1]["tree_size"]
    note = client.get("/api/v1/log/checkpoint").json()
    assert note["root"] in page
    assert "no witness has cosigned it yet" in page
    shown = [int(i) for i in re.findall(r'<tr data-index="(\d+)">', page)]
    assert shown == list(range(size - 1, size - 21, -1))  # the newest 20, newest first
    older = client.get(f"/log?before={shown[-1]}").text
    rest = [int(i) for i in re.findall(r'<tr data-index="(\d+)">', older)]
    assert rest == list(range(shown[-1] - 1, max(shown[-1] - 21, -1), -1))
    assert client.get("/log?before=-1").status_code == 422


def test_search_by_index_entry_id_and_content_hash(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    receipt = _declare_output(sqlite_database, settings, world, b"the song")
    index, entry_id = receipt["index"], str(receipt["entry_id"])

    by_index = client.post("/log/search", data={"q": str(index)}, follow_redirects=False)
    assert by_index.status_code == 303
    assert by_index.headers["location"] == f"/log/entries/{index}"

    by_id = client.post("/log/search", data={"q": entry_id.upper()})
    assert by_id.url.path == f"/log/hash/{entry_id}"
    assert f'<tr data-index="{index}">' in by_id.text

    sha = hashlib.sha256(b"the song").hexdigest()
    by_file = client.post("/log/search", data={"q": sha})
    assert f'<tr data-index="{index}">' in by_file.text
    assert "1 entry names this hash" in by_file.text

    nothing = client.get(f"/log/hash/{'0' * 64}").text
    assert "No entry has this id" in nothing

    bad = client.post("/log/search", data={"q": "not a hash"})
    assert bad.status_code == 422
    assert "64 hexadecimal digits" in bad.text


def test_an_entry_page_shows_its_verified_inclusion_proof(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    for n in range(5):
        _declare_output(sqlite_database, settings, world, f"take {n}".encode())
    page = client.get("/log/entries/2")
    assert page.status_code == 200
    assert "Verified: the entry is included" in page.text
    bundle = client.get("/api/v1/log/proofs/inclusion/2").json()
    for node in bundle["inclusion_proof"]:
        assert node in page.text
    assert 'href="/api/v1/log/entries/2"' in page.text
    assert 'href="/api/v1/log/proofs/inclusion/2"' in page.text
    assert client.get("/log/entries/99").status_code == 404


def test_a_declaration_receipt_verifies_and_a_tampered_one_fails_with_the_reason(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    receipt = _declare_output(sqlite_database, settings, world, b"first")
    _declare_output(sqlite_database, settings, world, b"second")  # the log grows after it

    status, page = _verify(client, json.dumps(receipt))
    assert status == 200
    assert "The receipt verifies" in page
    for step in ("entry", "signature", "inclusion", "consistency"):
        assert re.search(rf'data-step="{step}" class="ok"', page), step

    forged = {**receipt, "entry_id": hashlib.sha256(b"x").hexdigest()}
    status, page = _verify(client, json.dumps(forged))
    assert status == 200
    assert "The receipt does not verify" in page
    assert f"the log&#39;s entry {receipt['index']} has id" in page
    assert 'data-step="entry" class="bad"' in page
    assert 'data-step="consistency" class="muted"' in page

    beyond = {**receipt, "tree_size": 10_000}
    _, page = _verify(client, json.dumps(beyond))
    assert "beyond this log&#39;s size" in page


def test_an_uploaded_bundle_verifies_and_tampering_is_named(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    for n in range(3):
        _declare_output(sqlite_database, settings, world, f"track {n}".encode())
    bundle = client.get("/api/v1/log/proofs/inclusion/1").json()
    _declare_output(sqlite_database, settings, world, b"later")

    upload = {"file": ("receipt.json", json.dumps(bundle).encode(), "application/json")}
    page = client.post("/log/verify", files=upload).text
    assert "The receipt verifies" in page
    assert "size 3 is a prefix of size 4" in page

    other_model = bundle["entry"].replace('"model_id":1', '"model_id":2')
    assert other_model != bundle["entry"]
    changed = {**bundle, "entry": other_model, "leaf_hash": None}
    page = client.post("/log/verify", data={"receipt": json.dumps(changed)}).text
    assert "The receipt does not verify" in page
    assert 'data-step="signature" class="ok"' in page
    assert 'data-step="inclusion" class="bad"' in page

    resigned = {**bundle, "checkpoint": bundle["checkpoint"].replace("\n3\n", "\n2\n", 1)}
    page = client.post("/log/verify", data={"receipt": json.dumps(resigned)}).text
    assert 'data-step="signature" class="bad"' in page

    for text, message in (
        ("", "the receipt is empty"),
        ("{not json", "the receipt is not JSON"),
        ("[1, 2]", "check one receipt at a time"),
    ):
        response = client.post("/log/verify", data={"receipt": text})
        assert response.status_code == 422, text
        assert message in response.text


def test_the_public_forms_need_a_signed_in_sessions_token(
    client: TestClient, sqlite_database: Database, settings: Settings, world: World
) -> None:
    token = sign_in(client, "audra")
    forms = (
        ("/log/verify", {"receipt": "{}"}, None),
        ("/log/search", {"q": "0"}, None),
        ("/label/inspect", {}, {"file": ("a.wav", b"RIFF", "audio/wav")}),
    )
    for path, data, files in forms:
        for presented in (None, "forged"):
            sent = data if presented is None else {**data, "csrf_token": presented}
            refused = client.post(path, data=sent, files=files)
            assert refused.status_code == 403, (path, presented)
            assert "CSRF" in refused.text or "csrf" in refused.text
    accepted = client.post("/log/verify", data={"receipt": "{}", "csrf_token": token})
    assert accepted.status_code == 200
    assert "not a receipt" in accepted.text
    found = client.post("/log/search", data={"q": "0", "csrf_token": token}, follow_redirects=False)
    assert found.status_code == 303
