"""Finding the watermark after a change of speed, tempo or pitch (a search over scales).

The mark's chips are single STFT cells (16 ms x 31 Hz), so a 0.3 % change of time scale
already drifts a 10 s excerpt by one frame and a 0.3 % change of pitch moves the top band
by half a bin. The search therefore tries a log-spaced grid of scales ``g_k = STEP^k``
(0.94-1.065) in three families: tempo (time stretched by g, pitch kept, as ``atempo``
does), speed (time by g, frequency by 1/g, as resampling or a faster turntable does) and
pitch (frequency by g, time kept, as a pitch shifter does).

It is cheap because both warps are linear in the features:

* time: the query's STFT is taken once on a fine hop (HOP / FINE samples); a time scale and
  a sub-hop phase pick which fine rows stand for the nominal frames, and those are folded
  modulo the period and transformed along time once per time scale;
* frequency: interpolating the features' columns to the nominal bins is a linear map W, so
  instead of warping the features the sync pattern's spectrum is warped (S W, cached per
  scale) and every frequency scale costs one multiply-and-sum against the same transform.

Every (scale, phase, shift) tried counts in the false-alarm bound (see ``SearchResult``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import fft as sfft
from scipy import special
from scipy.ndimage import uniform_filter1d

from sostenuto.label import _watermark as wm

FINE = 4  # fine hop = HOP / FINE = 64 samples
PHASES = 4  # sub-hop phases tried at the original tempo (every fine row: 64 samples)
# Under a time stretch, 2 phases (128 samples apart) lose less z than the stretch grid itself
# and halve the search's cost.
STRETCHED_PHASES = 2
# Measured on 1 116 searches of unmarked music (benchmarks/labelling.py, 2026-12-03): the
# largest z over the search has a heavier tail than the Gaussian bound assumes (p <= 0.001
# in 0.36 % of searches, p <= 0.01 in 2 %); the bound is multiplied by this to cover it.
TAIL_FACTOR = 4.0
STEP = 1.003  # ratio between neighbouring scales: a 0.15 % miss at most keeps ~60 % of z
REACH = 21  # scales STEP^-21 .. STEP^21: 0.939 .. 1.065 (+-1 semitone is 0.944 .. 1.059)
# Query bins needed to cover the band at the largest frequency scale, plus the envelope margin.
_MARGIN = 4
_Q_LOW = math.floor(wm.LOW_BIN / STEP**REACH) - 1
_Q_HIGH = math.ceil(wm.HIGH_BIN * STEP**REACH) + 1
_Q = _Q_HIGH - _Q_LOW


def scales() -> npt.NDArray[np.float64]:
    return np.asarray(STEP ** np.arange(-REACH, REACH + 1), dtype=np.float64)


def hypotheses() -> list[tuple[float, float]]:
    """(time stretch, frequency factor) pairs searched, the unscaled one excluded."""
    found: list[tuple[float, float]] = []
    for g in scales():
        if abs(g - 1.0) < 1e-9:
            continue
        found += [(g, 1.0), (g, 1.0 / g), (1.0, g)]
    return found


def phases(stretch: float) -> int:
    return PHASES if stretch == 1.0 else STRETCHED_PHASES


def trials() -> int:
    """Alignments tried by one search: hypotheses x phases x cyclic shifts."""
    return sum(phases(stretch) for stretch, _ in hypotheses()) * wm.PERIOD


@dataclass(frozen=True)
class SearchResult:
    """The best alignment found. ``z`` is the sync peak in units of the spread of its own
    hypothesis' correlation table; ``p_sync`` bounds the chance that unmarked audio reaches it
    anywhere in the search: ``TAIL_FACTOR * trials() * Q(z)`` (Bonferroni over every alignment
    tried, widened by the tail measured on unmarked music)."""

    z: float
    p_sync: float
    stretch: float
    frequency: float
    soft: npt.NDArray[np.float64]  # one soft value per coded bit, at the best alignment


@lru_cache(maxsize=1)
def _sync_spectrum() -> npt.NDArray[np.complex64]:
    spectrum = np.fft.rfft(wm._pattern().sync, axis=0)  # (PERIOD // 2 + 1, BINS)
    return spectrum.astype(np.complex64)


def _bin_map(frequency: float) -> npt.NDArray[np.float32]:
    """W (BINS x _Q): nominal bin b reads query bin b * frequency, linearly interpolated."""
    position = (np.arange(wm.LOW_BIN, wm.HIGH_BIN) * frequency) - _Q_LOW
    left = np.floor(position).astype(np.int64)
    weight = position - left
    rows = np.arange(wm.BINS)
    w = np.zeros((wm.BINS, _Q), dtype=np.float32)
    w[rows, left] = 1.0 - weight
    w[rows, np.minimum(left + 1, _Q - 1)] += weight
    return w


@lru_cache(maxsize=1)
def _plan() -> list[tuple[float, tuple[float, ...], npt.NDArray[np.complex64]]]:
    """Per time stretch: its frequency factors and the conjugate of the sync pattern's
    transform seen on the query's bins for each (conj(S W)), laid out (frequency bin k,
    query bin, factor) for matmul. Conjugated here so that the search conjugates the small
    products, conj(F) (S W) = conj(F conj(S W)), rather than every folded transform F."""
    sync = _sync_spectrum()
    by_stretch: dict[float, list[float]] = {}
    for stretch, frequency in hypotheses():
        by_stretch.setdefault(stretch, []).append(frequency)
    plan = []
    for stretch, frequencies in by_stretch.items():
        warped = np.stack([sync @ _bin_map(f) for f in frequencies], axis=2)
        plan.append((stretch, tuple(frequencies), np.ascontiguousarray(np.conj(warped))))
    return plan


def fine_features(mono16: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """The detector's features (see _watermark._features) on a fine hop and a wider band."""
    hop = wm.HOP // FINE
    n = (mono16.size - wm.FRAME) // hop + 1
    if n <= 0:
        return np.zeros((0, _Q), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(mono16, wm.FRAME)[::hop][:n]
    frames = (view * wm._window()).astype(np.float32)
    low, high = _Q_LOW - _MARGIN, _Q_HIGH + _MARGIN
    magnitude = np.abs(sfft.rfft(frames, axis=1)[:, low:high])
    band = np.log(magnitude + np.float32(wm._EPS))
    detail = band - uniform_filter1d(band, size=2 * _MARGIN + 1, axis=1, mode="nearest")
    detail = detail[:, _MARGIN:-_MARGIN]
    # The nominal detector removes a mean over TIME_SMOOTH frames: the same span in fine rows.
    span = (wm.TIME_SMOOTH - 1) * FINE + 1
    detail -= uniform_filter1d(detail, size=span, axis=0, mode="nearest")
    scale = float(np.median(np.abs(detail))) * 1.4826 + 1e-12
    clipped = np.clip(detail / scale, -3.0, 3.0)
    power = magnitude[:, _MARGIN:-_MARGIN] ** 2
    floor = wm.column_percentile(power, 10.0) + 1e-20
    local = uniform_filter1d(
        uniform_filter1d(power, size=wm.MASK_WIDTH, axis=1, mode="nearest"),
        size=2 * FINE + 1,
        axis=0,
        mode="nearest",
    )
    weighted = clipped * (local / (local + wm.FLOOR_WEIGHT * floor))
    return np.ascontiguousarray(weighted, dtype=np.float32)


@lru_cache(maxsize=512)
def _rows(count: int, stretch: float, phase: int) -> npt.NDArray[np.int64]:
    """Fine rows standing for nominal frames 0, 1, ... under a time stretch and phase."""
    frames = int((count - 1 - phase) / (stretch * FINE)) + 1
    rows = np.rint(np.arange(frames) * (stretch * FINE) + phase).astype(np.int64)
    inside: npt.NDArray[np.int64] = rows[rows < count]
    inside.setflags(write=False)  # cached: shared by every search of this length
    return inside


def _folded(
    features: npt.NDArray[np.float32],
    rows: npt.NDArray[np.int64],
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """The rows summed modulo the period (into ``out`` when given: one (PERIOD, Q) array)."""
    folded = np.empty((wm.PERIOD, features.shape[1]), dtype=np.float32) if out is None else out
    head = rows[: wm.PERIOD]
    np.take(features, head, axis=0, out=folded[: head.size])
    folded[head.size :] = 0.0
    for start in range(wm.PERIOD, rows.size, wm.PERIOD):
        part = rows[start : start + wm.PERIOD]
        folded[: part.size] += features[part]
    return folded


def search(mono16: npt.NDArray[np.float64]) -> SearchResult | None:
    """The best alignment over every scale hypothesis, or None if the input is too short."""
    features = fine_features(mono16)
    count = features.shape[0]
    if count < 8 * FINE:
        return None
    # Per phase count: (hypothesis, phase x shift) tables and their (stretch, factor) labels.
    tables: dict[int, list[npt.NDArray[np.float64]]] = {}
    labels: dict[int, list[tuple[float, float]]] = {}
    fold = np.empty((wm.PERIOD, _Q), dtype=np.float32)  # reused by every fold
    for stretch, frequencies, warped in _plan():
        count_phases = phases(stretch)
        # (k, phase, query bin): the transform of each phase's folded features.
        transforms = np.zeros((wm.PERIOD // 2 + 1, count_phases, _Q), dtype=np.complex64)
        for p in range(count_phases):
            rows = _rows(count, stretch, p * FINE // count_phases)
            if rows.size >= 8:
                transforms[:, p] = sfft.rfft(_folded(features, rows, fold), axis=0)
        products = np.conj(np.matmul(transforms, warped))  # (k, phase, factor)
        table = sfft.irfft(products, n=wm.PERIOD, axis=0)  # (shift, phase, factor)
        tables.setdefault(count_phases, []).append(table.reshape(-1, len(frequencies)).T)
        labels.setdefault(count_phases, []).extend((stretch, f) for f in frequencies)
    best: tuple[float, float, float, int, int] = (-math.inf, 1.0, 1.0, 0, 0)
    for count_phases, group in tables.items():
        # Each hypothesis' peak in units of the robust spread of its own table (one median
        # call per group: per-table calls cost more than the correlations).
        stacked = np.concatenate(group)
        centre = np.median(stacked, axis=1, keepdims=True)
        spread = np.median(np.abs(stacked - centre), axis=1) * 1.4826 + 1e-12
        peaks = np.argmax(stacked, axis=1)
        zs = (stacked[np.arange(stacked.shape[0]), peaks] - centre[:, 0]) / spread
        index = int(np.argmax(zs))
        if zs[index] > best[0]:
            shift, p_best = divmod(int(peaks[index]), count_phases)
            stretch, frequency = labels[count_phases][index]
            best = (float(zs[index]), stretch, frequency, p_best, shift)
    z, stretch, frequency, p_best, shift = best
    rows = _rows(count, stretch, p_best * FINE // phases(stretch))
    nominal = _folded(features, rows) @ _bin_map(frequency).T  # (PERIOD, BINS)
    aligned = np.roll(nominal.astype(np.float64), shift, axis=0)
    pattern = wm._pattern()
    soft = np.bincount(
        pattern.role[pattern.data_mask],
        weights=(aligned * pattern.sign)[pattern.data_mask],
        minlength=wm.CODED_BITS,
    ).astype(np.float64)
    p_sync = min(1.0, TAIL_FACTOR * trials() * float(special.ndtr(-z)))
    return SearchResult(z=z, p_sync=p_sync, stretch=stretch, frequency=frequency, soft=soft)
