"""Scores of segments against voices: fused, normalised against a cohort, searched over pitch.

1. Fused score per pitch shift: GE2E and MFCC-statistics cosines, each standardised by its
   clean impostor mean and spread (``Fusion``), summed.
2. Cohort normalisation (AS-norm, query side): each score is standardised by the mean and
   spread of the segment's ``top`` best scores against *other* performers' voices. An
   unenrolled voice that scores high against everyone is pulled down; a segment that stands
   out for one voice keeps its lead; music or a pitch shift that lowers every score lowers
   the cohort too, so the lead survives where a fixed threshold on the raw score does not.
   A voice unlike every enrolled one (a synthetic voice) has a narrow cohort, which would
   inflate its normalised scores: a segment whose raw fused score is below ``gate`` (0: the
   mean impostor) keeps at most that raw score, so it cannot pass.
3. Pitch search: the best normalised score over the shifts, and the shift that gave it.

A fixed cohort (prints of synthetic voices shipped with the calibration) can join the enrolled
voices in step 2: each of its voices counts as its own performer; it is never reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.voice import _mfcc
from sostenuto.voice._calibration import Fusion
from sostenuto.voice._probe import Analysis

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Scores:
    """``best[i, v]``: segment ``i`` against voice ``v``; ``shift[i, v]`` the semitones
    searched that gave it."""

    best: Floats
    shift: Ints


def fused_by_shift(
    analysis: Analysis, prints: Floats, mfcc_prints: Floats, fusion: Fusion
) -> Floats:
    """``(shifts, segments, voices)`` fused scores before normalisation."""
    out = []
    for k in range(len(analysis.shifts)):
        ge2e = analysis.ge2e[k] @ prints.T
        mfcc = _mfcc.standardise(analysis.mfcc[k], fusion.mfcc_mean, fusion.mfcc_std)
        out.append(fusion.score(ge2e, mfcc @ mfcc_prints.T))
    return np.stack(out).astype(np.float32)


def cohort_normalise(scores: Floats, groups: Ints, top: int, floor: float, prior: float) -> Floats:
    """Adaptive score normalisation (AS-norm, query side) against the other voices.

    ``scores`` is ``(..., voices)``; ``groups[v]`` is voice ``v``'s performer (voices of one
    performer are never each other's cohort). For each voice, the ``top`` best scores of the
    row against other performers give a mean and spread; the score becomes
    ``(score - mean) / max(spread, floor)``. A registry with fewer than ``top`` other voices
    fills the cohort with ``prior``, the typical cohort score measured on real voices.
    """
    if top <= 0 or scores.shape[-1] == 0:
        return scores
    voices = scores.shape[-1]
    out = np.empty_like(scores)
    same = groups[:, None] == groups[None, :]
    for v in range(voices):
        others = np.where(same[v], -np.inf, scores)
        best = -np.sort(-others, axis=-1)[..., : min(top, voices)]
        best = np.where(np.isfinite(best), best, prior)
        if best.shape[-1] < top:
            fill = np.full((*best.shape[:-1], top - best.shape[-1]), prior, dtype=best.dtype)
            best = np.concatenate([best, fill], axis=-1)
        spread = np.maximum(best.std(axis=-1), floor)
        out[..., v] = (scores[..., v] - best.mean(axis=-1)) / spread
    return out


def gated(normalised: Floats, raw: Floats, gate: float) -> Floats:
    """Cap the normalised score by the raw one where the raw score is below ``gate``."""
    return np.where(raw < gate, np.minimum(normalised, raw), normalised).astype(np.float32)


def with_fixed_cohort(
    prints: Floats,
    mfcc_prints: Floats,
    groups: Ints,
    fusion: Fusion,
    cohort: tuple[Floats, Floats] | None,
) -> tuple[Floats, Floats, Ints]:
    """Append the fixed cohort's voices (GE2E prints, raw MFCC statistics) after the
    enrolled ones, each as a performer of its own."""
    if cohort is None or cohort[0].shape[0] == 0:
        return prints, mfcc_prints, groups
    ge2e, raw = cohort
    mfcc = _mfcc.standardise(raw, fusion.mfcc_mean, fusion.mfcc_std)
    first = int(groups.max()) + 1 if groups.size else 0
    extra = np.arange(first, first + ge2e.shape[0], dtype=np.int64)
    return (
        np.concatenate([prints, ge2e]).astype(np.float32),
        np.concatenate([mfcc_prints, mfcc]).astype(np.float32),
        np.concatenate([groups, extra]),
    )


def score(
    analysis: Analysis,
    prints: Floats,
    mfcc_prints: Floats,
    fusion: Fusion,
    groups: Ints,
    top: int,
    floor: float,
    prior: float,
    gate: float = 0.0,
    cohort: tuple[Floats, Floats] | None = None,
) -> Scores:
    """Fused, cohort-normalised scores, best over the pitch shifts searched.

    ``cohort`` (GE2E prints, raw MFCC statistics) joins the normalisation only.
    """
    voices = prints.shape[0]
    prints, mfcc_prints, groups = with_fixed_cohort(prints, mfcc_prints, groups, fusion, cohort)
    fused = fused_by_shift(analysis, prints, mfcc_prints, fusion)
    normed = gated(cohort_normalise(fused, groups, top, floor, prior), fused, gate)
    fused, normed = fused[..., :voices], normed[..., :voices]
    pick = normed.argmax(axis=0)
    best = np.take_along_axis(normed, pick[None], axis=0)[0]
    shifts = np.asarray(analysis.shifts, dtype=np.int64)[pick]
    return Scores(best.astype(np.float32), shifts)
