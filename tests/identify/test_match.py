"""Matching: excerpts under noise and speed change, offsets in both files, segment search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.identify import DEFAULT_THRESHOLD, Index, _match, fingerprint_samples, search
from tests.identify.conftest import Samples, add_noise, change_speed, render_piece

RATE = 8000


def cut(samples: Samples, start_s: float, seconds: float) -> Samples:
    return samples[int(start_s * RATE) : int((start_s + seconds) * RATE)]


@pytest.mark.parametrize("snr_db", [15.0, 5.0])
def test_noisy_excerpts_are_found_at_their_offset(
    pieces: dict[int, Samples], piece_index: Index, snr_db: float
) -> None:
    for seed, samples in pieces.items():
        query = add_noise(cut(samples, 11.0, 10.0), snr_db, seed=seed)
        found = search(piece_index, fingerprint_samples(query, query=True))
        assert found, f"p{seed} not found at {snr_db} dB"
        best = found[0]
        assert best.key == f"p{seed}"
        assert best.score >= DEFAULT_THRESHOLD
        # The excerpt starts 11 s into the piece: reference time - query time = 11 s.
        assert best.reference_start - best.query_start == pytest.approx(11.0, abs=0.1)
        assert best.time_scale == pytest.approx(1.0, abs=0.01)


def test_excerpts_under_noise_as_loud_as_the_music_are_found(
    pieces: dict[int, Samples], piece_index: Index
) -> None:
    """At 0 dB true peaks hit only a few times more often than chance, all along the query:
    the whole query is scored, not only the stretch where hits run densest."""
    for seed, samples in pieces.items():
        query = add_noise(cut(samples, 11.0, 10.0), 0.0, seed=seed)
        found = search(piece_index, fingerprint_samples(query, query=True))
        assert found and found[0].key == f"p{seed}", f"p{seed} not found at 0 dB"
        assert found[0].reference_start - found[0].query_start == pytest.approx(11.0, abs=0.1)


def test_score_does_not_depend_on_the_threshold(
    pieces: dict[int, Samples], piece_index: Index
) -> None:
    """The threshold only filters: calibrating it on scores taken at threshold 0 is valid."""
    for seed in (2, 5, 7):
        fingerprint = fingerprint_samples(add_noise(cut(pieces[seed], 3.0, 8.0), 5.0), query=True)
        everything = search(piece_index, fingerprint, threshold=0.0)
        reported = search(piece_index, fingerprint)
        assert reported and everything[0] == reported[0]
        assert [m for m in everything if m.score >= DEFAULT_THRESHOLD] == reported


@pytest.fixture(scope="module")
def index_with_long_tracks(
    pieces: dict[int, Samples], tmp_path_factory: pytest.TempPathFactory
) -> Index:
    """The eight pieces beside two 4-minute ones, which get far more chance hash hits."""
    index = Index.create(tmp_path_factory.mktemp("long") / "index")
    entries = [(f"p{seed}", fingerprint_samples(x)) for seed, x in pieces.items()]
    entries += [
        (f"long{seed}", fingerprint_samples(render_piece(seed, 240.0))) for seed in (201, 202)
    ]
    index.add_many(entries)
    return index


def test_candidates_are_the_tracks_whose_hits_line_up(
    pieces: dict[int, Samples], index_with_long_tracks: Index
) -> None:
    """Ranked by raw hits, the long tracks would crowd out the true one; ranked by hits at
    one offset, the true track comes first, so one candidate is enough."""
    for seed, samples in pieces.items():
        query = add_noise(cut(samples, 11.0, 10.0), 5.0, seed=seed)
        found = search(
            index_with_long_tracks, fingerprint_samples(query, query=True), max_candidates=1
        )
        assert found and found[0].key == f"p{seed}"


@pytest.mark.parametrize("factor", [0.95, 1.05])
def test_speed_changes_of_five_percent(
    pieces: dict[int, Samples], piece_index: Index, factor: float
) -> None:
    for seed in (1, 4, 6):
        query = change_speed(cut(pieces[seed], 8.0, 12.0), factor)
        found = search(piece_index, fingerprint_samples(query, query=True))
        assert found and found[0].key == f"p{seed}"
        # A faster query covers more reference time per query second.
        assert found[0].time_scale == pytest.approx(factor, abs=0.01)
        assert np.sign(found[0].pitch_shift) == np.sign(factor - 1.0)


def test_unregistered_music_is_not_matched(piece_index: Index) -> None:
    for seed in range(100, 112):
        query = render_piece(seed, 10.0)
        assert search(piece_index, fingerprint_samples(query, query=True)) == []


@given(
    anchors=st.lists(st.booleans(), max_size=200),
    allowance=st.integers(0, 120),
)
def test_anchors_beyond_the_allowance_are_spread_evenly(
    anchors: list[bool], allowance: int
) -> None:
    is_anchor = np.array(anchors, dtype=bool)
    counted = _match._anchors_beyond(is_anchor, allowance)
    count = int(is_anchor.sum())
    excess = max(count - allowance, 0)
    assert not (counted & ~is_anchor).any()
    assert int(counted.sum()) == excess
    # Along the anchors, the share counted so far never strays a whole anchor from even.
    taken = np.cumsum(counted[is_anchor])
    even = np.arange(1, count + 1) * excess / max(count, 1)
    assert np.all(np.abs(taken - even) < 1.0)


def test_only_more_anchors_than_chance_gives_count_in_verification(
    pieces: dict[int, Samples], piece_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A true alignment votes with far more anchors than a chance one: those beyond what
    chance reaches add evidence; unrelated music, whose alignments stay under the
    allowance, scores exactly as with every anchor left out."""
    true_queries = [
        fingerprint_samples(add_noise(cut(pieces[seed], 11.0, 10.0), 15.0, seed=seed), query=True)
        for seed in (1, 5, 7)
    ]
    unrelated = [fingerprint_samples(render_piece(seed, 10.0), query=True) for seed in (100, 101)]
    counted = [search(piece_index, q, threshold=0.0) for q in true_queries + unrelated]
    monkeypatch.setattr(_match, "_CHANCE_ANCHORS", 10**9)
    left_out = [search(piece_index, q, threshold=0.0) for q in true_queries + unrelated]
    for more, fewer in zip(counted[:3], left_out[:3], strict=True):
        assert more[0].key == fewer[0].key
        assert more[0].peaks > fewer[0].peaks
        assert more[0].score > fewer[0].score
    assert counted[3:] == left_out[3:]


def test_segment_search_reports_every_recording_inside(
    pieces: dict[int, Samples], piece_index: Index
) -> None:
    """A 30 s "generated" track: new music with p2 and p5 sampled into it, quieter."""
    bed = render_piece(500, 30.0)
    mix = bed.copy()
    mix[5 * RATE : 11 * RATE] += 1.5 * cut(pieces[2], 20.0, 6.0)
    mix[18 * RATE : 26 * RATE] += 1.5 * cut(pieces[5], 3.0, 8.0)
    found = search(piece_index, fingerprint_samples(mix, query=True))
    by_key = {m.key: m for m in found}
    assert set(by_key) == {"p2", "p5"}
    assert by_key["p2"].query_start == pytest.approx(5.0, abs=0.6)
    assert by_key["p2"].query_end == pytest.approx(11.0, abs=1.0)
    assert by_key["p2"].reference_start == pytest.approx(20.0, abs=0.6)
    assert by_key["p5"].query_start == pytest.approx(18.0, abs=0.6)
    assert by_key["p5"].reference_start == pytest.approx(3.0, abs=0.6)
    assert by_key["p5"].reference_end == pytest.approx(11.0, abs=1.0)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(1, 8), start=st.floats(0.0, 30.0))
def test_any_excerpt_maps_back_to_its_place(
    pieces: dict[int, Samples], piece_index: Index, seed: int, start: float
) -> None:
    query = cut(pieces[seed], start, 6.0)
    found = search(piece_index, fingerprint_samples(query, query=True))
    assert found and found[0].key == f"p{seed}"
    assert found[0].reference_start - found[0].query_start == pytest.approx(start, abs=0.1)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(1, 8),
    offset_error=st.floats(-1.5, 1.5),
    scale_error=st.floats(-0.005, 0.005),
)
def test_a_slightly_wrong_alignment_is_refitted_on_its_hits(
    pieces: dict[int, Samples],
    piece_index: Index,
    seed: int,
    offset_error: float,
    scale_error: float,
) -> None:
    """An alignment off by up to 1.5 frames and half a per cent loses the peaks away from
    where it is right; refitted on its hits it lands within a frame of the truth over the
    whole query, and finds more peaks again."""
    query = fingerprint_samples(add_noise(cut(pieces[seed], 11.0, 5.0), 5.0, seed=seed), query=True)
    occupancy = _match._Occupancy(query)
    frames = query.duration / _match.FRAME_SECONDS
    true_offset = 11.0 / _match.FRAME_SECONDS
    middle = frames / 2
    scale = 1.0 + scale_error
    # Wrong by offset_error at the middle of the query, more towards its ends.
    offset = true_offset + middle - scale * middle + offset_error
    track = piece_index.reference(piece_index.track_id(f"p{seed}"))
    fit = _match._refit(track, occupancy, 0.0, frames, scale, offset, 0.0)
    assert fit is not None
    edges = np.array([0.0, middle, frames])
    truth = true_offset + edges
    for _ in range(2):  # as the search does: a second fit from the first
        fit = _match._refit(track, occupancy, 0.0, frames, *fit, 0.0) or fit
    assert np.all(np.abs(fit[0] * edges + fit[1] - truth) <= 1.0)
    no_anchors = np.zeros(0, dtype=np.int64)
    before = _match._verify(track, occupancy, 0.0, frames, scale, offset, 0.0, no_anchors)
    after = _match._verify(track, occupancy, 0.0, frames, *fit, 0.0, no_anchors)
    assert before is not None and after is not None
    if abs(offset_error) >= 1.2:  # off by more than the tolerance: peaks were lost
        assert after.hits > before.hits


def _peaks_only(times: list[int], bins: list[int]) -> _match.Fingerprint:
    empty = np.zeros(0, dtype=np.int32)
    return _match.Fingerprint(
        np.zeros(0, dtype=np.uint32),
        empty,
        empty,
        np.array(times, dtype=np.int32),
        np.array(bins, dtype=np.int32),
        1.0,
    )


def test_hits_stay_in_their_bin_unless_the_alignment_moves_pitch() -> None:
    """At unit scale a reference peak found again lands in its own bin (within a frame); a
    bin away is a miss there, and counts only where a speed change moved pitch by a
    fraction of a bin. The narrower target has the smaller chance."""
    rng = np.random.default_rng(3)
    query = _peaks_only(list(rng.integers(0, 60, 200)), list(rng.integers(0, 121, 200)))
    occupancy = _match._Occupancy(query)
    peak_t, peak_b = int(query.peak_times[0]), int(query.peak_bins[0])
    # Offsets from a query peak that no other query peak covers.
    probes = [(dt, db) for dt in (-1, 0, 1) for db in (-1, 0, 1)]
    alone = [
        (dt, db)
        for dt, db in probes
        if not np.any(
            (np.abs(query.peak_times - (peak_t + dt)) <= 1)
            & (np.abs(query.peak_bins - (peak_b + db)) <= 1)
            & ((query.peak_times != peak_t) | (query.peak_bins != peak_b))
        )
    ]
    assert (0, 1) in alone or (0, -1) in alone
    db = 1 if (0, 1) in alone else -1
    times = np.array([peak_t, peak_t + 1, peak_t], dtype=np.int64)
    bins = np.array([peak_b, peak_b, peak_b + db], dtype=np.int64)
    exact, exact_chance, _ = occupancy.lookup(times, bins, pitch_exact=True)
    wide, wide_chance, _ = occupancy.lookup(times, bins, pitch_exact=False)
    assert exact.tolist() == [True, True, False]
    assert wide.tolist() == [True, True, True]
    assert np.all(exact_chance < wide_chance)
    assert _match._pitch_exact(1.004) and not _match._pitch_exact(1.05)


def _peak_map(times: npt.NDArray[np.int64], bins: npt.NDArray[np.int64]) -> _match.Fingerprint:
    order = np.lexsort((bins, times))
    return _peaks_only(list(times[order]), list(bins[order]))


@pytest.mark.parametrize(("burst_frames", "sampled"), [(12, False), (250, True)])
def test_the_best_sub_stretch_is_discounted_for_being_picked_among_all(
    tmp_path: Path, burst_frames: int, sampled: bool
) -> None:
    """Seven reference peaks found again in 0.2 s of an unrelated 10 s query are the best of
    some 80 000 sub-stretches, not evidence: the score stays far below the threshold (it
    would be over 9 undiscounted). A 4 s stretch found again is a sampled passage, reported
    on its own and strongly."""
    rng = np.random.default_rng(11)
    frames = 625  # 10 s
    ref_t = np.sort(rng.integers(0, frames, 400)).astype(np.int64)
    ref_b = rng.integers(0, 121, 400).astype(np.int64)
    index = Index.create(tmp_path / "index")
    track = index.add("ref", _peak_map(ref_t, ref_b)).track_id
    noise_t = rng.integers(0, frames, 400).astype(np.int64)
    noise_b = rng.integers(0, 121, 400).astype(np.int64)
    copied = (ref_t >= 300) & (ref_t < 300 + burst_frames)
    if not sampled:
        copied &= np.cumsum(copied) <= 7
    query = _peak_map(
        np.concatenate([noise_t, ref_t[copied]]), np.concatenate([noise_b, ref_b[copied]])
    )
    verified = _match._verify(
        index.reference(track),
        _match._Occupancy(query),
        0.0,
        float(frames),
        1.0,
        0.0,
        0.0,
        np.zeros(0, dtype=np.int64),
    )
    assert verified is not None
    whole = int(np.count_nonzero(ref_t < frames))
    if sampled:
        assert verified.total < whole / 2
        assert verified.score > 20
        assert verified.query_span[0] == pytest.approx(300, abs=10)
    else:
        assert verified.score < 5
