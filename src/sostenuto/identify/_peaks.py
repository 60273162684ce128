"""Spectral peaks: local maxima of the log spectrogram, thinned to a target density.

The 9 x 9 maximum and the 31 x 25 mean are separable; each axis is done by doubling (spans of
1, 2, 4, 8 ... rows combined with whole-row operations, so log2(width) passes instead of
width), always along contiguous memory: the frequency axis by treating the padded rows as one
long line.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from sostenuto.identify._params import FRAME_SECONDS

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]

# A peak must top its neighbourhood by this much over the local mean, which keeps flat noise
# and silence from producing peaks.
_MIN_SALIENCE_DB = 3.0
_BLOCK_FRAMES = 125  # density is enforced per 2 s block
_RADIUS = 4  # a peak tops the 9 x 9 frames-by-bins square around it
_MEAN_FRAMES = 31  # the local mean covers 31 frames (0.5 s) by 25 bins (an octave)
_MEAN_BINS = 25
_SLICE_FRAMES = 1024  # frames per slice (16 s): its scratch arrays fit in cache


def _window_max(padded: FloatArray, width: int) -> FloatArray:
    """Row ``i`` of the answer is the maximum of rows ``i .. i + width - 1`` of ``padded``
    (valid for the first ``len(padded) - width + 1`` rows). ``padded`` is used as scratch."""
    current, other = padded, np.empty_like(padded)
    length, span = padded.shape[0], 1
    while 2 * span <= width:
        np.maximum(current[: length - span], current[span:length], out=other[: length - span])
        current, other = other, current
        length -= span
        span *= 2
    if span < width:  # two overlapping windows of ``span`` cover ``width``
        shift = width - span
        np.maximum(current[: length - shift], current[shift:length], out=other[: length - shift])
        current = other
    return current


def _local_max(values: FloatArray, radius: int) -> FloatArray:
    """Maximum over the ``(2 radius + 1)``-square around each cell (truncated at the edges)."""
    frames, bins = values.shape
    width = 2 * radius + 1
    # Rows padded with -inf on both sides and laid end to end: one line, windows never mix rows.
    rows = np.full((frames, bins + 2 * radius), -np.inf, dtype=np.float32)
    rows[:, radius : radius + bins] = values
    along_bins = _window_max(rows.ravel(), width).reshape(rows.shape)[:, :bins]
    stacked = np.full((frames + 2 * radius, bins), -np.inf, dtype=np.float32)
    stacked[radius : radius + frames] = along_bins
    return _window_max(stacked, width)[:frames]


def _window_mean_frames(values: FloatArray, width: int) -> FloatArray:
    """Mean over ``width`` frames centred on each (``width`` odd; edges repeat the end rows)."""
    frames = values.shape[0]
    radius = width // 2
    level = np.concatenate(
        [np.repeat(values[:1], radius, axis=0), values, np.repeat(values[-1:], radius, axis=0)]
    )
    spare = np.empty_like(level)
    # Sums of 1, 2, 4, ... rows; ``width`` is the sum of the spans whose bit it has set.
    total = np.zeros_like(values)
    offset, span, length = 0, 1, level.shape[0]
    remaining = width
    while remaining:
        if remaining & 1:
            total += level[offset : offset + frames]
            offset += span
        remaining >>= 1
        if remaining:
            np.add(level[: length - span], level[span:length], out=spare[: length - span])
            level, spare = spare, level
            length -= span
            span *= 2
    total *= np.float32(1.0 / width)
    return total


def _background(values: FloatArray) -> FloatArray:
    along_bins = uniform_filter1d(values, _MEAN_BINS, axis=1, mode="nearest")
    return _window_mean_frames(along_bins, _MEAN_FRAMES)


def _candidates(spectrogram: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Times, bins and salience of every local maximum above the floor and the threshold.

    Worked through in slices of frames (with enough neighbours on each side for the mean), so
    the filters' scratch arrays stay in cache: half the time of whole-array passes, and the
    same answer, since every window inside a slice sees exactly what it would in the whole.
    """
    floor = spectrogram.max() - 70.0
    frames, bins = spectrogram.shape
    halo = max(_RADIUS, _MEAN_FRAMES // 2)
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    for start in range(0, frames, _SLICE_FRAMES):
        stop = min(start + _SLICE_FRAMES, frames)
        low, high = max(start - halo, 0), min(stop + halo, frames)
        part = spectrogram[low:high]
        mask = part == _local_max(part, _RADIUS)
        mask &= part > floor
        # One flat index pass is cheaper than np.nonzero's two-dimensional one.
        rows, columns = np.divmod(np.flatnonzero(mask[start - low : stop - low]), bins)
        rows += start - low
        # The mean is needed only under the maxima; a whole-slice pass is still cheaper than
        # gathering 775 cells for each.
        salience = part[rows, columns] - _background(part)[rows, columns]
        salient = salience > _MIN_SALIENCE_DB
        times = (rows[salient] + low).astype(np.int32)
        found.append((times, columns[salient].astype(np.int32), salience[salient]))
    return (
        np.concatenate([f[0] for f in found]),
        np.concatenate([f[1] for f in found]),
        np.concatenate([f[2] for f in found]),
    )


def _rank_in_groups(
    group: npt.NDArray[np.integer], *keys: npt.NDArray[np.number]
) -> npt.NDArray[np.int64]:
    """Each peak's rank among the peaks of its ``group``, ordered by ``keys`` (the first
    deciding), each ascending."""
    order = np.lexsort((*reversed(keys), group))
    group_sorted = group[order]
    starts = np.searchsorted(group_sorted, group_sorted, side="left")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - starts
    return rank


def find_peaks(
    spectrogram: npt.NDArray[np.float32], *densities: float, bands: int = 1
) -> list[tuple[IntArray, IntArray]]:
    """For each density (peaks per second), times (frames) and log-frequency bins of peaks,
    sorted by time then frequency. A sparser set is always a subset of a denser one.

    With ``bands`` > 1 the frequency axis is cut into that many equal bands and each block's
    budget is dealt out in turns (every band's strongest peak, then every band's second...):
    broadband noise then cannot spend the whole budget in the band where it is loudest, and a
    band with few peaks leaves its turns to the others.
    """
    empty = np.zeros(0, dtype=np.int32)
    if spectrogram.shape[0] == 0:
        return [(empty, empty) for _ in densities]
    times, bins, strength = _candidates(np.ascontiguousarray(spectrogram, dtype=np.float32))
    # Rank peaks inside each block by descending salience; each density keeps its top ranks.
    block = times // _BLOCK_FRAMES
    if bands > 1:
        band = bins * bands // spectrogram.shape[1]
        turn = _rank_in_groups(block * bands + band, -strength)
        rank = _rank_in_groups(block, turn, -strength)
    else:
        rank = _rank_in_groups(block, -strength)
    found: list[tuple[IntArray, IntArray]] = []
    for density in densities:
        budget = max(1, round(density * _BLOCK_FRAMES * FRAME_SECONDS))
        keep = rank < budget  # a mask keeps np.nonzero's order: by time, then frequency
        found.append((times[keep], bins[keep]))
    return found
