"""Triplet hashes that survive a change of speed.

Three peaks ``(t1, f1) < (t2, f2) < (t3, f3)`` on the log-frequency axis give a hash of
``f2 - f1`` and ``f3 - f2`` (a pitch scale is a shift on that axis, so the differences stay),
the ratio ``(t2 - t1) / (t3 - t1)`` (a time scale cancels) and two coarse, scale-tolerant
context fields: the third-octave band of ``f1`` and a log class of ``t3 - t1`` (classes 30 %
apart, so ±5 % moves few of them). Layout, 25 bits::

    d12 (7) | d23 (7) | ratio (4) | band (4) | span (3)

Queries also emit the neighbouring value of each coarse field when they sit near a
quantisation boundary, so a small scale change does not flip them to a hash the reference
never stored.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import numpy.typing as npt

from sostenuto.identify._params import FingerprintParams

UIntArray = npt.NDArray[np.uint32]
IntArray = npt.NDArray[np.int32]

_RATIO_LEVELS = 16
_BAND_BINS = 8
_BANDS = 16
_SPAN_FIRST = 8.0  # frames
_SPAN_STEP = 1.3
_SPANS = 8
_EDGE_MARGIN = 0.2  # fraction of a quantisation step counted as "near the boundary"


def _neighbours(
    times: IntArray, bins: IntArray, params: FingerprintParams, starts: npt.NDArray[np.int64]
) -> IntArray:
    """For each peak of ``starts``, the indices of its next ``fan_out`` peaks in the target
    zone (-1: none)."""
    n = times.size
    lookahead = 4 * params.fan_out
    offsets = np.arange(1, lookahead + 1)
    candidates = starts[:, None] + offsets[None, :]
    inside = candidates < n
    candidates = np.where(inside, candidates, n - 1)
    dt = times[candidates] - times[starts][:, None]
    df = np.abs(bins[candidates] - bins[starts][:, None])
    valid = inside & (dt > 0) & (dt < params.max_dt) & (df <= params.max_df)
    rank = np.cumsum(valid, axis=1) - 1
    valid &= rank < params.fan_out
    result = np.full((starts.size, params.fan_out), -1, dtype=np.int64)
    rows, cols = np.nonzero(valid)
    result[rows, rank[rows, cols]] = candidates[rows, cols]
    return result.astype(np.int32)


def _near_edge(value: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
    """Quantised value and the neighbour (-1: none) it sits close to."""
    level = np.floor(value).astype(np.int32)
    frac = value - level
    neighbour = np.where(
        frac < _EDGE_MARGIN, level - 1, np.where(frac > 1 - _EDGE_MARGIN, level + 1, -1)
    )
    return level, neighbour.astype(np.int32)


def triplet_hashes(
    times: IntArray,
    bins: IntArray,
    params: FingerprintParams,
    *,
    variants: bool,
    starts: npt.NDArray[np.bool_] | None = None,
) -> tuple[UIntArray, IntArray, IntArray]:
    """Hashes with the time and bin of each triplet's first peak, in triplet order.

    ``starts`` limits the triplets to those whose first peak it marks (the others are
    left out, nothing else changes): a candidate track's hashes are remade only where the
    index says the query hit it."""
    empty_u = np.zeros(0, dtype=np.uint32)
    empty_i = np.zeros(0, dtype=np.int32)
    if times.size < 3:
        return empty_u, empty_i, empty_i
    rows = np.arange(times.size) if starts is None else np.flatnonzero(starts)
    table = _neighbours(times, bins, params, rows.astype(np.int64))
    pairs = np.array(list(combinations(range(params.fan_out), 2)), dtype=np.int32)
    second = table[:, pairs[:, 0]].ravel()
    third = table[:, pairs[:, 1]].ravel()
    first = np.repeat(rows.astype(np.int32), len(pairs))
    ok = (second >= 0) & (third >= 0)
    first, second, third = first[ok], second[ok], third[ok]
    t1, t2, t3 = times[first], times[second], times[third]
    f1, f2, f3 = bins[first], bins[second], bins[third]
    d12 = f2 - f1
    d23 = f3 - f2
    # Three peaks on one frequency (a held note) say little and are everywhere: skip them.
    ok = (t3 > t2) & (np.abs(d23) < 64) & ((d12 != 0) | (d23 != 0))
    first, t1, t2, t3, f1, d12, d23 = first[ok], t1[ok], t2[ok], t3[ok], f1[ok], d12[ok], d23[ok]
    span = (t3 - t1).astype(np.float64)
    ratio_value = (t2 - t1) / span * _RATIO_LEVELS
    band_value = f1 / _BAND_BINS
    # Span classes are log-spaced: edges at 12, 20 and 32 frames sit at levels 1, 2 and 3.
    span_value = np.clip(
        1.0 + np.log(span / _SPAN_FIRST) / np.log(_SPAN_STEP), -1.0, _SPANS - 0.001
    )
    base = ((d12 + 64).astype(np.uint32) << np.uint32(18)) | (
        (d23 + 64).astype(np.uint32) << np.uint32(11)
    )
    ratio, ratio_n = _near_edge(ratio_value)
    band, band_n = _near_edge(band_value)
    spans, span_n = _near_edge(span_value)
    ratio = np.clip(ratio, 0, _RATIO_LEVELS - 1)
    spans = np.clip(spans, 0, _SPANS - 1)
    span_n = np.where(span_n >= _SPANS, -1, span_n)
    if not variants:
        hashes = base | _pack(ratio, band, spans)
        return hashes, t1.astype(np.int32), f1.astype(np.int32)
    hash_parts = [base | _pack(ratio, band, spans)]
    index_parts = [np.arange(base.size)]
    for field in range(3):
        alt = [ratio, band, spans]
        neighbour = [ratio_n, band_n, span_n][field]
        limit = [_RATIO_LEVELS, _BANDS, _SPANS][field]
        usable = (neighbour >= 0) & (neighbour < limit)
        alt[field] = np.where(usable, neighbour, alt[field])
        rows = np.nonzero(usable)[0]
        hash_parts.append(base[rows] | _pack(alt[0][rows], alt[1][rows], alt[2][rows]))
        index_parts.append(rows)
    rows = np.concatenate(index_parts)
    hashes = np.concatenate(hash_parts)
    return hashes, t1[rows].astype(np.int32), f1[rows].astype(np.int32)


def _pack(ratio: IntArray, band: IntArray, span: IntArray) -> UIntArray:
    packed: UIntArray = (ratio.astype(np.uint32) << np.uint32(7)) | (
        band.astype(np.uint32) << np.uint32(3)
    )
    return packed | span.astype(np.uint32)
