"""Bulk import with an audio column: fingerprinted in worker processes, bad audio per row."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR
from sostenuto.identify import open_catalogue, recording_key
from sostenuto.registry import add_cmo, file_sha256, import_catalogue
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.identify import RecordingFingerprint
from sostenuto.storage.models.registry import Cmo, Recording
from tests.audio.conftest import ogg_with_empty_last_packet, tiny_mod
from tests.identify.conftest import render_piece

from .conftest import Registry

HEADER = ["isrc", "title", "duration_ms", "audio_sha256", "performer_name", "kind", "audio_path"]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _stored(reg: Registry) -> dict[str, tuple[str | None, int | None, str | None]]:
    """ISRC → (audio SHA-256, duration, fingerprinted SHA-256) of every recording."""
    with reg.database.reader() as session:
        rows = session.execute(
            select(
                Recording.isrc,
                Recording.audio_sha256,
                Recording.duration_ms,
                RecordingFingerprint.audio_sha256,
            ).outerjoin(RecordingFingerprint, RecordingFingerprint.recording_id == Recording.id)
        )
        return {isrc: (sha, ms, printed) for isrc, sha, ms, printed in rows}


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "audio"
    folder.mkdir()
    write_wav(folder / "marea.wav", render_piece(seed=21, seconds=12), 8000)
    write_wav(folder / "calima.wav", render_piece(seed=22, seconds=9), 8000)
    (folder / "song.it").write_bytes(tiny_mod())  # a tracker module, named as Impulse Tracker
    ogg_with_empty_last_packet(folder / "vlc.ogg")
    (folder / "broken.mp3").write_bytes(b"ID3 and then nothing that decodes\n" * 300)
    return folder


def test_audio_is_fingerprinted_in_worker_processes_and_bad_audio_reported_per_row(
    reg: Registry, settings: Settings, tmp_path: Path, music: Path
) -> None:
    marea_sha = file_sha256(music / "marea.wav")
    path = _write_csv(
        tmp_path / "catalogue.csv",
        [
            ["ES-A7Q-24-00001", "Marea", "", "", "Lucía Ferrer", "voice", "audio/marea.wav"],
            ["ES-A7Q-24-00001", "Marea", "", "", "Mateo Ibarra", "instrument", ""],
            ["ES-A7Q-24-00002", "Calima", "8000", "", "", "", str(music / "calima.wav")],
            ["ES-A7Q-24-00003", "Módulo", "", "", "", "", "audio/song.it"],
            ["ES-A7Q-24-00004", "Navidad", "", "", "", "", "audio/vlc.ogg"],
            ["ES-A7Q-24-00005", "Rota", "", "", "", "", "audio/broken.mp3"],
            ["ES-A7Q-24-00006", "Ausente", "", "", "", "", "audio/missing.wav"],
            ["ES-A7Q-24-00007", "Otra", "", "0" * 64, "", "", "audio/marea.wav"],
            ["ES-A7Q-24-00008", "Sin audio", "", "", "", "", ""],
        ],
    )
    report = import_catalogue(
        reg.database,
        reg.aie_admin,
        path,
        cmo_id=reg.aie,
        audio_root=tmp_path,
        workers=2,
        settings=settings,
    )
    errors = {error.line: error.reason for error in report.errors}
    assert sorted(errors) == [7, 8, 9]
    assert "broken.mp3" in errors[7] and "cannot decode audio" in errors[7]
    assert "missing.wav" in errors[8]
    assert f"has SHA-256 {marea_sha}" in errors[9]
    assert (report.imported, report.fingerprinted) == (5, 4)

    stored = _stored(reg)
    assert sorted(stored) == [f"ESA7Q24{n:05d}" for n in (1, 2, 3, 4, 8)]
    assert stored["ESA7Q2400001"] == (marea_sha, 12_000, marea_sha)  # duration from audio
    calima = file_sha256(music / "calima.wav")
    assert stored["ESA7Q2400002"] == (calima, 8_000, calima)  # the file's duration is kept
    assert stored["ESA7Q2400003"][1] is not None and 7_600 < stored["ESA7Q2400003"][1] < 8_000
    assert stored["ESA7Q2400004"][1] is not None and abs(stored["ESA7Q2400004"][1] - 6_000) < 20
    assert stored["ESA7Q2400008"] == (None, None, None)
    with reg.database.reader() as session:
        keys = session.scalars(select(RecordingFingerprint.index_key)).all()
        events = session.scalars(
            select(AuditEvent.after).where(AuditEvent.entity_type == "catalogue")
        ).all()
    catalogue = open_catalogue(settings)
    assert all(key in catalogue for key in keys) and len(catalogue) == 4
    assert sorted(isrc for event in events for isrc in (event or {}).get("fingerprinted", [])) == [
        f"ESA7Q24{n:05d}" for n in (1, 2, 3, 4)
    ]

    # A re-run decodes nothing again and changes nothing; the bad rows are reported again.
    again = import_catalogue(
        reg.database,
        reg.aie_admin,
        path,
        cmo_id=reg.aie,
        audio_root=tmp_path,
        workers=1,
        settings=settings,
    )
    assert (again.imported, again.updated, again.unchanged, again.fingerprinted) == (0, 0, 5, 0)
    assert sorted(error.line for error in again.errors) == [7, 8, 9]
    assert _stored(reg) == stored

    # Fixed files: the skipped recordings come in on the next run, without conflicts.
    # WAV under an MP3 name: read by what it holds, not by its name
    write_wav(music / "fixed.wav", render_piece(seed=23, seconds=8), 8000).replace(
        music / "broken.mp3"
    )
    write_wav(music / "missing.wav", render_piece(seed=24, seconds=8), 8000)
    fixed = import_catalogue(
        reg.database,
        reg.aie_admin,
        path,
        cmo_id=reg.aie,
        audio_root=tmp_path,
        workers=1,
        settings=settings,
    )
    assert (fixed.imported, fixed.unchanged, fixed.fingerprinted) == (2, 5, 2)
    assert [error.line for error in fixed.errors] == [9]
    assert len(open_catalogue(settings)) == 6


def test_changed_audio_replaces_the_fingerprint(
    reg: Registry, settings: Settings, tmp_path: Path, music: Path
) -> None:
    row = ["ES-A7Q-24-00001", "Marea", "", "", "", "", "audio/marea.wav"]
    path = _write_csv(tmp_path / "catalogue.csv", [row])
    options = {"cmo_id": reg.aie, "audio_root": tmp_path, "workers": 1, "settings": settings}
    import_catalogue(reg.database, reg.aie_admin, path, **options)  # type: ignore[arg-type]
    _write_csv(path, [[*row[:-1], "audio/calima.wav"]])
    report = import_catalogue(reg.database, reg.aie_admin, path, **options)  # type: ignore[arg-type]
    assert (report.updated, report.fingerprinted) == (1, 1)
    calima = file_sha256(music / "calima.wav")
    # A row without a duration takes the audio's: the new file's.
    assert _stored(reg)["ESA7Q2400001"] == (calima, 9_000, calima)
    with reg.database.reader() as session:
        recording_id = session.scalar(select(Recording.id))
    assert recording_id is not None
    assert len(open_catalogue(settings)) == 1 and recording_key(recording_id) in open_catalogue(
        settings
    )


def test_a_server_import_reads_no_audio_path(
    reg: Registry, settings: Settings, tmp_path: Path, music: Path
) -> None:
    path = _write_csv(
        tmp_path / "catalogue.csv",
        [
            ["ES-A7Q-24-00001", "Marea", "", "", "", "", str(music / "marea.wav")],
            ["ES-A7Q-24-00002", "Calima", "", "", "", "", ""],
        ],
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie, settings=settings)
    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "audio_path is read only by a local import (the CLI)")
    ]
    assert sorted(_stored(reg)) == ["ESA7Q2400002"]
    assert len(open_catalogue(settings)) == 0


def test_ddex_json_names_audio_in_audio_file(
    reg: Registry, settings: Settings, tmp_path: Path, music: Path
) -> None:
    records = [
        {"ISRC": "ES-A7Q-24-00001", "DisplayTitleText": "Marea", "AudioFile": "audio/marea.wav"},
        {"ISRC": "ES-A7Q-24-00002", "DisplayTitleText": "Rota", "AudioFile": "audio/broken.mp3"},
    ]
    path = tmp_path / "catalogue.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(record) for record in records) + b"\n")
    report = import_catalogue(
        reg.database,
        reg.aie_admin,
        path,
        cmo_id=reg.aie,
        audio_root=tmp_path,
        workers=1,
        settings=settings,
    )
    assert [error.line for error in report.errors] == [2]
    marea = file_sha256(music / "marea.wav")
    assert _stored(reg) == {"ESA7Q2400001": (marea, 12_000, marea)}


_NUMBERS = itertools.count(1, 10)
_KINDS = ["good-a", "good-b", "tracker", "broken", "missing", "none"]


@pytest.fixture(scope="module")
def shared_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shared-audio")
    write_wav(folder / "good-a.wav", render_piece(seed=31, seconds=6), 8000)
    write_wav(folder / "good-b.wav", render_piece(seed=32, seconds=7), 8000)
    (folder / "tracker.s3m").write_bytes(tiny_mod())  # content decides, not the name
    (folder / "broken.ogg").write_bytes(b"OggS" + bytes(5000))
    return folder


_FILES = {"good-a": "good-a.wav", "good-b": "good-b.wav", "tracker": "tracker.s3m"}
_FILES |= {"broken": "broken.ogg", "missing": "gone.flac"}


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=st.lists(st.sampled_from(_KINDS), min_size=1, max_size=6))
def test_no_recording_is_stored_without_the_fingerprint_of_its_audio(
    sqlite_database: Database, shared_audio: Path, tmp_path: Path, kinds: list[str]
) -> None:
    settings_ = Settings(data_dir=tmp_path / "data")
    with sqlite_database.transaction() as session:
        cmo = (
            session.scalar(select(Cmo.id))
            or add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id
        )
    first = next(_NUMBERS)  # examples share the database: each takes its own ISRCs
    rows = [
        [f"ES-A7Q-25-{first + n:05d}", f"T{n}", "", "", "", "", _FILES.get(kind, "")]
        for n, kind in enumerate(kinds)
    ]
    path = _write_csv(tmp_path / f"catalogue-{first}.csv", rows)
    report = import_catalogue(
        sqlite_database,
        OPERATOR,
        path,
        cmo_id=cmo,
        audio_root=shared_audio,
        workers=1,
        settings=settings_,
    )
    bad = [n for n, kind in enumerate(kinds) if kind in ("broken", "missing")]
    assert sorted(error.line for error in report.errors) == [n + 2 for n in bad]
    assert report.imported == len(kinds) - len(bad)
    with sqlite_database.reader() as session:
        stored = session.execute(
            select(Recording.audio_sha256, RecordingFingerprint.audio_sha256).outerjoin(
                RecordingFingerprint, RecordingFingerprint.recording_id == Recording.id
            )
        ).all()
    # Every stored recording with audio holds the fingerprint of that very audio.
    assert all(printed == sha for sha, printed in stored if sha is not None)
    assert all(printed is None for sha, printed in stored if sha is None)
