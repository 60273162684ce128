"""Synthesised music for identification tests: melodies over chords with drum hits.

Every piece is rendered from a seed, so tests get as many distinct "recordings" as they
need without shipping audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from sostenuto.audio import write_wav
from sostenuto.auth import Principal
from sostenuto.identify import Index, fingerprint_samples

Samples = npt.NDArray[np.float32]


def _tone(
    freq: float, seconds: float, rate: int, rng: np.random.Generator, timbre: Samples
) -> Samples:
    t = np.arange(int(seconds * rate)) / rate
    wave = np.zeros_like(t)
    for harmonic, weight in enumerate(timbre, 1):
        if freq * harmonic < rate / 2:
            wave += weight * np.sin(2 * np.pi * freq * harmonic * t + rng.uniform(0, 6.28))
    attack = np.minimum(1.0, t / 0.01)
    decay = np.exp(-t * rng.uniform(2.0, 6.0))
    return (wave * attack * decay).astype(np.float32)


def render_piece(seed: int, seconds: float, rate: int = 8000) -> Samples:
    """A distinct piece for each seed: a melody, a chord pad and noise-burst drums.

    Scale, tuning, timbre and tempo are drawn per seed, so two pieces share no more than
    two pieces of real music would.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n + rate, dtype=np.float32)
    scale = np.sort(rng.choice(12, size=7, replace=False))
    tuning = rng.uniform(-0.5, 0.5)  # semitones off the usual A = 440 Hz
    timbre = rng.uniform(0.1, 1.0, size=6).astype(np.float32)
    root = 45 + int(rng.integers(0, 12)) + tuning  # MIDI note of the key
    tempo = rng.uniform(0.12, 0.4)  # seconds per melody note
    position = 0.0
    while position < seconds:
        step = int(scale[rng.integers(0, 7)]) + 12 * int(rng.integers(1, 3))
        freq = 440.0 * 2 ** ((root + step - 69) / 12)
        length = tempo * float(rng.choice([1, 1, 2]))
        start = int(position * rate)
        tone = _tone(freq, length * 1.5, rate, rng, timbre)
        out[start : start + tone.size] += 0.5 * tone[: out.size - start]
        position += length
    position = 0.0
    while position < seconds:  # chords, one per bar
        start = int(position * rate)
        degree = int(rng.integers(0, 7))
        for offset in (0, 2, 4):
            note = root + int(scale[(degree + offset) % 7])
            tone = _tone(440.0 * 2 ** ((note - 69) / 12), tempo * 8, rate, rng, timbre[::-1])
            out[start : start + tone.size] += 0.25 * tone[: out.size - start]
        position += tempo * 8
    for beat in np.arange(0, seconds, tempo * 2):  # drums
        start = int(beat * rate)
        burst = rng.standard_normal(int(0.05 * rate)).astype(np.float32)
        burst *= np.exp(-np.arange(burst.size) / (0.01 * rate)).astype(np.float32)
        out[start : start + burst.size] += 0.3 * burst[: out.size - start]
    out = out[:n]
    return (0.8 * out / np.max(np.abs(out))).astype(np.float32)


def add_noise(samples: Samples, snr_db: float, seed: int = 0) -> Samples:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(samples.size).astype(np.float32)
    power = float(np.mean(samples**2))
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    return (samples + noise).astype(np.float32)


def change_speed(samples: Samples, factor: float) -> Samples:
    """Tape-speed change: ``factor`` > 1 plays faster and higher."""
    n = int(samples.size / factor)
    return np.interp(np.arange(n) * factor, np.arange(samples.size), samples).astype(np.float32)


@pytest.fixture(scope="session")
def pieces() -> dict[int, Samples]:
    """Eight 40-second pieces at 8 kHz, seeds 1..8."""
    return {seed: render_piece(seed, 40.0) for seed in range(1, 9)}


@pytest.fixture
def wav_of(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, samples: Samples, rate: int = 8000) -> Path:
        return write_wav(tmp_path / name, samples, rate)

    return write


@pytest.fixture(scope="session")
def piece_index(pieces: dict[int, Samples], tmp_path_factory: pytest.TempPathFactory) -> Index:
    """An index of the eight pieces under keys ``p1`` … ``p8``."""
    index = Index.create(tmp_path_factory.mktemp("pieces") / "index")
    index.add_many([(f"p{seed}", fingerprint_samples(x)) for seed, x in pieces.items()])
    return index


def lab(licensee: int) -> Principal:
    """The token holder of a licensee (an AI developer)."""
    return Principal(name=f"lab-{licensee}", role="licensee", licensee_id=licensee)
