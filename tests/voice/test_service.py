"""Enrolment and screening end to end, on both database backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sostenuto.auth import OPERATOR, Principal
from sostenuto.consent import permit, prohibit
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.voice import VoiceMatch, Voiceprint
from sostenuto.voice import (
    Clip,
    get_screening,
    list_screenings,
    list_voiceprints,
    screen_file,
)
from tests.voice.conftest import ALICE, BRUNO, Registry, enrol_short

DAY = dt.date(2026, 6, 1)


def _clips(speech: dict[tuple[str, int], Path], voice: str, ids: range) -> list[Clip]:
    return [Clip.from_path(speech[(voice, i)]) for i in ids]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_screening_finds_the_enrolled_voice_where_it_speaks(
    database: Database,
    registry: Registry,
    speech: dict[tuple[str, int], Path],
    conversation: tuple[Path, dict[str, tuple[float, float]]],
) -> None:
    enrolled = enrol_short(
        database, OPERATOR, performer_id=registry.alice, clips=_clips(speech, ALICE, range(4))
    )
    # The GE2E embedding and the MFCC statistics fused with it at screening.
    assert [v.model_name for v in enrolled] == ["resemblyzer-ge2e", "mfcc-stats"]
    assert all(v.clips == 4 and v.voiced_seconds > 8 for v in enrolled)

    path, spans = conversation
    report = screen_file(
        database,
        OPERATOR,
        Clip.from_path(path),
        licensee_id=registry.licensee,
        territory="ES",
        on_date=DAY,
    )
    alice = [r for r in report.ranges if r.performer_id == registry.alice]
    assert alice, report.ranges
    # Most of Alice's speech is attributed to her, and nothing of Bruno's.
    covered = sum(_overlap((r.start, r.end), spans["alice"]) for r in alice)
    assert covered >= 0.7 * (spans["alice"][1] - spans["alice"][0])
    assert sum(_overlap((r.start, r.end), spans["bruno"]) for r in alice) < 0.5
    bruno = [r for r in report.ranges if _overlap((r.start, r.end), spans["bruno"]) > 1.0]
    assert bruno and all(r.status == "unknown-voice" for r in bruno)
    # No voice-clone consent exists: the match is unauthorised, with the decision that says so.
    assert all(r.status == "unauthorised" and r.decision_id for r in alice)
    assert all(r.score is not None and r.score >= report.threshold for r in alice)
    assert report.voices_searched == 1
    with database.reader() as session:
        stored = session.scalars(select(VoiceMatch)).all()
        assert {m.performer_id for m in stored} == {registry.alice}
        assert get_screening(session, OPERATOR, report.id).ranges == report.ranges
        # The performer's CMO sees the screening that found her; another CMO does not.
        own_cmo = Principal("aie", "cmo-admin", cmo_id=registry.cmo)
        assert get_screening(session, own_cmo, report.id).id == report.id
        assert [r.id for r in list_screenings(session, own_cmo)] == [report.id]
        rival_cmo = Principal("adami", "cmo-admin", cmo_id=registry.other_cmo)
        with pytest.raises(NotFound):
            get_screening(session, rival_cmo, report.id)

    # A voice enrolled before the fused score (no MFCC print) is not searched, and the report
    # says how many such voices need enrolling again.
    with database.transaction() as session:
        for row in session.scalars(select(Voiceprint).where(Voiceprint.model_name == "mfcc-stats")):
            session.delete(row)
    stale = screen_file(database, OPERATOR, Clip.from_path(path))
    assert (stale.voices_searched, stale.voices_not_searched) == (0, 1)
    assert not [r for r in stale.ranges if r.performer_id is not None]
    assert stale.as_json()["voices_not_searched"] == 1


def test_consent_rules_decide_authorised_or_not(
    sqlite_database: Database, registry_sqlite: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    database, registry = sqlite_database, registry_sqlite
    enrol_short(
        database, OPERATOR, performer_id=registry.alice, clips=_clips(speech, ALICE, range(4))
    )
    with database.transaction() as session:
        permit(
            session,
            OPERATOR,
            scope="performer",
            scope_id=registry.alice,
            uses=["voice-clone"],
            territories=["ES"],
            licensee_id=registry.licensee,
            valid_from=dt.date(2026, 1, 1),
            correction=True,  # the registry's history, recorded by the operator
        )
    path = speech[(ALICE, 5)]  # a sentence she did not enrol with

    def statuses(licensee: int, territory: str) -> set[str]:
        report = screen_file(
            database,
            OPERATOR,
            Clip.from_path(path),
            licensee_id=licensee,
            territory=territory,
            on_date=DAY,
        )
        return {r.status for r in report.ranges if r.performer_id == registry.alice}

    assert statuses(registry.licensee, "ES") == {"authorised"}
    assert statuses(registry.licensee, "FR") == {"unauthorised"}  # outside the territory
    assert statuses(registry.other_licensee, "ES") == {"unauthorised"}  # another licensee
    with database.transaction() as session:
        prohibit(
            session,
            OPERATOR,
            scope="performer",
            scope_id=registry.alice,
            uses=["train-genai"],  # a prohibition of the broader use reaches voice-clone
            valid_from=dt.date(2026, 5, 1),
            correction=True,
        )
    assert statuses(registry.licensee, "ES") == {"unauthorised"}


def test_reenrolment_keeps_history_and_one_current_version(
    database: Database, registry: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    first = enrol_short(
        database, OPERATOR, performer_id=registry.alice, clips=_clips(speech, ALICE, range(3))
    )
    second = enrol_short(
        database, OPERATOR, performer_id=registry.alice, clips=_clips(speech, ALICE, range(1, 4))
    )
    with database.reader() as session:
        current = list_voiceprints(session, OPERATOR, performer_id=registry.alice)
        history = list_voiceprints(
            session, OPERATOR, performer_id=registry.alice, include_history=True
        )
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_type == "voiceprint")
        )
    assert {v.id for v in current} == {v.id for v in second}
    assert {v.id for v in history} == {v.id for v in first} | {v.id for v in second}
    assert not any(v.current for v in history if v.id in {w.id for w in first})
    assert events == 4  # two prints (GE2E, MFCC statistics) per enrolment


def test_failed_enrolment_leaves_the_previous_voiceprint(
    database: Database,
    registry: Registry,
    speech: dict[tuple[str, int], Path],
    tmp_path: Path,
) -> None:
    import numpy as np

    from sostenuto.audio import write_wav

    before = enrol_short(
        database, OPERATOR, performer_id=registry.alice, clips=_clips(speech, ALICE, range(3))
    )
    silent = write_wav(tmp_path / "silence.wav", np.zeros(32_000, dtype=np.float32), 16_000)
    with pytest.raises(InvalidInput, match="silent"):
        enrol_short(
            database,
            OPERATOR,
            performer_id=registry.alice,
            clips=[*_clips(speech, ALICE, range(3, 6)), Clip.from_path(silent)],
        )
    with database.reader() as session:
        rows = session.scalars(select(Voiceprint).order_by(Voiceprint.id)).all()
    assert [(r.id, r.is_current) for r in rows] == [(v.id, True) for v in before]


def test_a_clip_of_another_voice_is_refused(
    sqlite_database: Database, registry_sqlite: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    database, registry = sqlite_database, registry_sqlite
    mixed = [*_clips(speech, ALICE, range(3)), Clip.from_path(speech[(BRUNO, 3)])]
    with pytest.raises(InvalidInput, match="does not sound like"):
        enrol_short(database, OPERATOR, performer_id=registry.alice, clips=mixed)


def test_only_the_performers_cmo_enrols(
    sqlite_database: Database, registry_sqlite: Registry, speech: dict[tuple[str, int], Path]
) -> None:
    database, registry = sqlite_database, registry_sqlite
    clips = _clips(speech, ALICE, range(3))
    rival_cmo = Principal("rival", "cmo-admin", cmo_id=registry.other_cmo)
    with pytest.raises(Forbidden, match="mandate"):
        enrol_short(database, rival_cmo, performer_id=registry.alice, clips=clips)
    licensee = Principal("dev", "licensee", licensee_id=registry.licensee)
    with pytest.raises(Forbidden):
        enrol_short(database, licensee, performer_id=registry.alice, clips=clips)
    with pytest.raises(NotFound):
        enrol_short(database, OPERATOR, performer_id=9999, clips=clips)
    own_cmo = Principal("aie", "cmo-admin", cmo_id=registry.cmo)
    assert enrol_short(database, own_cmo, performer_id=registry.alice, clips=clips)


def test_licensees_see_only_their_own_screenings(
    database: Database,
    registry: Registry,
    speech: dict[tuple[str, int], Path],
) -> None:
    mine = Principal("dev", "licensee", licensee_id=registry.licensee)
    rival = Principal("rival", "licensee", licensee_id=registry.other_licensee)
    report = screen_file(database, mine, Clip.from_path(speech[(BRUNO, 0)]), territory="ES")
    assert report.licensee_id == registry.licensee  # a licensee screens for itself
    with database.reader() as session:
        assert get_screening(session, mine, report.id).id == report.id
        with pytest.raises(NotFound):
            get_screening(session, rival, report.id)
        assert list_screenings(session, rival) == []
        with pytest.raises(Forbidden):
            get_screening(session, Principal("anon", "public"), report.id)
    with pytest.raises(Forbidden):
        screen_file(
            database,
            rival,
            Clip.from_path(speech[(BRUNO, 0)]),
            licensee_id=registry.licensee,
            territory="ES",
        )
