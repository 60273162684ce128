"""The fast spectrogram and peak picker give what the plain formulas give.

Blocked STFT with a banded filterbank, and doubling maxima and means, are checked against
one dense ``rfft`` product and scipy's filters; the analysis decode against ffmpeg's default
resampler.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.fft
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import maximum_filter, uniform_filter

from sostenuto.audio import decode, decode_bytes, write_wav
from sostenuto.identify import load_audio
from sostenuto.identify._params import FRAME_SECONDS, HOP, N_FFT, SAMPLE_RATE
from sostenuto.identify._peaks import _background, _local_max, find_peaks
from sostenuto.identify._spectrum import _log_filterbank, _window, log_spectrogram


def _dense_spectrogram(samples: np.ndarray) -> np.ndarray:
    samples = np.pad(samples, (0, max(0, N_FFT - samples.size))).astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    power = np.abs(scipy.fft.rfft(frames * _window(), axis=1)) ** 2
    return 10.0 * np.log10(power @ _log_filterbank().astype(np.float64) + 1e-10)


@settings(max_examples=10, deadline=None)
@given(length=st.integers(0, 90_000), seed=st.integers(0, 2**16))
def test_spectrogram_matches_the_dense_formula(length: int, seed: int) -> None:
    # Lengths cross the 256-frame blocks (32 768 samples) and fall below one frame.
    rng = np.random.default_rng(seed)
    samples = (0.3 * rng.standard_normal(length)).astype(np.float32)
    fast = log_spectrogram(samples)
    dense = _dense_spectrogram(samples)
    assert fast.shape == dense.shape
    assert fast.dtype == np.float32
    loud = dense > -60.0  # float32 rounding matters only far below the signal
    assert np.allclose(fast[loud], dense[loud], atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    frames=st.integers(1, 60),
    bins=st.integers(1, 40),
    radius=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_local_max_is_the_square_maximum(frames: int, bins: int, radius: int, seed: int) -> None:
    values = np.random.default_rng(seed).normal(size=(frames, bins)).astype(np.float32)
    expected = maximum_filter(values, size=2 * radius + 1, mode="constant", cval=-np.inf)
    assert np.array_equal(_local_max(values, radius), expected)


@settings(max_examples=15, deadline=None)
@given(frames=st.integers(1, 120), bins=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_background_is_the_local_mean(frames: int, bins: int, seed: int) -> None:
    values = (20.0 * np.random.default_rng(seed).normal(size=(frames, bins)) - 40.0).astype(
        np.float32
    )
    expected = uniform_filter(values.astype(np.float64), size=(31, 25), mode="nearest")
    assert np.allclose(_background(values), expected, atol=1e-3)


def _plain_peaks(spectrogram: np.ndarray, density: float, bands: int = 1) -> set[tuple[int, int]]:
    """The peak picker written the slow, obvious way, on the whole array at once (the local
    mean is the module's, checked against scipy above, so float rounding cannot differ).
    With ``bands``, each block's budget is dealt in turns: every band's best, then second..."""
    local_max = maximum_filter(spectrogram, size=9, mode="constant", cval=-np.inf)
    salience = spectrogram - _background(spectrogram)
    floor = spectrogram.max() - 70.0
    times, bins = np.nonzero((spectrogram == local_max) & (salience > 3.0) & (spectrogram > floor))
    budget = max(1, round(density * 125 * FRAME_SECONDS))
    kept: set[tuple[int, int]] = set()
    for block in np.unique(times // 125):
        inside = np.nonzero(times // 125 == block)[0]
        turns: list[tuple[int, float, int]] = []
        for band in range(bands):
            mine = inside[bins[inside] * bands // spectrogram.shape[1] == band]
            ranked = mine[np.argsort(-salience[times[mine], bins[mine]], kind="stable")]
            turns += [(turn, -salience[times[i], bins[i]], i) for turn, i in enumerate(ranked)]
        best = [i for _, _, i in sorted(turns)]
        kept.update((int(times[i]), int(bins[i])) for i in best[:budget])
    return kept


@settings(max_examples=4, deadline=None)
@given(frames=st.integers(1, 3000), seed=st.integers(0, 2**16))
def test_peaks_match_the_plain_picker(frames: int, seed: int) -> None:
    # Up to three 1024-frame slices, so slice edges are crossed; ties are measure-zero here.
    rng = np.random.default_rng(seed)
    spectrogram = (10.0 * rng.standard_normal((frames, 121)) - 40.0).astype(np.float32)
    ((times, bins),) = find_peaks(spectrogram, 30.0)
    assert set(zip(times.tolist(), bins.tolist(), strict=True)) == _plain_peaks(spectrogram, 30.0)
    assert np.all(np.diff(times) >= 0)


@settings(max_examples=4, deadline=None)
@given(frames=st.integers(1, 3000), bands=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_band_turns_match_the_plain_picker(frames: int, bands: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    spectrogram = (10.0 * rng.standard_normal((frames, 121)) - 40.0).astype(np.float32)
    (times, bins), (dense_times, dense_bins) = find_peaks(spectrogram, 30.0, 45.0, bands=bands)
    assert set(zip(times.tolist(), bins.tolist(), strict=True)) == _plain_peaks(
        spectrogram, 30.0, bands
    )
    sparse = set(zip(times.tolist(), bins.tolist(), strict=True))
    assert sparse <= set(zip(dense_times.tolist(), dense_bins.tolist(), strict=True))


def test_loud_noise_in_one_band_leaves_the_others_their_turns() -> None:
    # Strong random peaks fill the top quarter, weak ones the rest: one ranking gives the top
    # quarter most of the budget, four bands keep a quarter of it for each.
    rng = np.random.default_rng(5)
    spectrogram = (3.0 * rng.standard_normal((250, 120)) - 60.0).astype(np.float32)
    spectrogram[:, 90:] += (12.0 * rng.standard_normal((250, 30))).astype(np.float32)
    ((_, one),) = find_peaks(spectrogram, 30.0)
    ((times, banded),) = find_peaks(spectrogram, 30.0, bands=4)
    budget = round(30.0 * 125 * FRAME_SECONDS)
    assert np.count_nonzero(one < 90) < budget // 2  # of two blocks' budgets
    for block in (0, 1):
        in_block = banded[times // 125 == block]
        assert np.bincount(in_block * 4 // 120, minlength=4).min() >= budget // 4 - 1


def test_analysis_decode_keeps_the_band(tmp_path: Path) -> None:
    rate = 44_100
    t = np.arange(rate * 3) / rate
    tones = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 1000.0, 3000.0)) / 4
    path = write_wav(tmp_path / "tones.wav", tones, rate)
    fast = load_audio(path)
    default = decode(path, sample_rate=SAMPLE_RATE)
    assert fast.sample_rate == default.sample_rate == SAMPLE_RATE
    assert fast.samples.size == default.samples.size
    upload = decode_bytes(path.read_bytes(), sample_rate=SAMPLE_RATE, fast_resample=True)
    assert np.array_equal(upload.samples, fast.samples)
    # The short filter leaves the band below 3.6 kHz nearly as ffmpeg's default one does.
    spectrum_fast = np.abs(np.fft.rfft(fast.samples))
    spectrum_default = np.abs(np.fft.rfft(default.samples))
    for freq in (220.0, 1000.0, 3000.0):
        k = round(freq * fast.samples.size / SAMPLE_RATE)
        ratio = spectrum_fast[k - 2 : k + 3].max() / spectrum_default[k - 2 : k + 3].max()
        assert 0.9 < ratio < 1.1
