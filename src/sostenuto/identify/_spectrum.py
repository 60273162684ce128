"""Log-frequency power spectrogram at 8 kHz, the one picture every fingerprint is drawn from.

Frames go through in blocks of a few hundred, reusing the same buffers, so the windowed frames
and their spectra (each 16 times the size of the result) are never held whole: big fresh
arrays cost more in page faults and cache misses than the FFT itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import scipy.fft

from sostenuto.identify._params import BINS_PER_OCTAVE, F_MAX, F_MIN, HOP, N_FFT, SAMPLE_RATE

FloatArray = npt.NDArray[np.float32]

_BLOCK_FRAMES = 256  # about 1 MB of windowed frames: the block stays in cache
# Log bins are weighted in groups of this many neighbours, each over only the FFT bins it
# touches: 955 non-zero weights of 62 073, so a dense product would be mostly zeros. Small
# products also stay under OpenBLAS's threading threshold; its idle threads spin on the CPU.
_GROUP_BINS = 8
_DB_PER_NEPER = np.float32(10.0 / np.log(10.0))  # 10 log10(x) = (10 / ln 10) ln(x)


@lru_cache(maxsize=1)
def _log_filterbank() -> FloatArray:
    """Triangles centred on log-spaced frequencies, never narrower than two FFT bins."""
    n_bins = int(np.floor(BINS_PER_OCTAVE * np.log2(F_MAX / F_MIN))) + 1
    centres = F_MIN * 2.0 ** (np.arange(n_bins) / BINS_PER_OCTAVE)
    fft_freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    spacing = SAMPLE_RATE / N_FFT
    half_widths = np.maximum(centres * (2.0 ** (1.0 / BINS_PER_OCTAVE) - 1.0), 1.5 * spacing)
    weights = 1.0 - np.abs(fft_freqs[None, :] - centres[:, None]) / half_widths[:, None]
    weights = np.clip(weights, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.ascontiguousarray(weights.T, dtype=np.float32)  # (fft bins, log bins)


@dataclass(frozen=True)
class _Group:
    """Log bins ``[first, stop)`` and the FFT bins ``[low, high)`` their triangles cover."""

    first: int
    stop: int
    low: int
    high: int
    weights: FloatArray  # (high - low, stop - first)


@lru_cache(maxsize=1)
def _groups() -> tuple[int, int, tuple[_Group, ...]]:
    """FFT bins any triangle covers (``low``, ``high``), and the groups, offset from ``low``."""
    weights = _log_filterbank()
    used = weights > 0
    starts = used.argmax(axis=0)
    ends = used.shape[0] - used[::-1].argmax(axis=0)
    low, high = int(starts.min()), int(ends.max())
    groups = []
    for first in range(0, weights.shape[1], _GROUP_BINS):
        stop = min(first + _GROUP_BINS, weights.shape[1])
        a, b = int(starts[first:stop].min()), int(ends[first:stop].max())
        block = np.ascontiguousarray(weights[a:b, first:stop])
        groups.append(_Group(first, stop, a - low, b - low, block))
    return low, high, tuple(groups)


@lru_cache(maxsize=1)
def _window() -> FloatArray:
    return np.hanning(N_FFT).astype(np.float32)


def n_log_bins() -> int:
    return int(_log_filterbank().shape[1])


def log_spectrogram(samples: FloatArray) -> FloatArray:
    """Power in dB, shape ``(frames, log bins)``; frame ``t`` starts at sample ``t * HOP``."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < N_FFT:
        samples = np.pad(samples, (0, N_FFT - samples.size))
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    low, high, groups = _groups()
    window = _window()
    result: FloatArray = np.empty((frames.shape[0], n_log_bins()), dtype=np.float32)
    windowed = np.empty((_BLOCK_FRAMES, N_FFT), dtype=np.float32)
    power = np.empty((_BLOCK_FRAMES, high - low), dtype=np.float32)
    for start in range(0, frames.shape[0], _BLOCK_FRAMES):
        stop = min(start + _BLOCK_FRAMES, frames.shape[0])
        rows = stop - start
        np.multiply(frames[start:stop], window, out=windowed[:rows])
        spectrum = scipy.fft.rfft(windowed[:rows], axis=1, overwrite_x=True)
        # Squaring the interleaved float view is ~10x faster than .real/.imag strided views.
        parts = spectrum.view(np.float32)[:, 2 * low : 2 * high]
        np.square(parts, out=parts)
        np.add(parts[:, 0::2], parts[:, 1::2], out=power[:rows])
        out = result[start:stop]
        for group in groups:
            np.matmul(
                power[:rows, group.low : group.high],
                group.weights,
                out=out[:, group.first : group.stop],
            )
        out += np.float32(1e-10)
        # Natural log and a scale: numpy's float32 log is vectorised, its log10 is not (2x).
        np.log(out, out=out)
        out *= _DB_PER_NEPER
    return result
