"""The office dashboard's alerts (denials of the past week, reservations published in the
past month) and the office's reference audio upload, over HTTP with a browser session."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import orjson
import soundfile
from sqlalchemy import select

from sostenuto import consent, declarations
from sostenuto.auth import Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.identify import RecordingFingerprint
from sostenuto.storage.models.registry import Recording
from sostenuto.storage.models.voice import VoiceMatch, VoiceScreening
from sostenuto.voice import RangeReport, ScreeningReport
from tests.identify.conftest import render_piece
from tests.web.conftest import LUCIA, World, app_client, sign_in

RATE = 8000
AIE_ISRC = "ESA7Q1900101"  # a recording of AIE's catalogue
OTHER_ROLES = ("lucia", "aurora", "audra")  # performer, licensee, auditor


def _wav(folder: Path, seconds: float = 12.0) -> bytes:
    path = folder / "master.wav"
    soundfile.write(path, render_piece(7, seconds, RATE), RATE)
    return path.read_bytes()


def _stored(database: Database, isrc: str) -> tuple[str | None, RecordingFingerprint | None]:
    with database.reader() as session:
        recording = session.scalars(select(Recording).where(Recording.isrc == isrc)).one()
        return recording.audio_sha256, session.get(RecordingFingerprint, recording.id)


def _alerts(page: str) -> str:
    return page.split('id="alerts"')[1].split("</section>")[0]


def test_the_dashboard_says_no_alerts_then_lists_denials_and_reservations(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    assert "No alerts." in _alerts(marta.get("/office").text)

    # Aurora is denied a use of an AIE recording; AIE reserves a performer's voice cloning.
    aurora = Principal("user:aurora", "licensee", licensee_id=world.aurora)
    admin = Principal("user:marta", "cmo-admin", cmo_id=world.aie)
    with sqlite_database.transaction() as session:
        recording = session.scalars(select(Recording).where(Recording.isrc == AIE_ISRC)).one()
        rule = consent.prohibit(
            session,
            admin,
            scope="recording",
            scope_id=recording.id,
            uses=["train-genai"],
            territories=["WW"],
            valid_from=dt.datetime.now(dt.UTC).date(),
        )
    assert declarations.publish_rule_change(sqlite_database, settings, admin, rule) is not None
    with sqlite_database.transaction() as session:
        denied = consent.decide(
            session,
            aurora,
            licensee_id=world.aurora,
            isrc=AIE_ISRC,
            use="train-genai",
            territory="ES",
        )
    assert not denied.permitted

    alerts = _alerts(marta.get("/office").text)
    assert "No alerts." not in alerts
    denied_item = alerts.split('id="alert-denied"')[1].split("</li>")[0]
    assert '<span class="count">1</span> consent decision on our repertoire denied' in denied_item
    narrowing = alerts.split('id="alert-narrowing"')[1].split("</li>")[0]
    assert '<span class="count">1</span> reservation' in narrowing
    assert 'href="/reservations/AIE"' in narrowing

    # GVL's office sees none of AIE's alerts.
    greta = app_client(sqlite_database, settings)
    sign_in(greta, "greta")
    assert "No alerts." in _alerts(greta.get("/office").text)


def test_the_admin_registers_reference_audio_for_its_own_recording(
    sqlite_database: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    audio = _wav(tmp_path)
    marta = app_client(sqlite_database, settings)
    csrf = sign_in(marta, "marta")
    page = marta.get("/office/audio").text
    form = page.split('id="audio-form"')[1].split("</form>")[0]
    assert 'name="csrf_token"' in form and 'name="isrc"' in form and 'type="file"' in form
    assert 'enctype="multipart/form-data"' in page.split('id="audio-form"')[0][-120:]
    # What the upload does is said before the button.
    assert page.index('id="audio-consequence"') < page.index('id="audio-form"')

    sent = marta.post(
        "/office/audio",
        data={"csrf_token": csrf, "isrc": AIE_ISRC},
        files={"file": ("master.wav", audio, "audio/wav")},
    )
    assert sent.status_code == 200, sent.text
    result = sent.text.split('id="audio-result"')[1].split("</section>")[0]
    assert f"Audio registered for {AIE_ISRC}" in result
    sha256, fingerprint = _stored(sqlite_database, AIE_ISRC)
    assert sha256 == hashlib.sha256(audio).hexdigest()
    assert fingerprint is not None and fingerprint.audio_sha256 == sha256
    assert fingerprint.hashes > 0 and abs(fingerprint.duration_s - 12.0) < 0.1
    assert "12.0 s" in result and f"{fingerprint.hashes} hashes" in result

    # Other audio for the same recording is refused with the service's message.
    other = marta.post(
        "/office/audio",
        data={"csrf_token": csrf, "isrc": AIE_ISRC},
        files={"file": ("other.wav", _wav(tmp_path, 9.0), "audio/wav")},
    )
    assert other.status_code == 422
    assert "not the audio registered" in other.text.split('id="audio-error"')[1]
    assert _stored(sqlite_database, AIE_ISRC)[0] == sha256


def test_audio_is_refused_for_another_cmo_other_roles_and_without_csrf(
    sqlite_database: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    audio = _wav(tmp_path)
    upload = {"file": ("master.wav", audio, "audio/wav")}

    greta = app_client(sqlite_database, settings)  # GVL's admin, not AIE's
    csrf = sign_in(greta, "greta")
    refused = greta.post("/office/audio", data={"csrf_token": csrf, "isrc": AIE_ISRC}, files=upload)
    assert refused.status_code == 403
    error = refused.text.split('id="audio-error"')[1].split("</p>")[0]
    assert "CMO" in error
    assert f'value="{AIE_ISRC}"' in refused.text  # the form keeps the ISRC typed

    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    no_token = marta.post("/office/audio", data={"isrc": AIE_ISRC}, files=upload)
    assert no_token.status_code == 403

    for username in OTHER_ROLES:
        client = app_client(sqlite_database, settings)
        token = sign_in(client, username)
        assert client.get("/office/audio").status_code == 403
        answer = client.post(
            "/office/audio", data={"csrf_token": token, "isrc": AIE_ISRC}, files=upload
        )
        assert answer.status_code == 403, username

    unknown = marta.post(
        "/office/audio",
        data={"csrf_token": sign_in(marta, "marta"), "isrc": "ESZZZ9900001"},
        files=upload,
    )
    assert unknown.status_code == 404 and "no recording with ISRC" in unknown.text
    assert _stored(sqlite_database, AIE_ISRC) == (None, None)


def store_screening(database: Database, world: World) -> str:
    """A screening of Aurora's file, stored as ``voice.screen_file`` stores one, that found
    Lucía Ferrer's voice (an AIE member) without consent for 4 s."""
    now = dt.datetime.now(dt.UTC)
    found = RangeReport(
        2.0, 6.0, "unauthorised", world.lucia, LUCIA, 0.91, 1e-4, None, "no consent"
    )
    report = ScreeningReport(
        id="vs-alert-1",
        filename="demo-take.wav",
        audio_sha256="a" * 64,
        duration_s=10.0,
        voiced_seconds=8.0,
        model_name="fused",
        model_version="1|1",
        emphasis="balanced",
        threshold=0.8,
        voices_searched=3,
        licensee_id=world.aurora,
        territory="ES",
        on_date=now.date(),
        screened_at=now,
        ranges=[RangeReport(0.0, 2.0, "unknown-voice"), found],
    )
    with database.transaction() as session:
        session.add(
            VoiceScreening(
                id=report.id,
                screened_at=now,
                screened_by="user:aurora",
                audio_sha256=report.audio_sha256,
                filename=report.filename,
                duration_s=report.duration_s,
                licensee_id=world.aurora,
                territory="ES",
                on_date=report.on_date,
                model_name=report.model_name,
                model_version=report.model_version,
                threshold=report.threshold,
                report=orjson.loads(orjson.dumps(report.as_json())),
            )
        )
        session.flush()
        session.add(
            VoiceMatch(
                screening_id=report.id,
                performer_id=world.lucia,
                start_s=2.0,
                end_s=6.0,
                score=0.91,
                status="unauthorised",
            )
        )
    return report.id


def test_the_dashboard_alerts_a_screening_that_found_a_members_voice_without_consent(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    screening = store_screening(sqlite_database, world)
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    alerts = _alerts(marta.get("/office").text)
    item = alerts.split('class="alert-voice"')[1].split("</li>")[0]
    assert "demo-take.wav" in item and LUCIA in item and "(1 range)" in item
    assert f'href="/voice/screenings/{screening}"' in item

    # GVL does not represent Lucía Ferrer: no alert in its office.
    greta = app_client(sqlite_database, settings)
    sign_in(greta, "greta")
    assert "No alerts." in _alerts(greta.get("/office").text)
