"""Synthesised music for the labelling tests: chords, a bass line and hi-hats, in stereo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from sostenuto.label import SigningKeys, issue_chain

RATE = 44_100


def synth_music(seconds: float, *, seed: int = 0, rate: int = RATE) -> npt.NDArray[np.float32]:
    """Deterministic music-like stereo audio with energy across 0.1-8 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    left = np.zeros(n)
    right = np.zeros(n)
    beat = 0.25
    for start in np.arange(0.0, seconds, beat):
        i0 = int(start * rate)
        i1 = min(n, int((start + beat * 2) * rate))
        tt = t[i0:i1] - start
        envelope = np.exp(-tt * 4.0) * (1 - np.exp(-tt * 200.0))
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        for ratio, pan in ((1.0, 0.5), (1.26, 0.3), (1.5, 0.7), (2.0, 0.5)):
            f0 = root * ratio * 2
            harmonics = np.arange(1, 13)
            harmonics = harmonics[f0 * harmonics < rate / 2.2]
            phases = rng.uniform(0, 6.28, harmonics.size)
            # One sine table for all partials: sin(2 pi f0 k t + phase), weighted 1 / k^0.8.
            tone = (np.sin(2 * np.pi * f0 * np.outer(tt, harmonics) + phases) / harmonics**0.8).sum(
                axis=1
            )
            left[i0:i1] += 0.05 * (1 - pan) * envelope * tone
            right[i0:i1] += 0.05 * pan * envelope * tone
        hat = rng.normal(0, 1, i1 - i0) * np.exp(-tt * 30.0)
        hat = np.diff(hat, prepend=0.0)  # a crude high-pass: hi-hats are bright
        left[i0:i1] += 0.03 * hat
        right[i0:i1] += 0.03 * hat
    bass = 0.2 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    stereo = np.stack([left + bass, right + bass], axis=1)
    stereo *= 0.7 / np.max(np.abs(stereo))
    return stereo.astype(np.float32)


def encode(source: Path, target: Path, *args: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *args, str(target)],
        check=True,
    )
    return target


# File of each format the label layers are tested on: (suffix, ffmpeg arguments).
FORMAT_ARGS = {
    "wav": (".wav", ["-c:a", "pcm_s16le"]),
    "flac": (".flac", ["-c:a", "flac"]),
    "mp3": (".mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
    "ogg-vorbis": (".ogg", ["-c:a", "libvorbis", "-b:a", "160k"]),
    "ogg-opus": (".opus", ["-c:a", "libopus", "-b:a", "128k"]),
    "mp4": (".m4a", ["-c:a", "aac", "-b:a", "192k"]),
}


@pytest.fixture(scope="session")
def music_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("music") / "music.wav"
    soundfile.write(str(path), synth_music(14.0), RATE, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def format_files(tmp_path_factory: pytest.TempPathFactory, music_wav: Path) -> dict[str, Path]:
    """The same music in every supported container (session-wide; copy before changing)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("formats")
    return {
        name: encode(music_wav, folder / f"music{suffix}", *args)
        for name, (suffix, args) in FORMAT_ARGS.items()
    }


@pytest.fixture(scope="session")
def keys() -> SigningKeys:
    return issue_chain("Sostenuto")[0]


@pytest.fixture(scope="session")
def forged_keys() -> SigningKeys:
    return issue_chain("Sostenuto")[0]  # same names, another key: only the anchor differs


def copy(path: Path, folder: Path) -> Path:
    target = folder / path.name
    shutil.copyfile(path, target)
    return target
