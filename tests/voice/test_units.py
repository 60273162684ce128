"""The parts on their own: index, calibration, merging in time, VAD, timeline, lazy imports."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.voice import VoiceIndex, _mfcc, threshold_for_rate, timeline_svg
from sostenuto.voice._calibration import (
    Calibration,
    Fusion,
    calibration_for,
    fusion,
    impostor_curve,
)
from sostenuto.voice._embed import Segment
from sostenuto.voice._match import SegmentVerdict, judge_fused, merge
from sostenuto.voice._types import RangeReport, ScreeningReport
from sostenuto.voice._vad import Region, voiced_regions
from tests.voice.conftest import ALICE, RATE, samples

unit_rows = st.integers(2, 40).flatmap(
    lambda n: st.lists(
        st.lists(st.floats(0.01, 1.0), min_size=8, max_size=8), min_size=n, max_size=n
    )
)


def _unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@given(unit_rows)
def test_index_returns_the_exact_best_voice(rows: list[list[float]]) -> None:
    vectors = _unit(rows)
    ids = [100 + i for i in range(len(rows))]
    index = VoiceIndex(ids, vectors)
    queries = vectors[::-1]
    hits = index.best(queries)
    expected = (queries @ vectors.T).max(axis=1)
    for hit, query, best in zip(hits, queries, expected, strict=True):
        assert hit is not None
        assert hit.score == pytest.approx(float(best), abs=1e-5)
        own = float(query @ vectors[ids.index(hit.performer_id)])
        assert own == pytest.approx(hit.score, abs=1e-5)
    assert VoiceIndex([], np.zeros((0, 8), np.float32)).best(queries) == [None] * len(queries)


@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=500),
    st.sampled_from([0.001, 0.01, 0.05, 0.2]),
)
def test_threshold_keeps_the_false_match_rate_at_most_the_target(
    scores: list[float], rate: float
) -> None:
    threshold = threshold_for_rate(scores, rate)
    passing = np.mean(np.asarray(scores) >= threshold)
    assert passing <= rate + 1e-12
    # And it is the lowest such threshold: the highest score below it would pass too many.
    below = [s for s in scores if s < threshold]
    if below:
        assert np.mean(np.asarray(scores) >= max(below)) > rate


def test_false_match_rate_falls_as_the_score_rises() -> None:
    rng = np.random.default_rng(0)
    impostors = rng.normal(0.6, 0.08, 5000).tolist()
    curve = tuple(impostor_curve(impostors))
    calibration = Calibration("test", threshold_for_rate(impostors, 0.01), 0.01, curve, "test")
    rates = [calibration.false_match_rate(s) for s in np.linspace(0.3, 1.0, 30)]
    assert all(a >= b for a, b in itertools.pairwise(rates))
    assert calibration.false_match_rate(calibration.threshold) == pytest.approx(0.01, abs=0.005)
    stored = calibration_for("resemblyzer-ge2e")
    assert 0.5 < stored.threshold < 1.0

    stored_fusion = fusion()
    assert stored_fusion.mfcc_mean.shape == stored_fusion.mfcc_std.shape == (_mfcc.DIM,)
    assert stored_fusion.ge2e[1] > 0 and stored_fusion.mfcc[1] > 0


@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(0.0, 0.5))
def test_fused_score_rises_with_either_score(ge2e: float, mfcc: float, step: float) -> None:
    constants = Fusion(
        Calibration("fused", 3.0, 0.01, (), "test"),
        (0.7, 0.08),
        (0.1, 0.3),
        np.zeros(_mfcc.DIM, np.float32),
        np.ones(_mfcc.DIM, np.float32),
    )
    base = constants.score(np.array([[ge2e]], np.float32), np.array([[mfcc]], np.float32))
    up_g = constants.score(np.array([[ge2e + step]], np.float32), np.array([[mfcc]], np.float32))
    up_m = constants.score(np.array([[ge2e]], np.float32), np.array([[mfcc + step]], np.float32))
    assert up_g[0, 0] >= base[0, 0] and up_m[0, 0] >= base[0, 0]


def test_mfcc_statistics_cover_only_the_voiced_frames() -> None:
    t = np.arange(3 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    noise = np.random.default_rng(2).normal(0, 0.3, 3 * RATE).astype(np.float32)
    signal = np.concatenate([tone, noise])
    first = _mfcc.signal_statistics(signal, [Region(0, 3 * RATE)])
    second = _mfcc.signal_statistics(signal, [Region(3 * RATE, 6 * RATE)])
    alone = _mfcc.signal_statistics(tone, [Region(0, 3 * RATE)])
    assert first.shape == (_mfcc.DIM,)
    # The tone's statistics barely notice the noise beside it (frames at the edge overlap).
    assert np.linalg.norm(first - alone) < 0.05 * np.linalg.norm(first - second)
    # Nothing voiced: every frame counts, rather than an empty (NaN) statistic.
    assert np.isfinite(_mfcc.signal_statistics(signal, [])).all()


def test_fused_judgement_searches_only_voices_with_both_prints() -> None:
    rng = np.random.default_rng(4)
    ge2e = _unit(rng.random((3, 8)).tolist())
    mfcc = _unit(rng.random((3, _mfcc.DIM)).tolist())
    constants = Fusion(
        Calibration("fused", -100.0, 0.01, (), "test"),  # everything passes
        (0.0, 1.0),
        (0.0, 1.0),
        np.zeros(_mfcc.DIM, np.float32),
        np.ones(_mfcc.DIM, np.float32),
    )
    # Performer 1 has no MFCC print, performer 3 no GE2E print: only 2 can be matched.
    index = VoiceIndex([1, 2], ge2e[:2])
    mfcc_index = VoiceIndex([2, 3], mfcc[1:])
    segment_list = [Segment(0.0, 3.0, ge2e[0]), Segment(3.0, 6.0, ge2e[1])]
    verdicts = judge_fused(segment_list, mfcc[:2], index, mfcc_index, constants)
    assert [v.performer_id for v in verdicts] == [2, 2]
    nobody = judge_fused(segment_list, mfcc[:2], index, VoiceIndex([3], mfcc[2:]), constants)
    assert [v.performer_id for v in nobody] == [None, None]


verdicts = st.lists(
    st.tuples(st.floats(0, 100), st.floats(0.3, 3.0), st.sampled_from([None, 1, 2])),
    max_size=30,
)


@given(verdicts)
def test_merged_ranges_are_ordered_disjoint_and_cover_every_segment_start(
    raw: list[tuple[float, float, int | None]],
) -> None:
    items = [SegmentVerdict(s, s + d, p, p, 0.9) for s, d, p in raw]
    ranges = merge(items)
    for a, b in itertools.pairwise(ranges):
        assert a.start <= a.end <= b.start + 1e-9
    for item in items:
        assert any(r.start - 1e-9 <= item.start <= r.end + 1e-9 for r in ranges)
    assert sum(r.segments for r in ranges) == len(items)


def test_vad_finds_speech_and_not_silence(speech: dict[tuple[str, int], Path]) -> None:
    voice = samples(speech[(ALICE, 1)])
    gap = np.zeros(2 * RATE, dtype=np.float32)
    signal = np.concatenate([gap, voice, gap, voice, gap])
    regions = voiced_regions(signal, RATE)
    assert len(regions) >= 2
    voiced = sum(r.length for r in regions) / RATE
    assert 0.7 * 2 * voice.size / RATE <= voiced <= 2 * voice.size / RATE + 1.0
    assert all(r.start >= int(1.5 * RATE) for r in regions)
    assert voiced_regions(np.zeros(5 * RATE, dtype=np.float32), RATE) == []
    noise = (np.random.default_rng(1).normal(0, 1e-4, 5 * RATE)).astype(np.float32)
    assert voiced_regions(noise, RATE) == []


def test_timeline_svg_draws_each_range_in_its_colour() -> None:
    report = ScreeningReport(
        id="vsc_x",
        filename="song <demo>.wav",
        audio_sha256="0" * 64,
        duration_s=20.0,
        voiced_seconds=12.0,
        model_name="resemblyzer-ge2e",
        model_version="0.1.4+abc",
        emphasis="none",
        threshold=0.85,
        voices_searched=2,
        licensee_id=None,
        territory=None,
        on_date=dt.date(2026, 6, 1),
        screened_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        ranges=[
            RangeReport(1.0, 4.0, "unauthorised", 7, "Alice & co", 0.93, 0.001),
            RangeReport(5.0, 8.0, "authorised", 8, "Bruno", 0.9, 0.002),
            RangeReport(9.0, 12.0, "unknown-voice", score=0.5),
        ],
    )
    svg = timeline_svg(report)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('data-status="unauthorised"') == 1
    assert svg.count('data-status="authorised"') == 1
    assert svg.count('data-status="unknown-voice"') == 1
    assert "Alice &amp; co" in svg and "song &lt;demo&gt;.wav" in svg
    assert ScreeningReport.from_json(report.as_json()) == report


def test_sostenuto_imports_without_torch_and_says_what_is_missing() -> None:
    # A finder that refuses torch, as on a machine without the voice extra.
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'resemblyzer'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import sostenuto.voice, sostenuto.api, sostenuto.cli.main\n"
        "from sostenuto.errors import DependencyMissing\n"
        "try:\n"
        "    sostenuto.voice.load_model()\n"
        "except DependencyMissing as error:\n"
        "    print('missing:', error.message)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "missing: voice embeddings need torch" in result.stdout
