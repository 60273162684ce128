"""Local decoys: a stretch that only shares a held chord with the query is measured as the
chance it is, while a stretch tied to its moment keeps its evidence."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sostenuto.identify import Fingerprint
from sostenuto.identify._match import _Occupancy
from sostenuto.identify._significance import LOCAL_DECOY_SECONDS, local_decoy_shifts

FRAMES = 2000
CHORD = (40, 52, 59)  # log bins held from frame 600 to 1400 (about 13 s)


def _query() -> tuple[_Occupancy, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A query's peaks: sparse scattered peaks everywhere (as music's onsets are) and a held
    chord over the middle; with the scattered peaks' frames and bins."""
    rng = np.random.default_rng(19)
    times = rng.integers(0, FRAMES, size=3000)
    bins = rng.integers(0, 200, size=3000)
    held_t = np.repeat(np.arange(600, 1400), len(CHORD))
    held_f = np.tile(CHORD, 800)
    peak_times = np.concatenate([times, held_t]).astype(np.int32)
    peak_bins = np.concatenate([bins, held_f]).astype(np.int32)
    empty = np.zeros(0, dtype=np.int32)
    fingerprint = Fingerprint(
        np.zeros(0, dtype=np.uint32), empty, empty, peak_times, peak_bins, FRAMES * 0.016
    )
    return _Occupancy(fingerprint), times.astype(np.int64), bins.astype(np.int64)


def test_local_decoy_shifts_are_short_and_never_zero() -> None:
    shifts = local_decoy_shifts()
    assert shifts.size == len(LOCAL_DECOY_SECONDS)
    assert np.all(shifts != 0) and np.all(np.abs(shifts) * 0.016 < 2.5)
    assert len(set(np.abs(shifts).tolist())) == shifts.size  # no shift twice


def test_a_stretch_on_a_held_chord_gets_its_hits_again_when_moved() -> None:
    occupancy, _, _ = _query()
    # Reference peaks that land on the chord for 2 s: every one hits, moved or not.
    times = np.repeat(np.arange(900, 1025), len(CHORD)).astype(np.int64)
    bins = np.tile(CHORD, 125).astype(np.int64)
    hit, chance, _ = occupancy.lookup(times, bins, pitch_exact=True)
    assert hit.all()
    bias = occupancy.local_bias(times, bins, pitch_exact=True)
    # Moved, they hit as often as in place: the chance of a hit there is about one.
    assert bias * chance.mean() > 0.8


def test_a_stretch_tied_to_its_moment_keeps_its_chance() -> None:
    occupancy, times, bins = _query()
    # Reference peaks on the scattered peaks before the chord: in place every one hits;
    # moved by a fraction of a second they find only chance.
    picked = times < 500
    times, bins = times[picked][:150], bins[picked][:150]
    hit, _, _ = occupancy.lookup(times, bins, pitch_exact=True)
    assert hit.all()
    assert occupancy.local_bias(times, bins, pitch_exact=True) < 2.0
