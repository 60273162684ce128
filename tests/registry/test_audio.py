"""Registering a recording's audio stores its hash and makes screening recognise it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR, Principal
from sostenuto.errors import Forbidden, SostenutoError
from sostenuto.identify import check_output
from sostenuto.registry import add_cmo, add_recording, attach_audio
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.registry import Recording
from tests.identify.conftest import render_piece

AUDITOR = Principal(name="auditor", role="auditor")


def _recording(database: Database) -> int:
    with database.transaction() as session:
        cmo = add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES")
        return add_recording(
            session, OPERATOR, cmo_id=cmo.id, isrc="ES-A7Q-24-00001", title="Marea"
        ).id


def test_attached_audio_is_hashed_audited_and_recognised(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    recording_id = _recording(database)
    piece = render_piece(seed=7, seconds=40)
    audio = write_wav(tmp_path / "marea.wav", piece, 8000)

    registered = attach_audio(database, settings, OPERATOR, recording_id, audio)

    with database.reader() as session:
        stored = session.get(Recording, recording_id)
        assert stored is not None and stored.audio_sha256 == registered.audio_sha256
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "recording")
        ).all()
        assert any(e.action == "update" and e.after and e.after["audio_sha256"] for e in events)
    excerpt = write_wav(tmp_path / "excerpt.wav", piece[8000 * 12 : 8000 * 24], 8000)
    report = check_output(database, settings, AUDITOR, excerpt)
    assert [s["recording_id"] for s in report.segments] == [recording_id]


def test_undecodable_audio_changes_nothing(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    recording_id = _recording(database)
    bogus = tmp_path / "not-audio.wav"
    bogus.write_bytes(b"this is a text file, not audio" * 100)
    with pytest.raises(SostenutoError):
        attach_audio(database, settings, OPERATOR, recording_id, bogus)
    with database.reader() as session:
        stored = session.get(Recording, recording_id)
        assert stored is not None and stored.audio_sha256 is None


def test_only_the_registering_cmo_attaches_audio(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    recording_id = _recording(database)
    audio = write_wav(tmp_path / "a.wav", render_piece(seed=3, seconds=12), 8000)
    licensee = Principal(name="lab", role="licensee", licensee_id=1)
    with pytest.raises(Forbidden):
        attach_audio(database, settings, licensee, recording_id, audio)
