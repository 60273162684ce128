"""Fingerprint parameters: one frozen set for reference audio, a denser one for queries.

Queries get more peaks and a wider fan-out than references: a degraded query keeps only part
of the reference's peaks, and extra query hashes cost lookups, not index space.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 8000
N_FFT = 1024
HOP = 128
FRAME_SECONDS = HOP / SAMPLE_RATE  # 16 ms
# Log-frequency axis: a pitch scale becomes a shift, which hash differences cancel.
F_MIN = 110.0
F_MAX = 3600.0
BINS_PER_OCTAVE = 24
# Bumped whenever hashes change: an index refuses fingerprints of another version.
VERSION = 1


@dataclass(frozen=True)
class FingerprintParams:
    """How densely peaks are picked and combined into triplet hashes."""

    peaks_per_second: float
    fan_out: int
    max_dt: int = 48  # frames from the first to the third peak (0.77 s)
    max_df: int = 40  # log-frequency bins between neighbouring peaks (1⅔ octave)
    # Frequency bands that take turns at each 2 s block's peak budget (1: one ranking).
    bands: int = 1


# Peaks kept for verification (reference and query alike): denser than the hashed ones, since
# the match score counts them and more trials separate true from chance alignments better.
VERIFY_PEAKS_PER_SECOND = 40.0

REFERENCE = FingerprintParams(peaks_per_second=18.0, fan_out=4)
# Queries share their budget among 3 bands: in broadband noise the loudest band's noise peaks
# would otherwise outrank the music's peaks elsewhere (references are clean, and unchanged).
QUERY = FingerprintParams(peaks_per_second=30.0, fan_out=6, bands=3)
