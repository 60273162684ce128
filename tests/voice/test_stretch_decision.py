"""The stretch decision: one score per continuous stretch, a fixed synthetic cohort, and the
thresholds by stretch length (issue #20)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.voice._calibration import (
    Calibration,
    Fusion,
    Screening,
    screening,
)
from sostenuto.voice._index import VoiceIndex
from sostenuto.voice._match import _judge
from sostenuto.voice._probe import Analysis
from sostenuto.voice._score import score
from sostenuto.voice._stretch import chains, pooled, seconds

DIM, MFCC = 8, 4


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def _fusion(threshold: float) -> Fusion:
    calibration = Calibration("test", threshold, 0.01, (), "test")
    zeros, ones = np.zeros(MFCC, np.float32), np.ones(MFCC, np.float32)
    # MFCC carries nothing here (every row alike): the GE2E cosine decides.
    return Fusion(calibration, (0.0, 0.1), (0.0, 1e6), zeros, ones)


def _screening(segment: float, stretch: tuple[tuple[float, float], ...]) -> Screening:
    return Screening(_fusion(segment), (0,), 0, 1.0, 0.0, -1e9, 2.0, stretch)


@given(st.lists(st.floats(0.0, 2.0), min_size=1, max_size=20))
def test_chains_split_the_segments_in_order_at_every_pause(gaps: list[float]) -> None:
    spans, at = [], 0.0
    for gap in gaps:
        spans.append((at, at + 3.0))
        at += 3.0 + gap
    found = chains(spans)
    assert [i for run in found for i in run] == list(range(len(spans)))
    for run in found:  # inside a chain no pause over 0.5 s; between chains, one
        assert all(spans[i + 1][0] - spans[i][1] <= 0.5 for i in run[:-1])
    for left, right in itertools.pairwise(found):
        assert spans[right.start][0] - spans[left.stop - 1][1] > 0.5


def test_a_pooled_stretch_is_the_normalised_mean_over_its_span() -> None:
    rng = np.random.default_rng(1)
    ge2e = _unit(rng.standard_normal((2, 4, DIM)))
    mfcc = rng.standard_normal((2, 4, MFCC)).astype(np.float32)
    spans = [(0.0, 3.0), (1.5, 4.5), (3.0, 6.0), (4.5, 7.5)]
    analysis = Analysis([], spans, (0, 1), ge2e, mfcc)
    whole = pooled(analysis, range(1, 4))
    assert whole.spans == [(1.5, 7.5)] and seconds(analysis, range(1, 4)) == 6.0
    assert np.allclose(np.linalg.norm(whole.ge2e, axis=-1), 1.0)
    assert np.allclose(whole.ge2e[:, 0], _unit(ge2e[:, 1:4].mean(axis=1)), atol=1e-6)
    assert np.allclose(whole.mfcc[:, 0], mfcc[:, 1:4].mean(axis=1), atol=1e-6)
    with pytest.raises(ValueError):
        pooled(analysis, range(2, 2))


def test_the_threshold_of_a_stretch_follows_its_length() -> None:
    decision = _screening(3.0, ((12.0, 1.5), (6.0, 2.0)))
    assert decision.stretch == ((12.0, 1.5), (6.0, 2.0))  # as given; loading sorts them
    ordered = _screening(3.0, ((6.0, 2.0), (12.0, 1.5)))
    assert ordered.stretch_threshold(4.0) is None  # too short: per segment only
    assert ordered.stretch_threshold(6.0) == 2.0
    assert ordered.stretch_threshold(30.0) == 1.5


def test_the_shipped_calibration_judges_stretches_longer_than_a_segment() -> None:
    decision = screening()
    lengths = [at_least for at_least, _ in decision.stretch]
    assert lengths == sorted(lengths) and lengths and lengths[0] > 3.0
    assert decision.stretch_threshold(3.0) is None
    assert decision.stretch_threshold(lengths[-1] + 10) == decision.stretch[-1][1]


def test_a_fixed_cohort_voice_is_never_reported_and_pulls_down_its_lookalikes() -> None:
    rng = np.random.default_rng(3)
    prints = _unit(rng.standard_normal((3, DIM)))
    lookalike = _unit(prints[0] + 0.05 * rng.standard_normal(DIM))
    segment = _unit(prints[0] + 0.3 * rng.standard_normal(DIM))
    analysis = Analysis([], [(0.0, 3.0)], (0,), segment[None, None], np.ones((1, 1, MFCC)))
    fusion = _fusion(0.0)
    mfcc_prints = _unit(np.ones((3, MFCC)))
    groups = np.arange(3, dtype=np.int64)
    cohort = (lookalike[None], np.ones((1, MFCC), np.float32))
    alone = score(analysis, prints, mfcc_prints, fusion, groups, 2, 0.1, 0.0)
    joined = score(analysis, prints, mfcc_prints, fusion, groups, 2, 0.1, 0.0, cohort=cohort)
    assert joined.best.shape == alone.best.shape == (1, 3)
    assert joined.best[0, 0] < alone.best[0, 0]


def _stretch_of(voice: np.ndarray, noise: float, count: int, seed: int) -> Analysis:
    rng = np.random.default_rng(seed)
    rows = _unit(voice + noise * rng.standard_normal((count, DIM)))
    spans = [(1.5 * i, 1.5 * i + 3.0) for i in range(count)]
    mfcc = np.ones((1, count, MFCC), np.float32)
    return Analysis([], spans, (0,), rows[None], mfcc)


def test_a_stretch_too_weak_per_segment_is_named_whole_when_its_pooled_score_passes() -> None:
    rng = np.random.default_rng(7)
    first = _unit(rng.standard_normal(DIM))
    prints = _unit(np.stack([first, -first + 0.2 * rng.standard_normal(DIM)]))
    index = VoiceIndex([11, 22], prints)
    mfcc_index = VoiceIndex([11, 22], _unit(np.ones((2, MFCC))))
    analysis = _stretch_of(prints[0], 0.5, 8, seed=8)
    segment_scores = analysis.ge2e[0] @ prints[0] / 0.1
    pooled_score = float(_unit(analysis.ge2e[0].mean(axis=0)) @ prints[0] / 0.1)
    # A segment threshold no segment passes, and a stretch threshold the pooled score passes.
    segment_cut = float(segment_scores.max()) + 0.5
    assert pooled_score > segment_cut - 0.5 > segment_scores.mean()
    before = _judge(analysis, index, mfcc_index, _screening(segment_cut, ()))
    assert {j.performer_id for j in before} == {None}
    after = _judge(analysis, index, mfcc_index, _screening(segment_cut, ((6.0, pooled_score),)))
    assert {j.performer_id for j in after} == {11}
    assert all(j.score == pytest.approx(pooled_score, rel=1e-4) for j in after)
    # Above the pooled score, the stretch threshold names no one either.
    above = _screening(segment_cut, ((6.0, pooled_score + 0.01),))
    assert {j.performer_id for j in _judge(analysis, index, mfcc_index, above)} == {None}


def test_a_stretch_named_whole_leaves_the_segments_another_voice_leads() -> None:
    """A voice may run into another without a pause: the pooled name covers only the
    segments where that voice leads."""
    rng = np.random.default_rng(9)
    prints = _unit(rng.standard_normal((2, DIM)))
    index = VoiceIndex([11, 22], prints)
    mfcc_index = VoiceIndex([11, 22], _unit(np.ones((2, MFCC))))
    alice = _stretch_of(prints[0], 0.05, 6, seed=1)
    bruno = _stretch_of(prints[1], 0.05, 2, seed=2)
    spans = [(1.5 * i, 1.5 * i + 3.0) for i in range(8)]
    ge2e = np.concatenate([alice.ge2e, bruno.ge2e], axis=1)
    joined = Analysis([], spans, (0,), ge2e, np.ones((1, 8, MFCC), np.float32))
    decision = _screening(1e9, ((6.0, -1e9),))  # no segment passes; every stretch does
    named = [j.performer_id for j in _judge(joined, index, mfcc_index, decision)]
    assert named == [11] * 6 + [None] * 2
