"""Who may screen, see and declare: the policy table (``sostenuto.auth.POLICY``) at work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sostenuto.auth import Principal
from sostenuto.errors import Forbidden, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Mandate, Performer
from sostenuto.storage.models.voice import VoiceMatch, Voiceprint, VoiceScreening
from sostenuto.voice import Clip, declare_unauthorised, get_screening, list_voiceprints, screen_file
from sostenuto.voice._types import RangeReport, ScreeningReport

from .conftest import Registry

UNREADABLE = Clip(name="not-audio.wav", data=b"not audio at all")


def test_a_cmo_admin_does_not_screen_in_a_licensees_name(
    sqlite_database: Database, registry_sqlite: Registry
) -> None:
    cmo = Principal("aie", "cmo-admin", cmo_id=registry_sqlite.cmo)
    # Refused before the file is even read: the unreadable clip is never decoded.
    with pytest.raises(Forbidden, match=r"decision\.request"):
        screen_file(
            sqlite_database, cmo, UNREADABLE, licensee_id=registry_sqlite.licensee, territory="ES"
        )
    with pytest.raises(Forbidden, match="auditor"):
        screen_file(sqlite_database, Principal("audit", "auditor"), UNREADABLE)
    rival = Principal("rival", "licensee", licensee_id=registry_sqlite.other_licensee)
    with pytest.raises(Forbidden, match=r"voice\.screen"):
        screen_file(
            sqlite_database, rival, UNREADABLE, licensee_id=registry_sqlite.licensee, territory="ES"
        )


def _voiceprint(performer_id: int) -> Voiceprint:
    return Voiceprint(
        performer_id=performer_id,
        model_name="test",
        model_version="1",
        dim=4,
        embedding=np.full(4, 0.5, dtype="<f4").tobytes(),
        clip_sha256=["0" * 64],
        voiced_seconds=30.0,
        is_current=True,
        created_by="test",
        created_at=dt.datetime.now(dt.UTC),
    )


def test_voiceprints_are_seen_by_the_representing_cmo_only(
    sqlite_database: Database, registry_sqlite: Registry
) -> None:
    with sqlite_database.transaction() as session:
        session.add(_voiceprint(registry_sqlite.alice))
        # A transfer to the other CMO, still pending, gives it nothing.
        session.add(
            Mandate(
                performer_id=registry_sqlite.alice,
                cmo_id=registry_sqlite.other_cmo,
                territories=["JP"],
                uses=["voice-clone"],
                valid_from=dt.date(2020, 1, 1),
                status="pending",
            )
        )
    own = Principal("aie", "cmo-admin", cmo_id=registry_sqlite.cmo)
    rival = Principal("adami", "cmo-admin", cmo_id=registry_sqlite.other_cmo)
    with sqlite_database.reader() as session:
        assert [v.performer_id for v in list_voiceprints(session, own)] == [registry_sqlite.alice]
        assert list_voiceprints(session, rival) == []
        with pytest.raises(Forbidden, match=r"voiceprint\.read"):
            list_voiceprints(session, rival, performer_id=registry_sqlite.alice)
        licensee = Principal("dev", "licensee", licensee_id=registry_sqlite.licensee)
        with pytest.raises(Forbidden):
            list_voiceprints(session, licensee)
        assert len(list_voiceprints(session, Principal("audit", "auditor"))) == 1


def test_a_cmo_declares_the_voices_of_its_own_performers_only(
    sqlite_database: Database, registry_sqlite: Registry, tmp_path: Path
) -> None:
    """Alice is AIE's member; a third performer is the other CMO's. AIE sees the screening
    (its member's voice is in it) but declares only her match."""
    database, registry = sqlite_database, registry_sqlite
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        carla = Performer(name="Carla Other", registered_by_cmo_id=registry.other_cmo)
        session.add(carla)
        session.flush()
        ranges = [
            RangeReport(0.0, 1.0, "unauthorised", performer_id=registry.alice, score=0.9),
            RangeReport(1.0, 2.0, "unauthorised", performer_id=carla.id, score=0.8),
        ]
        report = ScreeningReport(
            id="vsc_" + "c" * 24,
            filename="found.wav",
            audio_sha256="a" * 64,
            duration_s=2.0,
            voiced_seconds=2.0,
            model_name="test",
            model_version="1",
            emphasis="none",
            threshold=0.5,
            voices_searched=2,
            licensee_id=None,
            territory=None,
            on_date=None,
            screened_at=now,
            ranges=ranges,
        )
        session.add(
            VoiceScreening(
                id=report.id,
                screened_at=now,
                screened_by="someone else",
                audio_sha256=report.audio_sha256,
                filename="found.wav",
                duration_s=2.0,
                licensee_id=None,
                territory=None,
                on_date=None,
                model_name="test",
                model_version="1",
                threshold=0.5,
                report=report.as_json(),
            )
        )
        session.flush()
        for item in ranges:
            assert item.performer_id is not None
            session.add(
                VoiceMatch(
                    screening_id=report.id,
                    performer_id=item.performer_id,
                    start_s=item.start,
                    end_s=item.end,
                    score=item.score or 0.0,
                    status="unauthorised",
                )
            )
        carla_id = carla.id
    settings = Settings(data_dir=tmp_path / "data")
    own = Principal("aie", "cmo-admin", cmo_id=registry.cmo)
    declared = declare_unauthorised(database, settings, own, report.id)
    assert set(declared) == {registry.alice}
    # The other CMO sees the screening through its performer and declares her match alone.
    rival = Principal("adami", "cmo-admin", cmo_id=registry.other_cmo)
    assert set(declare_unauthorised(database, settings, rival, report.id)) == {carla_id}
    # A CMO with no performer in it sees nothing; an auditor declares nothing.
    with database.transaction() as session:
        third = Principal("third", "cmo-admin", cmo_id=999)
        with pytest.raises(NotFound):
            get_screening(session, third, report.id)
    with pytest.raises(Forbidden):
        declare_unauthorised(database, settings, Principal("audit", "auditor"), report.id)
