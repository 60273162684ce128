"""Voice protection a performer can rely on (issue #20): a 60 s timeline of voices and music,
enrolment of a folder in one pass, and the wording of an uncovered performer's reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Performer
from sostenuto.voice import Clip, check_clips, screen_file
from sostenuto.voice._screen import _decide
from tests.voice.conftest import (
    ALICE,
    BRUNO,
    RATE,
    SENTENCES,
    Registry,
    enrol_short,
    samples,
    speak,
)

DAY = dt.date(2026, 6, 1)
# Alice's stretch: sentences she never enrolled (she enrols SENTENCES[0:4]).
ALICE_LINES = (
    *SENTENCES[4:],
    "Nobody expected the concert to start so late, but the hall was still full.",
    "Every evening the old harbour filled with boats returning from the open sea.",
)
# Voices no one enrolled: other espeak-ng variants at other pitches. Variants of espeak's
# default voice (en-gb+m1, es, de...) differ from Alice by pitch and formant scaling only, which
# is what a pitch-shifted clone of her does, so the strangers are the distinct klatt4 and steph.
STRANGERS = (
    ("en+klatt4", 40, "The weather turned cold and the wind came down from the hills."),
    ("en+steph", 60, "Our team will present the new results at the meeting on Monday."),
)


def music(seconds: float, seed: int) -> np.ndarray:
    """Synthetic instrumental: chords of rich tones, a bass line and drum hits."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    for bar, root in enumerate(rng.choice([110.0, 130.8, 146.8, 164.8], size=int(seconds))):
        where = (t >= bar) & (t < bar + 1)
        for ratio in (1.0, 1.25, 1.5, 2.0):
            for harmonic in range(1, 6):
                out[where] += np.sin(2 * np.pi * root * ratio * harmonic * t[where]) / harmonic
        out[where] += 1.5 * np.sin(2 * np.pi * root / 2 * t[where])
    for beat in np.arange(0, seconds, 0.5):
        start = int(beat * RATE)
        hit = rng.standard_normal(int(0.12 * RATE)) * np.exp(-np.arange(int(0.12 * RATE)) / 400)
        out[start : start + hit.size] += 3 * hit[: out.size - start]
    return (0.25 * out / np.max(np.abs(out))).astype(np.float32)


def _speech(folder: Path, voice: str, pitch: int, lines: tuple[str, ...]) -> np.ndarray:
    parts = []
    for i, line in enumerate(lines):
        path = folder / f"{voice.replace('+', '_')}_{pitch}_{i}.wav"
        parts.append(samples(speak(f"{voice}", line, path, pitch=pitch)))
        parts.append(np.zeros(int(0.3 * RATE), np.float32))
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def timeline(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, list[tuple[float, float]]]]:
    """Stranger, music, Alice (≈ 20 s), stranger, music: 60 s with the true spans."""
    folder = tmp_path_factory.mktemp("timeline")
    pieces = [
        ("stranger", _speech(folder, *STRANGERS[0][:2], (STRANGERS[0][2],) * 2)),
        ("music", music(8, 1)),
        ("alice", _speech(folder, ALICE, 50, ALICE_LINES)),
        ("stranger", _speech(folder, *STRANGERS[1][:2], (STRANGERS[1][2],) * 2)),
    ]
    used = sum(p.size for _, p in pieces)
    pieces.append(("music", music(max(1.0, 60 - used / RATE), 2)))
    spans: dict[str, list[tuple[float, float]]] = {"stranger": [], "music": [], "alice": []}
    at = 0
    for name, piece in pieces:
        spans[name].append((at / RATE, (at + piece.size) / RATE))
        at += piece.size
    path = folder / "timeline.wav"
    write_wav(path, np.concatenate([p for _, p in pieces]), RATE)
    return path, spans


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_a_60_s_timeline_names_the_enrolled_voice_once_and_no_one_else(
    sqlite_database: Database,
    registry_sqlite: Registry,
    speech: dict[tuple[str, int], Path],
    timeline: tuple[Path, dict[str, list[tuple[float, float]]]],
) -> None:
    registry = registry_sqlite
    for performer, voice in ((registry.alice, ALICE), (registry.bruno, BRUNO)):
        clips = [Clip.from_path(speech[(voice, i)]) for i in range(4)]
        enrol_short(sqlite_database, OPERATOR, performer_id=performer, clips=clips)
    path, spans = timeline
    total = max(end for parts in spans.values() for _, end in parts)
    assert 58 <= total <= 62
    report = screen_file(sqlite_database, OPERATOR, Clip.from_path(path))

    (alice_span,) = spans["alice"]
    alice = [r for r in report.ranges if r.performer_id == registry.alice]
    assert len(alice) == 1, report.ranges  # one range, not fragments
    covered = _overlap((alice[0].start, alice[0].end), alice_span)
    assert covered >= 0.8 * (alice_span[1] - alice_span[0]), (alice[0], alice_span)
    assert alice[0].margin is not None and alice[0].margin > 0
    assert alice[0].pitch_shift is not None
    # No innocent performer is flagged, and the strangers are not taken for Alice.
    assert all(r.performer_id in (None, registry.alice) for r in report.ranges), report.ranges
    for stranger in spans["stranger"]:
        assert _overlap((alice[0].start, alice[0].end), stranger) < 1.0
    # Music alone is never reported as a voice, known or unknown.
    for bed in spans["music"]:
        assert sum(_overlap((r.start, r.end), bed) for r in report.ranges) < 0.5, report.ranges


def test_a_folder_with_bad_clips_is_reported_whole_in_one_run(
    speech: dict[tuple[str, int], Path], tmp_path: Path
) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for i in range(4):
        (folder / f"alice{i}.wav").write_bytes(speech[(ALICE, i)].read_bytes())
    write_wav(folder / "silent.wav", np.zeros(2 * RATE, np.float32), RATE)
    write_wav(folder / "blip.wav", samples(speech[(ALICE, 0)])[: int(0.3 * RATE)], RATE)
    (folder / "notes.wav").write_bytes(b"this is not audio at all")
    write_wav(folder / "music.wav", music(4, 3), RATE)
    (folder / "bruno.wav").write_bytes(speech[(BRUNO, 0)].read_bytes())
    clips = [Clip.from_path(p) for p in sorted(folder.iterdir())]
    report, _ = check_clips(clips, accept_short=True)
    bad = {c.name: c.problem for c in report.clips if c.problem}
    assert set(bad) == {"silent.wav", "blip.wav", "notes.wav", "music.wav", "bruno.wav"}, bad
    assert "silent" in (bad["silent.wav"] or "") and "too short" in (bad["blip.wav"] or "")
    assert "voice" in (bad["music.wav"] or "") and "sound like" in (bad["bruno.wav"] or "")
    good = [c for c in report.clips if not c.problem]
    assert len(good) == 4 and all(c.voiced_seconds > 1.5 and c.similarity for c in good)
    assert len(report.problems) == 5


def test_too_little_voice_is_refused_with_the_miss_to_expect_unless_accepted(
    speech: dict[tuple[str, int], Path],
) -> None:
    clips = [Clip.from_path(speech[(ALICE, i)]) for i in range(3)]
    refused, _ = check_clips(clips)
    assert refused.voiced_seconds < refused.recommended_seconds
    (problem,) = refused.problems
    assert "recommended" in problem and "accept" in problem
    accepted, embedded = check_clips(clips, accept_short=True)
    assert accepted.problems == [] and len(embedded) == 3
    assert any("accepted on request" in w for w in accepted.warnings)


def test_an_uncovered_registered_performer_is_not_called_unrepresented(
    sqlite_database: Database, registry_sqlite: Registry
) -> None:
    with sqlite_database.transaction() as session:
        performer = Performer(name="Carla Registered", registered_by_cmo_id=registry_sqlite.cmo)
        session.add(performer)
        session.flush()
        pid = performer.id
    with sqlite_database.transaction() as session:
        permitted, _, reason = _decide(session, OPERATOR, pid, registry_sqlite.licensee, "ES", DAY)
    assert not permitted
    assert f"registered by CMO {registry_sqlite.cmo}" in reason
    assert "no CMO represents this performer for voice-clone in ES" in reason
    assert "a performer no CMO represents" not in reason
