"""Registering a recording with its audio is one act: all of it is stored, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR, Principal
from sostenuto.errors import Conflict, Forbidden, UnsupportedFormat
from sostenuto.identify import catalogue_stats, open_catalogue, recording_key
from sostenuto.registry import (
    add_cmo,
    add_recording,
    add_recording_with_audio,
    attach_audio,
    file_sha256,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.identify import RecordingFingerprint
from sostenuto.storage.models.registry import Recording
from tests.audio.conftest import ogg_with_empty_last_packet
from tests.identify.conftest import render_piece

ISRC = "ES-A7Q-24-00001"


def _cmo(database: Database) -> int:
    with database.transaction() as session:
        return add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id


def _counts(database: Database) -> tuple[int, int, int]:
    with database.reader() as session:
        return (
            session.scalar(select(func.count()).select_from(Recording)) or 0,
            session.scalar(select(func.count()).select_from(RecordingFingerprint)) or 0,
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.entity_type == "recording")
            )
            or 0,
        )


def test_undecodable_audio_leaves_no_recording_and_a_retry_succeeds(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    cmo = _cmo(database)
    bogus = tmp_path / "marea.ogg"
    bogus.write_bytes(b"OggS, or so it says; a text file all the same\n" * 200)
    with pytest.raises(UnsupportedFormat):
        add_recording_with_audio(
            database, settings, OPERATOR, bogus, cmo_id=cmo, isrc=ISRC, title="Marea"
        )
    assert _counts(database) == (0, 0, 0)

    # The same call with the real file: no conflict with a half-registered first try.
    audio = write_wav(tmp_path / "marea.wav", render_piece(seed=7, seconds=20), 8000)
    info, registered = add_recording_with_audio(
        database, settings, OPERATOR, audio, cmo_id=cmo, isrc=ISRC, title="Marea"
    )
    assert info.isrc == "ESA7Q2400001" and info.audio_sha256 == file_sha256(audio)
    assert info.duration_ms == 20_000  # from the audio
    assert registered.recording_id == info.id and registered.hashes > 100
    with database.reader() as session:
        row = session.get(RecordingFingerprint, info.id)
        assert row is not None and row.audio_sha256 == info.audio_sha256
        assert row.index_key == recording_key(info.id) and row.hashes == registered.hashes
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "recording")
        ).all()
    assert sorted(actions) == ["create", "fingerprint"]
    assert recording_key(info.id) in open_catalogue(settings)


def test_a_refused_write_leaves_the_registry_and_the_index_as_they_were(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    cmo = _cmo(database)
    first = write_wav(tmp_path / "a.wav", render_piece(seed=3, seconds=12), 8000)
    second = write_wav(tmp_path / "b.wav", render_piece(seed=4, seconds=12), 8000)
    add_recording_with_audio(database, settings, OPERATOR, first, cmo_id=cmo, isrc=ISRC, title="A")
    before = _counts(database)
    with pytest.raises(Conflict):
        add_recording_with_audio(
            database, settings, OPERATOR, second, cmo_id=cmo, isrc=ISRC, title="B"
        )
    assert _counts(database) == before
    assert catalogue_stats(settings).tracks == 1


def test_the_given_duration_is_kept_and_another_cmo_is_refused_before_decoding(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    cmo = _cmo(database)
    audio = write_wav(tmp_path / "a.wav", render_piece(seed=5, seconds=10), 8000)
    info, _ = add_recording_with_audio(
        database, settings, OPERATOR, audio, cmo_id=cmo, isrc=ISRC, title="A", duration_ms=9_500
    )
    assert info.duration_ms == 9_500
    stranger = Principal("sami-admin", "cmo-admin", cmo_id=cmo + 1)
    with pytest.raises(Forbidden):
        add_recording_with_audio(
            database, settings, stranger, tmp_path / "missing.wav", cmo_id=cmo, isrc=ISRC, title="A"
        )


def test_a_file_the_in_process_decoder_refused_registers(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    cmo = _cmo(database)
    audio = ogg_with_empty_last_packet(tmp_path / "vlc.ogg")
    info, registered = add_recording_with_audio(
        database, settings, OPERATOR, audio, cmo_id=cmo, isrc=ISRC, title="Christmas"
    )
    assert info.duration_ms is not None and abs(info.duration_ms - 6_000) <= 20
    assert registered.hashes > 100


def test_attaching_audio_sets_a_missing_duration(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    cmo = _cmo(database)
    with database.transaction() as session:
        recording_id = add_recording(session, OPERATOR, cmo_id=cmo, isrc=ISRC, title="A").id
    audio = write_wav(tmp_path / "a.wav", render_piece(seed=6, seconds=15), 8000)
    attach_audio(database, settings, OPERATOR, recording_id, audio)
    with database.reader() as session:
        stored = session.get(Recording, recording_id)
        assert stored is not None
        assert stored.duration_ms == 15_000 and stored.audio_sha256 == file_sha256(audio)
