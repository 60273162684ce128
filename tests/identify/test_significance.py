"""Length- and hypothesis-aware significance: whole unregistered tracks are not flagged,
true matches keep their score and carry the evidence a reviewer checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.identify import DEFAULT_THRESHOLD, Index, fingerprint_samples, search
from sostenuto.identify._match import _evidence
from sostenuto.identify._significance import (
    REFERENCE_SECONDS,
    agreement_of,
    decoy_shifts,
    duration_discount,
    hypothesis_discount,
    pooled_bias,
)
from tests.identify.conftest import Samples, add_noise, change_speed, render_piece

RATE = 8000


@pytest.fixture(scope="module")
def index_with_long_tracks(
    pieces: dict[int, Samples], tmp_path_factory: pytest.TempPathFactory
) -> Index:
    index = Index.create(tmp_path_factory.mktemp("long-significance") / "index")
    entries = [(f"p{seed}", fingerprint_samples(x)) for seed, x in pieces.items()]
    entries += [
        (f"long{seed}", fingerprint_samples(render_piece(seed, 240.0))) for seed in (201, 202)
    ]
    index.add_many(entries)
    return index


def test_a_whole_unregistered_track_is_not_flagged(index_with_long_tracks: Index) -> None:
    """Five minutes of music in the key and pulse of a registered 4-minute track: the
    binomial alone gave 10.1 against long201 (over 3 350 peaks at 13 % hits); measured
    against its decoys it is chance."""
    for seed in (301, 303, 306):
        fingerprint = fingerprint_samples(render_piece(seed, 300.0), query=True)
        found = search(index_with_long_tracks, fingerprint, threshold=0.0)
        assert max((m.score for m in found), default=0.0) < DEFAULT_THRESHOLD / 2, seed


def test_a_registered_track_inside_a_long_file_is_still_found(
    pieces: dict[int, Samples], index_with_long_tracks: Index
) -> None:
    """The family-wise discount for a 5-minute query (log10 30) leaves a true 20 s passage
    far above the threshold, with its offsets and evidence."""
    long_file = render_piece(404, 300.0)
    long_file[100 * RATE : 120 * RATE] = pieces[4][10 * RATE : 30 * RATE]
    found = search(index_with_long_tracks, fingerprint_samples(long_file, query=True))
    assert found and found[0].key == "p4"
    best = found[0]
    assert best.score >= DEFAULT_THRESHOLD + 10
    assert best.query_start == pytest.approx(100.0, abs=1.0)
    assert best.reference_start - best.query_start == pytest.approx(-90.0, abs=0.2)
    assert best.evidence.agreement > 0.5 and best.evidence.coverage > 0.8
    assert best.evidence.hit_rate > best.evidence.chance


def test_matches_carry_the_reviewers_evidence(
    pieces: dict[int, Samples], piece_index: Index
) -> None:
    clean = search(piece_index, fingerprint_samples(pieces[3][5 * RATE : 15 * RATE], query=True))
    noisy = search(
        piece_index,
        fingerprint_samples(add_noise(pieces[3][5 * RATE : 15 * RATE], 0.0, seed=3), query=True),
    )
    fast = search(
        piece_index,
        fingerprint_samples(change_speed(pieces[3][5 * RATE : 15 * RATE], 1.05), query=True),
    )
    assert clean[0].key == noisy[0].key == fast[0].key == "p3"
    # Noise buries peaks: less agreement, still far beyond chance.
    assert clean[0].evidence.agreement > noisy[0].evidence.agreement > 0.05
    assert fast[0].time_scale == pytest.approx(1.05, abs=0.01)
    assert fast[0].pitch_shift == pytest.approx(12 * math.log2(1.05), abs=0.5)
    shown = clean[0].as_dict()
    assert {"hit_rate", "chance", "agreement", "coverage", "time_scale", "pitch_shift"} <= set(
        shown
    )
    assert 0.0 <= float(shown["coverage"]) <= 1.0  # type: ignore[arg-type]


@given(st.floats(min_value=0.1, max_value=20_000.0), st.floats(min_value=0.1, max_value=20_000.0))
def test_the_duration_discount_grows_with_length_and_spares_excerpts(a: float, b: float) -> None:
    short, long_ = sorted((a, b))
    assert duration_discount(short) <= duration_discount(long_)
    if long_ <= REFERENCE_SECONDS:
        assert duration_discount(long_) == 0.0
    assert duration_discount(long_) == pytest.approx(
        max(0.0, math.log10(long_ / REFERENCE_SECONDS))
    )
    assert hypothesis_discount(True) == 0.0 < hypothesis_discount(False)


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=12),
    st.floats(min_value=0.5, max_value=40.0),
)
def test_the_decoy_bias_never_eases_and_ignores_the_strongest_decoy(
    hits: list[int], chance: float
) -> None:
    decoy_hits = np.array(hits, dtype=np.float64)
    decoy_chance = np.full(decoy_hits.size, chance)
    bias = pooled_bias(decoy_hits, decoy_chance)
    assert bias >= 1.0
    if decoy_hits.size > 2:
        # One decoy that lands on a repeat of the passage changes nothing.
        lifted = decoy_hits.copy()
        lifted[int(np.argmax(lifted))] += 1000
        assert pooled_bias(lifted, decoy_chance) == pytest.approx(bias)


@given(st.integers(min_value=1, max_value=1_000_000))
def test_decoy_shifts_are_never_the_alignment_itself(frames: int) -> None:
    shifts = decoy_shifts(frames)
    assert np.all(shifts != 0) and np.all(shifts < frames)


def test_agreement_is_zero_at_chance_and_one_when_every_peak_returns() -> None:
    rng = np.random.default_rng(0)
    frames = np.sort(rng.integers(0, 1000, size=4000)).astype(np.int64)
    chance = np.full(frames.size, 0.1)
    at_chance = agreement_of(rng.random(frames.size) < 0.1, chance, frames)
    assert abs(at_chance.agreement) < 0.03 and 0.2 < at_chance.coverage < 0.8
    every = agreement_of(np.ones(frames.size, dtype=bool), chance, frames)
    assert every.agreement == pytest.approx(1.0) and every.coverage == 1.0
    assert agreement_of(np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0, np.int64)).hit_rate == 0


def test_scores_of_short_excerpts_are_not_discounted(
    pieces: dict[int, Samples], piece_index: Index
) -> None:
    """A 10 s excerpt is the calibration length: its score is the plain binomial evidence of
    its hits, so the excerpt rows keep the thresholds they were calibrated with; the same
    passage inside 60 s of other music is still found far above the threshold."""
    excerpt = pieces[6][10 * RATE : 20 * RATE]
    alone = search(piece_index, fingerprint_samples(excerpt, query=True))[0]
    plain = _evidence(alone.hits, alone.peaks, alone.evidence.chance * alone.peaks)
    assert alone.score == pytest.approx(plain, rel=1e-6)
    padded = render_piece(606, 60.0)
    padded[25 * RATE : 35 * RATE] = excerpt
    inside = search(piece_index, fingerprint_samples(padded, query=True))[0]
    assert alone.key == inside.key == "p6"
    assert inside.score >= DEFAULT_THRESHOLD + 20
    assert inside.query_start == pytest.approx(25.0, abs=1.0)
