"""Properties of the screening decision's parts: cohort normalisation, smoothing, pitch search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.voice._pitch import shift
from sostenuto.voice._probe import segment_spans
from sostenuto.voice._score import cohort_normalise, gated
from sostenuto.voice._smooth import NONE, smooth_labels
from sostenuto.voice._vad import Region

scores_rows = st.lists(
    st.lists(st.floats(-5, 10, allow_nan=False), min_size=6, max_size=6), min_size=1, max_size=8
)


@given(scores_rows, st.floats(-3, 3), st.integers(1, 8), st.floats(0.1, 2.0))
def test_cohort_normalisation_ignores_what_moves_every_score(
    rows: list[list[float]], offset: float, top: int, floor: float
) -> None:
    """Music or a pitch shift that lowers every score alike leaves the normalised score (with a
    full cohort) unchanged: the point of normalising against other voices."""
    scores = np.asarray(rows, dtype=np.float64)
    groups = np.arange(scores.shape[1], dtype=np.int64)
    top = min(top, scores.shape[1] - 1)
    before = cohort_normalise(scores, groups, top, floor, prior=0.0)
    after = cohort_normalise(scores + offset, groups, top, floor, prior=0.0)
    assert np.allclose(before, after, atol=1e-6)


@given(scores_rows)
def test_voices_of_one_performer_are_not_each_others_cohort(rows: list[list[float]]) -> None:
    scores = np.asarray(rows, dtype=np.float64)
    one = np.zeros(scores.shape[1], dtype=np.int64)  # every column the same performer
    # With no other performer, the cohort is the prior alone: a plain shift and scale.
    out = cohort_normalise(scores, one, 3, 1.0, prior=2.0)
    assert np.allclose(out, scores - 2.0)


def test_a_weak_raw_score_never_passes_after_normalisation() -> None:
    normalised = np.array([[9.0, 9.0]], dtype=np.float32)
    raw = np.array([[-0.5, 2.0]], dtype=np.float32)
    assert gated(normalised, raw, gate=0.0).tolist() == [[-0.5, 9.0]]


@settings(max_examples=50)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=30), st.floats(0.1, 3))
def test_smoothing_never_invents_a_voice_below_the_threshold(
    values: list[float], switch: float
) -> None:
    """Every segment below the threshold: nobody is named, whatever the switch price."""
    spans = [(1.5 * i, 1.5 * i + 3.0) for i in range(len(values))]
    scores = np.asarray(values, dtype=np.float32)[:, None] - 5.0
    assert smooth_labels(spans, scores, threshold=0.0, switch=switch) == [NONE] * len(values)


def test_smoothing_keeps_one_voice_over_a_weak_segment_and_drops_a_lone_blip() -> None:
    spans = [(1.5 * i, 1.5 * i + 3.0) for i in range(9)]
    alice = [3, 3, 3, -0.5, 3, 3, -4, -4, -4]
    bruno = [-4, -4, -4, -4, -4, -4, -4, 0.8, -4]
    scores = np.array([alice, bruno], dtype=np.float32).T
    labels = smooth_labels(spans, scores, threshold=0.0, switch=2.0)
    assert labels == [0, 0, 0, 0, 0, 0, NONE, NONE, NONE]


def test_a_pause_starts_a_fresh_chain() -> None:
    spans = [(0.0, 3.0), (1.5, 4.5), (10.0, 13.0)]
    scores = np.array([[4.0], [4.0], [0.5]], dtype=np.float32)
    assert smooth_labels(spans, scores, threshold=0.0, switch=2.0) == [0, 0, 0]
    scores = np.array([[4.0], [4.0], [-0.5]], dtype=np.float32)
    assert smooth_labels(spans, scores, threshold=0.0, switch=2.0) == [0, 0, NONE]


@pytest.mark.parametrize("semitones", [-2, -1, 1, 2])
def test_a_shift_and_its_inverse_give_back_the_pitch(semitones: int) -> None:
    rate = 16_000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 220 * t).astype(np.float32)
    moved = shift(tone, semitones)
    spectrum = np.abs(np.fft.rfft(moved.samples))
    found = np.argmax(spectrum) * rate / moved.samples.size
    assert found == pytest.approx(220 * 2 ** (semitones / 12), rel=0.01)
    assert moved.time_scale == pytest.approx(2 ** (semitones / 12), rel=1e-3)
    back = shift(moved.samples, -semitones)
    assert abs(back.samples.size - tone.size) <= 2


def test_shifts_beyond_four_semitones_are_refused() -> None:
    with pytest.raises(InvalidInput, match="semitones"):
        shift(np.zeros(16_000, np.float32), 7)


@given(st.lists(st.integers(8_000, 200_000), min_size=1, max_size=5))
def test_segment_spans_stay_inside_their_region(lengths: list[int]) -> None:
    regions, at = [], 0
    for length in lengths:
        regions.append(Region(at, at + length))
        at += length + 16_000
    spans = segment_spans(regions)
    for start, end in spans:
        assert any(r.start / 16_000 - 1e-9 <= start < end <= r.end / 16_000 + 1e-9 for r in regions)
        assert end - start <= 3.0 + 1e-9
    for region in regions:  # every region is covered from its start to its end
        inside = [s for s in spans if region.start / 16_000 - 1e-9 <= s[0] < region.end / 16_000]
        assert inside[0][0] == pytest.approx(region.start / 16_000)
        assert inside[-1][1] == pytest.approx(region.end / 16_000)
