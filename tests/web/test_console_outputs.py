"""The licensee console's outputs page over HTTP: a generated WAV labelled and declared from a
form, the labelled file downloaded and inspected, its receipt verified offline; the list of the
licensee's declarations; other roles, other licensees and forged CSRF tokens refused."""

from __future__ import annotations

import io
import json
import re

import pytest
import soundfile
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from sostenuto.auth import add_user
from sostenuto.label import init_keys, inspect_upload
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.label import WatermarkMark
from sostenuto.storage.models.registry import AiModel, Licensee
from sostenuto.transparency import verifier_key, verify_receipt
from tests.label.conftest import RATE, synth_music
from tests.web.conftest import PASSWORD, World, app_client, sign_in

pytestmark = pytest.mark.audio


@pytest.fixture(scope="module")
def wav() -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, synth_music(8.0, seed=11), RATE, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


@pytest.fixture
def aurora_model(sqlite_database: Database, settings: Settings, world: World) -> int:
    init_keys(settings.keys_dir)
    with sqlite_database.reader() as session:
        model = session.scalars(select(AiModel).where(AiModel.licensee_id == world.aurora)).first()
        assert model is not None
        return model.id


def _marks(database: Database) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(WatermarkMark)) or 0)


def _label(client: TestClient, csrf: str, wav: bytes, model: int, **extra: str) -> Response:
    return client.post(
        "/console/outputs",
        data={"csrf_token": csrf, "model_id": str(model), "confirm": "yes", **extra},
        files={"file": ("my song.wav", wav, "audio/wav")},
        follow_redirects=False,
    )


def test_a_licensee_labels_downloads_and_verifies_its_receipt(
    sqlite_database: Database, settings: Settings, world: World, aurora_model: int, wav: bytes
) -> None:
    client = app_client(sqlite_database, settings)
    csrf = sign_in(client, "aurora")
    form = client.get("/console/outputs").text
    assert 'id="label-form"' in form and 'name="csrf_token"' in form
    assert f'<option value="{aurora_model}"' in form
    assert "cannot be withdrawn" in form and 'name="confirm"' in form

    # Without the confirmation nothing is labelled nor declared.
    unconfirmed = _label(client, csrf, wav, aurora_model, confirm="")
    assert unconfirmed.status_code == 422 and 'id="error"' in unconfirmed.text
    assert _marks(sqlite_database) == 0

    labelled = _label(client, csrf, wav, aurora_model)
    assert labelled.status_code == 303, labelled.text
    location = labelled.headers["location"]
    assert re.fullmatch(r"/console/outputs/[0-9a-f]{16}", location)
    page = client.get(location).text
    watermark = re.search(r'id="watermark-id">([0-9a-f]{8})<', page).group(1)  # type: ignore[union-attr]
    index = int(re.search(r'id="receipt-index">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert f'href="/log/entries/{index}"' in page

    download = client.get(location + "/file")
    assert download.status_code == 200 and download.headers["content-type"] == "audio/wav"
    assert 'filename="labelled-my_song.wav"' in download.headers["content-disposition"]
    assert download.content != wav
    found = inspect_upload(sqlite_database, settings, download.content, "labelled.wav")
    assert found.ai_generated and found.manifest.state == "Trusted"
    assert found.watermark is not None and found.watermark.watermark_id is not None
    assert f"{found.watermark.watermark_id:08x}" == watermark
    assert found.registered is not None and found.registered.log_index == index

    receipt = client.get(location + "/receipt.json")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["content-disposition"]
    verified = verify_receipt(receipt.json(), verifier_key(settings))
    assert verified.index == index
    entry = json.loads(verified.entry)
    assert entry["type"] == "output-declaration"
    assert entry["payload"]["licensee_id"] == world.aurora

    receipts = client.get("/console/receipts").text
    assert f'data-index="{index}"' in receipts and f'href="/log/entries/{index}"' in receipts
    assert client.get(f"/console/receipts?before={index}").text.count(f'data-index="{index}"') == 0


def test_the_receipts_list_is_newest_first_and_paged(
    sqlite_database: Database, settings: Settings, world: World, aurora_model: int, wav: bytes
) -> None:
    from sostenuto.web import console_outputs

    client = app_client(sqlite_database, settings)
    csrf = sign_in(client, "aurora")
    for _ in range(3):
        assert _label(client, csrf, wav, aurora_model).status_code == 303
    page = client.get("/console/receipts").text
    indexes = [int(x) for x in re.findall(r'data-index="(\d+)"', page)]
    assert len(indexes) >= 3 and indexes == sorted(indexes, reverse=True)
    assert len(indexes) <= console_outputs.RECEIPTS_PER_PAGE
    assert client.get("/console/receipts?before=-1").status_code == 422


def test_refusals_store_nothing(
    sqlite_database: Database, settings: Settings, world: World, aurora_model: int, wav: bytes
) -> None:
    with sqlite_database.transaction() as session:
        rival = Licensee(name="Rival Sounds", kind="platform", country="DE")
        session.add(rival)
        session.flush()
        rival_model = AiModel(licensee_id=rival.id, name="Echo", version="1", purpose="music")
        session.add(rival_model)
        session.flush()
        rival_model_id = rival_model.id
        add_user(
            session, username="rival", password=PASSWORD, role="licensee", licensee_id=rival.id
        )

    aurora = app_client(sqlite_database, settings)
    csrf = sign_in(aurora, "aurora")
    # CSRF: without the session's token, or with a forged one, nothing is labelled.
    for token in ("", "forged"):
        assert _label(aurora, token, wav, aurora_model).status_code == 403
    # Another licensee's model is refused by the service and shown beside the form.
    theirs = _label(aurora, csrf, wav, rival_model_id)
    assert theirs.status_code in (403, 404, 422) and 'id="error"' in theirs.text
    # Not audio: a clear error beside the form.
    text = aurora.post(
        "/console/outputs",
        data={"csrf_token": csrf, "model_id": str(aurora_model), "confirm": "yes"},
        files={"file": ("notes.wav", b"hello" * 100, "audio/wav")},
    )
    assert text.status_code >= 400 and 'id="error"' in text.text
    assert _marks(sqlite_database) == 0

    location = _label(aurora, csrf, wav, aurora_model).headers["location"]
    assert _marks(sqlite_database) == 1

    # Every other role is refused every page; another licensee cannot read Aurora's output.
    for username, expected in (("", 401), ("lucia", 403), ("marta", 403), ("audra", 403)):
        client = app_client(sqlite_database, settings)
        other = sign_in(client, username) if username else ""
        for path in ("/console/outputs", "/console/receipts", location, location + "/file"):
            assert client.get(path, follow_redirects=False).status_code == expected, (
                username,
                path,
            )
        assert _label(client, other, wav, aurora_model).status_code == expected, username
    rival_client = app_client(sqlite_database, settings)
    rival_csrf = sign_in(rival_client, "rival")
    for path in (location, location + "/file", location + "/receipt.json"):
        assert rival_client.get(path).status_code == 404, path
    assert _label(rival_client, rival_csrf, wav, aurora_model).status_code != 303
    assert _marks(sqlite_database) == 1
    assert aurora.get("/console/outputs/../../etc").status_code == 404
    assert aurora.get("/console/outputs/" + "0" * 16).status_code == 404
