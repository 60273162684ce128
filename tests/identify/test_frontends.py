"""The identify commands (CliRunner) and HTTP endpoints and pages (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sostenuto.api import create_app
from sostenuto.audio import write_wav
from sostenuto.auth import issue_token
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import NotFound
from sostenuto.identify import (
    DEFAULT_THRESHOLD,
    ScreenRequest,
    register_recording_audio,
    screen_corpus,
)
from sostenuto.settings import Settings, get_settings
from sostenuto.storage import Database
from tests.consent.conftest import World
from tests.identify.conftest import Samples, lab, render_piece

RATE = 8000


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    get_settings.cache_clear()
    _context.database.cache_clear()
    yield tmp_path
    _context.database().dispose()
    _context.database.cache_clear()
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_index_check_output_and_screen(data_dir: Path, pieces: dict[int, Samples]) -> None:
    a = write_wav(data_dir / "a.wav", pieces[1], RATE)
    b = write_wav(data_dir / "b.wav", pieces[2], RATE)
    code, output = run("identify", "index", "add", str(a), str(b), "--key", "one", "--key", "two")
    assert code == 0, output
    code, output = run("identify", "index", "stats", "--json")
    stats = orjson.loads(output)
    assert stats["tracks"] == 2 and stats["bytes per hour"] > 0
    generated = render_piece(5, 20.0)
    generated[4 * RATE : 12 * RATE] += pieces[2][10 * RATE : 18 * RATE]
    out = write_wav(data_dir / "gen.wav", generated / np.max(np.abs(generated)), RATE)
    code, output = run("check-output", str(out), "--json")
    assert code == 0, output
    (segment,) = orjson.loads(output)["segments"]
    assert segment["key"] == "two" and segment["recording_id"] is None
    code, output = run("identify", "index", "remove", "one")
    assert code == 0 and "removed 1" in output
    code, output = run("identify", "index", "compact")
    assert code == 0 and "1 tracks" in output
    # Screening refuses an unknown licensee (main() maps NotFound to its exit code).
    refused = CliRunner().invoke(
        app,
        ["screen", str(data_dir), "--licensee", "99", "--use", "train-genai", "--territory", "ES"],
    )
    assert isinstance(refused.exception, NotFound)
    assert "no licensee 99" in refused.exception.message


def test_cli_screen_json_is_only_json_and_another_threshold_is_another_screen(
    data_dir: Path, pieces: dict[int, Samples]
) -> None:
    corpus = data_dir / "corpus"
    corpus.mkdir()
    write_wav(corpus / "a.wav", pieces[1][: 15 * RATE], RATE)
    write_wav(corpus / "b.wav", render_piece(77, 15.0), RATE)
    licensee = World(_context.database()).licensee("Lab one")
    command = ["screen", str(corpus), "--licensee", str(licensee), "--use", "train-genai"]
    command += ["--territory", "ES", "--json"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    # stdout is the report and nothing else: progress goes to stderr.
    report = orjson.loads(first.stdout)
    assert report["summary"]["unregistered"] == 2
    assert report["meta"]["threshold"] == DEFAULT_THRESHOLD
    stricter = CliRunner().invoke(app, [*command, "--threshold", "30"])
    assert stricter.exit_code == 0, stricter.output
    other = orjson.loads(stricter.stdout)
    assert other["screen_id"] != report["screen_id"] and other["meta"]["threshold"] == 30.0


@pytest.fixture
def api(
    database: Database, settings: Settings, pieces: dict[int, Samples], tmp_path: Path
) -> tuple[TestClient, dict[str, int], dict[str, str]]:
    world = World(database)
    ids = {"A": world.cmo("A", "ES")}
    ids["L1"], ids["L2"] = world.licensee("Lab one"), world.licensee("Lab two")
    performer = world.performer("Ana")
    world.mandate(performer, ids["A"])
    ids["r1"] = world.recording(performer, cmo=ids["A"])
    world.licence(ids["A"], ids["L1"])
    register_recording_audio(
        database, settings, ids["r1"], write_wav(tmp_path / "r1.wav", pieces[3], RATE)
    )
    with database.transaction() as session:
        tokens = {
            "L1": issue_token(session, role="licensee", label="L1", licensee_id=ids["L1"]),
            "L2": issue_token(session, role="licensee", label="L2", licensee_id=ids["L2"]),
        }
    return TestClient(create_app(settings, database)), ids, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_check_output_and_screen_reports(
    api: tuple[TestClient, dict[str, int], dict[str, str]],
    database: Database,
    settings: Settings,
    pieces: dict[int, Samples],
    tmp_path: Path,
) -> None:
    client, ids, tokens = api
    clip = write_wav(tmp_path / "clip.wav", pieces[3][6 * RATE : 16 * RATE], RATE)
    files = {"file": ("clip.wav", clip.read_bytes(), "audio/wav")}
    assert client.post("/api/v1/identify/check-output", files=files).status_code == 401
    answer = client.post("/api/v1/identify/check-output", files=files, headers=bearer(tokens["L1"]))
    assert answer.status_code == 200, answer.text
    (segment,) = answer.json()["segments"]
    assert segment["recording_id"] == ids["r1"]
    assert segment["reference_start"] - segment["query_start"] == pytest.approx(6.0, abs=0.2)
    broken = {"file": ("x.mp3", b"not audio at all", "audio/mpeg")}
    bad = client.post("/api/v1/identify/check-output", files=broken, headers=bearer(tokens["L1"]))
    assert bad.status_code == 415
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_wav(corpus / "c.wav", pieces[3][: 20 * RATE], RATE)
    report = screen_corpus(
        database,
        settings,
        lab(ids["L1"]),
        ScreenRequest(source=corpus, licensee_id=ids["L1"], use="train-genai", territory="ES"),
    )
    url = f"/api/v1/identify/screens/{report.screen_id}"
    own = client.get(url, headers=bearer(tokens["L1"]))
    assert own.status_code == 200 and own.json()["summary"]["permitted"] == 1
    assert client.get(url, headers=bearer(tokens["L2"])).status_code == 403
    assert (
        client.get("/api/v1/identify/screens/../../etc", headers=bearer(tokens["L1"])).status_code
        == 404
    )
    page = client.get(f"/identify/screens/{report.screen_id}", headers=bearer(tokens["L1"]))
    assert page.status_code == 200 and "c.wav" in page.text and "permitted" in page.text
    listing = client.get("/identify/screens", headers=bearer(tokens["L2"]))
    assert listing.status_code == 200 and report.screen_id not in listing.text
    stats = client.get("/api/v1/identify/index", headers=bearer(tokens["L1"])).json()
    assert stats["tracks"] == 1
    assert stats["threshold"] == {
        "value": DEFAULT_THRESHOLD,
        "calibrated_at": None,
        "source": "default",
    }
