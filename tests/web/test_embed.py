"""A labelled file's shareable inspection page, its embeddable label and oEmbed 1.0."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile
from fastapi.testclient import TestClient

from sostenuto.auth import Principal
from sostenuto.label import init_keys, label_output
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.label.conftest import RATE, synth_music
from tests.web.conftest import World, app_client

pytestmark = pytest.mark.audio
AURORA_MODEL = 1  # aurora-music 2.1, the demo's model of Aurora Audio Labs


@dataclass(frozen=True)
class Labelled:
    source: bytes  # the output as generated: the log declares its hash
    labelled: bytes  # the same with its labels
    log_index: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.labelled).hexdigest()


def label_demo_output(
    database: Database, settings: Settings, world: World, folder: Path
) -> tuple[Path, Labelled]:
    """An output of Aurora's model, labelled (every layer) and declared in the log."""
    init_keys(settings.keys_dir)
    source = folder / "output.wav"
    soundfile.write(str(source), synth_music(8.0, seed=3), RATE, subtype="PCM_16")
    developer = Principal(name="aurora", role="licensee", licensee_id=world.aurora)
    result, record = label_output(
        database,
        settings,
        developer,
        source,
        licensee_id=world.aurora,
        model_id=AURORA_MODEL,
        output=folder / "labelled.wav",
    )
    assert record.log_index is not None
    path = Path(result.path)
    return path, Labelled(source.read_bytes(), path.read_bytes(), record.log_index)


@pytest.fixture
def labelled(
    sqlite_database: Database, settings: Settings, world: World, tmp_path: Path
) -> Labelled:
    return label_demo_output(sqlite_database, settings, world, tmp_path)[1]


@pytest.fixture
def client(sqlite_database: Database, settings: Settings, labelled: Labelled) -> TestClient:
    return app_client(sqlite_database, settings)


def _inspect(client: TestClient, data: bytes, name: str = "a private name.wav") -> str:
    response = client.post(
        "/label/inspect", files={"file": (name, data, "audio/wav")}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_an_inspection_gets_a_shareable_address(client: TestClient, labelled: Labelled) -> None:
    assert _inspect(client, labelled.labelled) == f"/label/inspect/{labelled.sha256}"
    page = client.get(f"/label/inspect/{labelled.sha256}").text
    assert "labelled as AI-generated" in page
    assert "verified, trusted signer" in page
    assert f'href="/log/entries/{labelled.log_index}"' in page
    assert "aurora-music 2.1" in page
    assert "a private name" not in page  # the file's name is not kept
    assert 'id="layer-detail"' in page and "Detection score" in page
    # Discovery (oEmbed) and the snippet to copy.
    assert 'type="application/json+oembed"' in page
    assert f"/oembed?url=https%3A//testserver/label/inspect/{labelled.sha256}" in page
    assert f'&lt;iframe src="https://testserver/embed/label/{labelled.sha256}"' in page


def test_a_file_never_inspected_is_found_in_the_log_by_its_hash(
    client: TestClient, labelled: Labelled
) -> None:
    # Nobody inspected the output as generated, but its declaration names its hash.
    sha = hashlib.sha256(labelled.source).hexdigest()
    page = client.get(f"/label/inspect/{sha}").text
    assert "No inspection of this file was kept; the log declares it" in page
    assert "declared in the log as AI-generated" in page
    assert f'href="/log/entries/{labelled.log_index}"' in page
    unknown = client.get(f"/label/inspect/{'ab' * 32}", headers={"accept": "text/html"})
    assert unknown.status_code == 404
    assert client.get("/label/inspect/not-a-hash").status_code == 422


def test_a_plain_recording_reads_as_unlabelled_and_a_non_audio_file_is_refused(
    client: TestClient, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.wav"
    soundfile.write(str(plain), synth_music(4.0, seed=9), RATE, subtype="PCM_16")
    address = _inspect(client, plain.read_bytes())
    page = client.get(address).text
    assert "no AI-generation label found" in page
    assert "No output declaration in the log names this file" in page

    refused = client.post("/label/inspect", files={"file": ("x.py", b"print(1)\n" * 50, "text")})
    assert refused.status_code == 415
    assert 'id="error"' in refused.text


def test_the_embedded_label_may_be_framed_and_nothing_else_changes(
    client: TestClient, labelled: Labelled
) -> None:
    _inspect(client, labelled.labelled)
    frame = client.get(f"/embed/label/{labelled.sha256}")
    assert frame.status_code == 200
    assert frame.headers["content-security-policy"] == "frame-ancestors *"
    assert "x-frame-options" not in frame.headers
    assert '<h1 id="embed-verdict">AI-generated</h1>' in frame.text
    assert "aurora-music 2.1" in frame.text
    assert f'<span id="embed-index">{labelled.log_index}</span>' in frame.text
    assert f'href="/label/inspect/{labelled.sha256}"' in frame.text
    assert "<nav" not in frame.text and "sostenuto.css" not in frame.text  # no site chrome
    for path in ("/", "/label/inspect", f"/label/inspect/{labelled.sha256}", "/log"):
        assert "frame-ancestors *" not in client.get(path).headers.get(
            "content-security-policy", ""
        ), path
    unknown = client.get(f"/embed/label/{'cd' * 32}")
    assert unknown.status_code == 404
    assert unknown.headers["content-security-policy"] == "frame-ancestors *"
    assert "Unknown file" in unknown.text


def test_oembed_answers_per_the_specification(client: TestClient, labelled: Labelled) -> None:
    _inspect(client, labelled.labelled)
    page_url = f"https://testserver/label/inspect/{labelled.sha256}"
    answer = client.get("/oembed", params={"url": page_url, "format": "json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "Sostenuto"
    assert isinstance(body["width"], int) and isinstance(body["height"], int)
    assert (
        f'<iframe src="https://testserver/embed/label/{labelled.sha256}" '
        f'width="{body["width"]}" height="{body["height"]}"' in body["html"]
    )
    assert "AI-generated" in body["title"]
    # The embed address is accepted too, and the consumer's maximum size is kept to.
    small = client.get(
        "/oembed",
        params={
            "url": f"https://testserver/embed/label/{labelled.sha256}",
            "maxwidth": "200",
            "maxheight": "90",
        },
    ).json()
    assert (small["width"], small["height"]) == (200, 90)
    assert 'width="200" height="90"' in small["html"]

    assert client.get("/oembed", params={"url": page_url, "format": "xml"}).status_code == 501
    for unknown in (
        f"https://testserver/label/inspect/{'ef' * 32}",  # no such file
        f"https://elsewhere.example/label/inspect/{labelled.sha256}",  # not this site
        "https://testserver/log",  # not a file's page
        "https://testserver/label/inspect/xyz",
    ):
        response = client.get("/oembed", params={"url": unknown, "format": "json"})
        assert response.status_code == 404, unknown
