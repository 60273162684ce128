"""Fingerprints: deterministic, empty for silence, stable under gain, subsets by density."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.identify import fingerprint_samples
from sostenuto.identify._params import SAMPLE_RATE
from sostenuto.identify._peaks import find_peaks
from sostenuto.identify._spectrum import log_spectrogram
from tests.identify.conftest import Samples


def test_deterministic_and_well_formed(pieces: dict[int, Samples]) -> None:
    first = fingerprint_samples(pieces[1])
    again = fingerprint_samples(pieces[1].copy())
    assert np.array_equal(first.hashes, again.hashes)
    assert len(first) > 50 * 40  # tens of hashes per second of music
    assert int(first.hashes.max()) < 1 << 25
    assert first.times.size == first.bins.size == first.hashes.size
    assert np.all(np.diff(first.peak_times) >= 0)
    assert abs(first.duration - 40.0) < 1e-6
    other = fingerprint_samples(pieces[2])
    shared = np.intersect1d(first.hashes, other.hashes).size
    assert shared < 0.2 * np.unique(first.hashes).size


def test_silence_and_tiny_inputs_give_empty_fingerprints() -> None:
    assert len(fingerprint_samples(np.zeros(SAMPLE_RATE * 3, dtype=np.float32))) == 0
    assert len(fingerprint_samples(np.zeros(10, dtype=np.float32))) == 0
    assert len(fingerprint_samples(np.zeros(0, dtype=np.float32))) == 0


def test_query_fingerprints_are_denser_than_reference(pieces: dict[int, Samples]) -> None:
    reference = fingerprint_samples(pieces[3])
    query = fingerprint_samples(pieces[3], query=True)
    assert len(query) > 2 * len(reference)
    # The reference's hashes are (nearly all) among the query's: what makes lookups work.
    found = np.isin(reference.hashes, query.hashes).mean()
    assert found > 0.9


@settings(max_examples=8, deadline=None)
@given(density=st.floats(5.0, 30.0), extra=st.floats(1.0, 30.0))
def test_sparser_peaks_are_a_subset(density: float, extra: float) -> None:
    spectrogram = log_spectrogram(_noise_and_tones())
    (t1, f1), (t2, f2) = find_peaks(spectrogram, density, density + extra)
    sparse = set(zip(t1.tolist(), f1.tolist(), strict=True))
    dense = set(zip(t2.tolist(), f2.tolist(), strict=True))
    assert sparse <= dense
    assert len(sparse) <= len(dense)


@settings(max_examples=6, deadline=None)
@given(gain_db=st.floats(-30.0, 0.0))
def test_gain_changes_almost_nothing(gain_db: float) -> None:
    samples = _noise_and_tones()
    base = fingerprint_samples(samples)
    scaled = fingerprint_samples(samples * np.float32(10 ** (gain_db / 20)))
    kept = np.isin(base.hashes, scaled.hashes).mean()
    assert kept > 0.95


def _noise_and_tones() -> Samples:
    rng = np.random.default_rng(7)
    t = np.arange(SAMPLE_RATE * 6) / SAMPLE_RATE
    tones = sum(
        np.sin(2 * np.pi * f * t) * (np.sin(2 * np.pi * r * t) > 0)
        for f, r in ((330, 1.5), (523, 2.25), (784, 0.75), (1244, 3.0))
    )
    return (0.2 * tones + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
