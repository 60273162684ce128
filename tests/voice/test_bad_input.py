"""Bad input gets an error that names the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR
from sostenuto.errors import InvalidInput, UnsupportedFormat
from sostenuto.storage import Database
from sostenuto.storage.models.voice import Voiceprint, VoiceScreening
from sostenuto.voice import Clip, screen_file
from tests.voice.conftest import ALICE, RATE, Registry, enrol_short, samples


@pytest.fixture
def silence(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "silence.wav", np.zeros(3 * RATE, dtype=np.float32), RATE)


@pytest.fixture
def blip(speech: dict[tuple[str, int], Path], tmp_path: Path) -> Path:
    """0.3 s of speech: shorter than any clip may be."""
    return write_wav(tmp_path / "blip.wav", samples(speech[(ALICE, 0)])[: int(0.3 * RATE)], RATE)


@pytest.fixture
def not_audio(tmp_path: Path) -> Path:
    path = tmp_path / "notes.wav"
    path.write_text("these are not the samples you are looking for\n" * 50)
    return path


def _nothing_written(database: Database) -> None:
    with database.reader() as session:
        for table in (Voiceprint, VoiceScreening):
            assert session.scalar(select(func.count()).select_from(table)) == 0


@pytest.mark.parametrize(
    ("which", "error", "message"),
    [
        ("silence", InvalidInput, "silent"),
        ("blip", InvalidInput, "too short"),
        ("not_audio", UnsupportedFormat, "cannot decode"),
    ],
)
def test_bad_clips_are_refused_by_name(
    sqlite_database: Database,
    request: pytest.FixtureRequest,
    which: str,
    error: type[Exception],
    message: str,
) -> None:
    database = sqlite_database
    registry: Registry = request.getfixturevalue("registry_sqlite")
    bad = Clip.from_path(request.getfixturevalue(which))
    with pytest.raises(error, match=message):
        enrol_short(database, OPERATOR, performer_id=registry.alice, clips=[bad])
    with pytest.raises(error, match=message):
        screen_file(database, OPERATOR, bad)
    _nothing_written(database)


def test_too_little_voice_in_all(
    sqlite_database: Database,
    registry_sqlite: Registry,
    speech: dict[tuple[str, int], Path],
    tmp_path: Path,
) -> None:
    short = write_wav(tmp_path / "short.wav", samples(speech[(ALICE, 0)])[: int(1.5 * RATE)], RATE)
    with pytest.raises(InvalidInput, match=r"at least 3\.0 s"):
        enrol_short(
            sqlite_database,
            OPERATOR,
            performer_id=registry_sqlite.alice,
            clips=[Clip.from_path(short)],
        )
    with pytest.raises(InvalidInput, match="at least one reference clip"):
        enrol_short(sqlite_database, OPERATOR, performer_id=registry_sqlite.alice, clips=[])
    _nothing_written(sqlite_database)


def test_screening_terms_are_checked(
    sqlite_database: Database, registry_sqlite: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    clip = Clip.from_path(speech[(ALICE, 0)])
    with pytest.raises(InvalidInput, match="territory"):
        screen_file(sqlite_database, OPERATOR, clip, licensee_id=registry_sqlite.licensee)
    with pytest.raises(InvalidInput, match="unknown territory"):
        screen_file(
            sqlite_database, OPERATOR, clip, licensee_id=registry_sqlite.licensee, territory="XX"
        )
    with pytest.raises(InvalidInput, match="only meaningful with a licensee"):
        screen_file(sqlite_database, OPERATOR, clip, territory="ES")
    with pytest.raises(InvalidInput, match="emphasis"):
        screen_file(sqlite_database, OPERATOR, clip, emphasis="karaoke")  # type: ignore[arg-type]
    _nothing_written(sqlite_database)


def test_without_enrolled_voices_every_voice_is_unknown(
    sqlite_database: Database, registry_sqlite: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    report = screen_file(sqlite_database, OPERATOR, Clip.from_path(speech[(ALICE, 0)]))
    assert report.voices_searched == 0
    assert report.ranges and {r.status for r in report.ranges} == {"unknown-voice"}
    assert report.voiced_seconds > 2.0
