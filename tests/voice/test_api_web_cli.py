"""The HTTP API, the timeline page and the CLI over the same services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.voice.conftest import ALICE, BRUNO, Registry


@pytest.fixture
def tokens(sqlite_database: Database, registry_sqlite: Registry) -> dict[str, str]:
    with sqlite_database.transaction() as session:
        return {
            "cmo": issue_token(session, role="cmo-admin", label="aie", cmo_id=registry_sqlite.cmo),
            "dev": issue_token(
                session, role="licensee", label="dev", licensee_id=registry_sqlite.licensee
            ),
            "rival": issue_token(
                session, role="licensee", label="rival", licensee_id=registry_sqlite.other_licensee
            ),
        }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _file(path: Path) -> tuple[str, bytes, str]:
    return (path.name, path.read_bytes(), "audio/wav")


def test_enrol_screen_read_and_declare_over_http(
    sqlite_database: Database,
    registry_sqlite: Registry,
    settings: Settings,
    tokens: dict[str, str],
    speech: dict[tuple[str, int], Path],
    conversation: tuple[Path, dict[str, tuple[float, float]]],
) -> None:
    client = TestClient(create_app(settings, sqlite_database))
    clips = [("clips", _file(speech[(ALICE, i)])) for i in range(3)]
    url = f"/api/v1/voice/performers/{registry_sqlite.alice}/voiceprints"
    assert client.post(url, files=clips).status_code == 401
    assert client.post(url, files=clips, headers=_auth(tokens["dev"])).status_code == 403
    short = client.post(url, files=clips, headers=_auth(tokens["cmo"]))
    # About 10 s of voice: refused without the explicit override, naming what to expect.
    assert short.status_code == 422 and "recommended" in short.json()["detail"]
    enrolled = client.post(
        url, files=clips, data={"accept_short": "true"}, headers=_auth(tokens["cmo"])
    )
    assert enrolled.status_code == 201, enrolled.text
    assert {v["performer_id"] for v in enrolled.json()} == {registry_sqlite.alice}
    listed = client.get("/api/v1/voice/voiceprints", headers=_auth(tokens["cmo"])).json()
    assert len(listed) == 2 and all("embedding" not in v for v in listed)
    assert {v["model_name"] for v in listed} == {"resemblyzer-ge2e", "mfcc-stats"}

    path, _ = conversation
    screened = client.post(
        "/api/v1/voice/screenings",
        files={"file": _file(path)},
        data={"territory": "ES", "on_date": "2026-06-01"},
        headers=_auth(tokens["dev"]),
    )
    assert screened.status_code == 201, screened.text
    report = screened.json()
    assert report["licensee_id"] == registry_sqlite.licensee
    statuses = {(r["performer_id"], r["status"]) for r in report["ranges"]}
    assert (registry_sqlite.alice, "unauthorised") in statuses
    assert (None, "unknown-voice") in statuses

    own = client.get(f"/api/v1/voice/screenings/{report['id']}", headers=_auth(tokens["dev"]))
    assert own.status_code == 200 and own.json()["ranges"] == report["ranges"]
    rival = client.get(f"/api/v1/voice/screenings/{report['id']}", headers=_auth(tokens["rival"]))
    assert rival.status_code == 404
    svg = client.get(
        f"/api/v1/voice/screenings/{report['id']}/timeline.svg", headers=_auth(tokens["dev"])
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert 'data-status="unauthorised"' in svg.text

    page = client.get(f"/voice/screenings/{report['id']}", headers=_auth(tokens["dev"]))
    assert page.status_code == 200
    assert "<svg" in page.text and "Alice Vox" in page.text and "unauthorised" in page.text
    listing = client.get("/voice/screenings", headers=_auth(tokens["dev"]))
    assert report["id"] in listing.text
    assert report["id"] not in client.get("/voice/screenings", headers=_auth(tokens["rival"])).text

    declared = client.post(
        f"/api/v1/voice/screenings/{report['id']}/declarations", headers=_auth(tokens["dev"])
    )
    assert declared.status_code == 200, declared.text
    assert set(declared.json()) == {str(registry_sqlite.alice)}
    again = client.get(f"/api/v1/voice/screenings/{report['id']}", headers=_auth(tokens["dev"]))
    assert again.json()["declared"] == declared.json()


def test_a_non_audio_upload_is_a_problem_document(
    sqlite_database: Database, settings: Settings, tokens: dict[str, str]
) -> None:
    client = TestClient(create_app(settings, sqlite_database))
    answer = client.post(
        "/api/v1/voice/screenings",
        files={"file": ("notes.wav", b"not audio at all" * 100, "audio/wav")},
        headers=_auth(tokens["dev"]),
        data={"territory": "ES"},
    )
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unsupported-format"


def test_cli_enrols_lists_and_screens(
    sqlite_database: Database,
    registry_sqlite: Registry,
    speech: dict[tuple[str, int], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sostenuto.cli import _context
    from sostenuto.cli.main import app

    # The CLI acts on the configured database: point it at this test's one.
    monkeypatch.setenv("SOSTENUTO_DATABASE_URL", sqlite_database.url)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    from sostenuto.settings import get_settings

    get_settings.cache_clear()
    _context.database.cache_clear()
    runner = CliRunner()
    clips = [str(speech[(ALICE, i)]) for i in range(3)]
    enrolled = runner.invoke(
        app, ["voice", "enrol", str(registry_sqlite.alice), *clips, "--accept-short", "--json"]
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert json.loads(enrolled.output)[0]["clips"] == 3
    listed = runner.invoke(app, ["voice", "list", "--json"])
    assert {v["performer_id"] for v in json.loads(listed.output)} == {registry_sqlite.alice}
    svg = tmp_path / "timeline.svg"
    screened = runner.invoke(
        app, ["voice", "screen", str(speech[(BRUNO, 2)]), "--svg", str(svg), "--json"]
    )
    assert screened.exit_code == 0, screened.output
    assert {r["status"] for r in json.loads(screened.output)["ranges"]} == {"unknown-voice"}
    assert svg.read_text().startswith("<svg")
    get_settings.cache_clear()
    _context.database.cache_clear()
