"""One score per continuous stretch: a voice heard for a while is judged on all of it at once.

A segment of 3 s is thin evidence; a verse of 12 s is not. The segments of a continuous
stretch (no pause over ``GAP`` seconds) are pooled into one probe, as enrolment pools clips:
the normalised mean of their GE2E embeddings and the mean of their raw MFCC statistics, at
every pitch shift searched (a clone keeps one shift throughout). That probe is scored like a
segment, against a threshold calibrated for stretches of its length (``Screening.stretch``).
When it passes, the voice is named on the stretch's segments where it leads (``_match``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sostenuto.voice._probe import Analysis

Floats = npt.NDArray[np.float32]
GAP = 0.5  # seconds of silence that end a stretch (as the smoothing's chains)


def chains(spans: list[tuple[float, float]]) -> list[range]:
    """Runs of time-sorted segments with no pause over ``GAP`` between neighbours."""
    out: list[range] = []
    start = 0
    for i in range(1, len(spans) + 1):
        if i == len(spans) or spans[i][0] - spans[i - 1][1] > GAP:
            out.append(range(start, i))
            start = i
    return out


def pooled(analysis: Analysis, rows: range) -> Analysis:
    """``rows`` of ``analysis`` pooled into one segment spanning them all."""
    if len(rows) == 0:
        raise ValueError("a stretch needs at least one segment")
    picked = analysis.ge2e[:, rows.start : rows.stop]
    mean = picked.mean(axis=1)
    norms = np.linalg.norm(mean, axis=-1, keepdims=True)
    ge2e = (mean / np.maximum(norms, 1e-12))[:, None, :].astype(np.float32)
    mfcc = analysis.mfcc[:, rows.start : rows.stop].mean(axis=1)[:, None, :].astype(np.float32)
    span = (analysis.spans[rows.start][0], analysis.spans[rows.stop - 1][1])
    return Analysis(analysis.regions, [span], analysis.shifts, ge2e, mfcc)


def seconds(analysis: Analysis, rows: range) -> float:
    """How long the stretch lasts, first segment's start to last segment's end."""
    return analysis.spans[rows.stop - 1][1] - analysis.spans[rows.start][0]
