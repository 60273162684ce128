"""Log-frequency power spectrogram at 8 kHz, the one picture every fingerprint is drawn from."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import scipy.fft

from sostenuto.identify._params import BINS_PER_OCTAVE, F_MAX, F_MIN, HOP, N_FFT, SAMPLE_RATE

FloatArray = npt.NDArray[np.float32]


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
    spectrum = scipy.fft.rfft(frames * _window(), axis=1)
    # Squaring the interleaved float view is ~10x faster than .real/.imag strided views.
    squares = spectrum.view(np.float32) ** 2
    power = squares[:, 0::2] + squares[:, 1::2]
    banded = power @ _log_filterbank()
    result: FloatArray = (10.0 * np.log10(banded + np.float32(1e-10))).astype(np.float32)
    return result
