"""How much evidence an alignment carries once chance is measured, not only modelled.

The binomial score of an alignment (``_match._evidence``) uses a chance of a hit modelled
from the query's own peak occupancy. Music shares keys, chords and tempos with other music,
so that model is a little optimistic, and a little is enough: over a whole file thousands of
reference peaks are checked, and a hit rate 1.3x the modelled chance then scores 20 (whole
unregistered tracks "matched" at 10-24 with 3 % of their peaks found again). Two checks stop
that before a match is reported:

- **Decoys.** The same reference peaks, under the same scale and pitch, are moved to other
  places in the query (circular time shifts) and counted again. Their hits over their
  modelled chance is the model's bias for this query and this reference; the chance of the
  real alignment is multiplied by it (never divided). A true alignment keeps its lead over
  its decoys; a chance one, found because the two pieces share a key or a pulse, does not.
- **Local decoys.** The reported stretch's own peaks are moved by a fraction of a second to
  two seconds, within the query. A true alignment is tied to its moment: moved, its hits fall
  to chance. Two pieces that only share a held chord or a drone at some pitch are not: the
  chord is still there a second later, and the moved peaks hit about as often (whole
  unregistered tracks flagged at 8-13 over 2-9 s runs at +1 semitone, whose local decoys
  found 40-100 % of their hits). Their bias, measured on the stretch alone, corrects its
  chance the same way; the global decoys, spread over the whole window, cannot see a short
  stretch.
- **Family-wise bound.** A query longer than the excerpts the threshold was calibrated on
  holds more places for chance to line up: the score is reduced by ``log10`` of the number
  of calibration-length windows it holds, and an alignment away from unit pitch and scale by
  ``log10`` of the pitch hypotheses tried.

What a reviewer can check comes back with each match: the hit rate, the measured chance, the
agreement beyond chance (``(hit rate - chance) / (1 - chance)``, 1 for every peak found
again, 0 for chance) and the coverage (share of the matched seconds with hits above chance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.identify._params import FRAME_SECONDS

# Query length the threshold is calibrated on (benchmark and calibration excerpts: 5-10 s).
# A longer query gets log10(length / this) taken off: that many more windows for chance.
REFERENCE_SECONDS = 10.0
# Pitch shifts an alignment may take (-3..+3 log bins): one hypothesis of seven when it is
# not at unit pitch and scale (where hits must land in the peak's own bin).
PITCH_HYPOTHESES = 7
# Time shifts of the decoys, in seconds (not multiples of each other, so a repeating bar or
# beat lines up with few of them); each circular within the query.
DECOY_SECONDS = (1.37, -1.91, 2.83, -3.59, 4.71, -5.53, 6.67, -7.79)
# Local decoys of the reported stretch, in seconds: not circular (moved peaks that leave the
# query are dropped), not multiples of each other, none a whole beat of common tempos.
LOCAL_DECOY_SECONDS = (0.29, -0.43, 0.61, -0.83, 1.07, -1.31, 1.73, -2.11)
# Below this raw evidence an alignment can only lose by the decoy check: it is not made.
DECOY_FLOOR = 3.0
# An alignment must find this share of its peaks beyond chance to be reported at all: true
# matches keep >= 0.1 even at 0 dB SNR, chance alignments of whole files stay under 0.03.
MIN_AGREEMENT = 0.05
_COVERAGE_BLOCK = 1.0  # seconds


def duration_discount(seconds: float) -> float:
    """``log10`` of how many calibration-length windows a query of ``seconds`` holds."""
    return math.log10(max(1.0, seconds / REFERENCE_SECONDS))


def hypothesis_discount(pitch_exact: bool) -> float:
    """``log10`` of the pitch hypotheses an alignment away from unit pitch and scale took."""
    return 0.0 if pitch_exact else math.log10(PITCH_HYPOTHESES)


def decoy_shifts(frames: int) -> npt.NDArray[np.int64]:
    """The decoy shifts in frames for a query of ``frames``, none of them zero."""
    shifts = np.rint(np.array(DECOY_SECONDS) / FRAME_SECONDS).astype(np.int64)
    if frames > 0:
        shifts = shifts % frames
    kept: npt.NDArray[np.int64] = shifts[shifts != 0]
    return kept


def local_decoy_shifts() -> npt.NDArray[np.int64]:
    """The local decoy shifts in frames."""
    shifts: npt.NDArray[np.int64] = np.rint(np.array(LOCAL_DECOY_SECONDS) / FRAME_SECONDS).astype(
        np.int64
    )
    return shifts


def pooled_bias(
    decoy_hits: npt.NDArray[np.float64], decoy_chance: npt.NDArray[np.float64]
) -> float:
    """Hits of the decoys over their modelled chance, the strongest decoy left out (a shift
    that happens to match a repeat of the passage), never below 1."""
    if decoy_hits.size == 0:
        return 1.0
    if decoy_hits.size > 2:
        ratio = decoy_hits / np.maximum(decoy_chance, 1e-9)
        keep = np.ones(decoy_hits.size, dtype=bool)
        keep[int(np.argmax(ratio))] = False
        decoy_hits, decoy_chance = decoy_hits[keep], decoy_chance[keep]
    # A pseudo-count of one expected hit: a few decoy peaks cannot swing it far.
    return max(1.0, (float(decoy_hits.sum()) + 1.0) / (float(decoy_chance.sum()) + 1.0))


@dataclass(frozen=True)
class Agreement:
    """What a reviewer checks: how far the alignment's hits stand above measured chance."""

    hit_rate: float  # reference peaks found again, of those in the stretch
    chance: float  # the chance of that per peak, decoy-corrected
    agreement: float  # (hit_rate - chance) / (1 - chance)
    coverage: float  # share of the stretch's seconds with hits above chance

    def as_dict(self) -> dict[str, float]:
        return {
            "hit_rate": round(self.hit_rate, 4),
            "chance": round(self.chance, 4),
            "agreement": round(self.agreement, 4),
            "coverage": round(self.coverage, 3),
        }


def agreement_of(
    hit: npt.NDArray[np.bool_], chance: npt.NDArray[np.float64], query_frames: npt.NDArray[np.int64]
) -> Agreement:
    """Agreement and coverage of a stretch's points (``chance`` already corrected)."""
    total = hit.size
    if total == 0:
        return Agreement(0.0, 0.0, 0.0, 0.0)
    rate = float(hit.mean())
    base = float(min(chance.mean(), 1.0 - 1e-9))
    blocks = (query_frames - query_frames.min()) // max(1, round(_COVERAGE_BLOCK / FRAME_SECONDS))
    hits_per = np.bincount(blocks, weights=hit.astype(np.float64))
    chance_per = np.bincount(blocks, weights=chance)
    present = np.bincount(blocks) > 0
    coverage = float(np.mean(hits_per[present] > chance_per[present]))
    return Agreement(rate, base, (rate - base) / (1.0 - base), coverage)
