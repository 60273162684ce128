"""The label endpoints over HTTP, and the inspect page in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.label import init_keys
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee
from tests.serving import CHROMIUM, chromium, served_app


def _world(database: Database) -> dict[str, object]:
    with database.transaction() as session:
        mine = Licensee(name="Aurora Audio Ltd", kind="developer", country="FR")
        rival = Licensee(name="Rival Sounds", kind="platform", country="DE")
        session.add_all([mine, rival])
        session.flush()
        model = AiModel(licensee_id=mine.id, name="Tessitura", version="2.1", purpose="music")
        session.add(model)
        session.flush()
        return {
            "licensee": mine.id,
            "model": model.id,
            "rival": rival.id,
            "token": issue_token(session, role="licensee", label="dev", licensee_id=mine.id),
            "rival_token": issue_token(
                session, role="licensee", label="rival", licensee_id=rival.id
            ),
        }


@pytest.mark.audio
def test_label_then_inspect_over_http(
    database: Database, settings: Settings, format_files: dict[str, Path]
) -> None:
    init_keys(settings.keys_dir)
    world = _world(database)
    client = TestClient(create_app(settings, database))
    source = format_files["flac"].read_bytes()
    form = {"licensee_id": str(world["licensee"]), "model_id": str(world["model"])}
    files = {"file": ("song.flac", source, "audio/flac")}

    assert client.post("/api/v1/label", data=form, files=files).status_code == 401
    rival = {"Authorization": f"Bearer {world['rival_token']}"}
    assert client.post("/api/v1/label", data=form, files=files, headers=rival).status_code == 403

    headers = {"Authorization": f"Bearer {world['token']}"}
    response = client.post(
        "/api/v1/label",
        data={**form, "reservations": "ai_training=notAllowed", "composite": "true"},
        files=files,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/flac"
    watermark_id = response.headers["x-sostenuto-watermark-id"]
    log_entry = response.headers["x-sostenuto-log-entry"]
    labelled = response.content
    assert labelled != source

    # Anyone may inspect and resolve.
    found = client.post(
        "/api/v1/label/inspect", files={"file": ("x.flac", labelled, "audio/flac")}
    ).json()
    assert found["ai_generated"] is True
    assert found["manifest"]["trusted"] is True
    assert found["manifest"]["source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert found["manifest"]["training_mining"] == {"cawg.ai_training": "notAllowed"}
    assert f"{found['watermark']['watermark_id']:08x}" == watermark_id
    assert found["log_entry_id"] == log_entry
    assert found["registered"]["licensee_name"] == "Aurora Audio Ltd"
    record = client.get(f"/api/v1/label/watermarks/{watermark_id}").json()
    assert record["log_entry_id"] == log_entry
    assert client.get("/api/v1/label/watermarks/00000000").status_code in (404, 200)
    assert client.get("/api/v1/label/watermarks/zz").status_code == 422

    mine = client.get(f"/api/v1/label/licensees/{world['licensee']}/watermarks", headers=headers)
    assert [f"{r['watermark_id']:08x}" for r in mine.json()] == [watermark_id]
    theirs = client.get(f"/api/v1/label/licensees/{world['licensee']}/watermarks", headers=rival)
    assert theirs.status_code == 403
    bad = client.post("/api/v1/label/inspect", files={"file": ("a.txt", b"hello" * 99, "text")})
    assert bad.status_code == 415


@pytest.fixture
def served(sqlite_database: Database, settings: Settings) -> Iterator[str]:
    init_keys(settings.keys_dir)
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


@pytest.mark.audio
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_inspect_page_in_headless_chromium(
    served: str, settings: Settings, format_files: dict[str, Path], tmp_path: Path
) -> None:

    from sostenuto.label import Label, label_file, load_keys

    labelled = label_file(
        format_files["wav"],
        Label(model="Tessitura 2.1", licensee="Aurora Audio Ltd", watermark_id=0x0BADF00D),
        output=tmp_path / "song.wav",
        keys=load_keys(settings.keys_dir),
    )
    with chromium() as browser:
        page = browser.new_page()
        page.goto(served + "/")
        page.click("text=Inspect a file")
        assert page.url.endswith("/label/inspect")
        page.set_input_files("#file", labelled.path)
        page.click("#inspect")
        page.wait_for_selector("#verdict")
        assert "labelled as AI-generated" in page.inner_text("#verdict")
        summary = page.inner_text("#summary")
        assert "verified and trusted" in summary
        assert "Tessitura 2.1" in summary
        assert "0badf00d" in page.inner_text("#layer-watermark")
        assert "verified, trusted signer" in page.inner_text("#layer-c2pa")
        assert "Aurora Audio Ltd" in page.inner_text("#layer-metadata")

        # An unlabelled file reads as such; a tampered one fails validation.
        page.goto(served + "/label/inspect")
        page.set_input_files("#file", str(format_files["wav"]))
        page.click("#inspect")
        page.wait_for_selector("#verdict")
        assert "no AI-generation label" in page.inner_text("#verdict")

        data = bytearray(Path(labelled.path).read_bytes())
        data[len(data) // 3] ^= 0x01
        tampered = tmp_path / "tampered.wav"
        tampered.write_bytes(bytes(data))
        page.goto(served + "/label/inspect")
        page.set_input_files("#file", str(tampered))
        page.click("#inspect")
        page.wait_for_selector("#verdict")
        assert "fails validation" in page.inner_text("#layer-c2pa")
        assert "FAILS validation" in page.inner_text("#summary")
