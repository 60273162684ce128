"""Standard query degradations for identification benchmarks (numpy and ffmpeg).

Every function takes mono float32 samples at ``rate`` and returns new samples at the same
rate (re-encodings round-trip through ffmpeg), so any tool can be handed the same WAV file.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

Samples = npt.NDArray[np.float32]


def white_noise(samples: Samples, snr_db: float, rng: np.random.Generator) -> Samples:
    noise = rng.standard_normal(samples.size).astype(np.float32)
    return _at_snr(samples, noise, snr_db)


def pink_noise(samples: Samples, snr_db: float, rng: np.random.Generator) -> Samples:
    """1/f noise, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(samples.size))
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n=samples.size).astype(np.float32)
    return _at_snr(samples, noise, snr_db)


def mix_under(samples: Samples, other: Samples, level_db: float) -> Samples:
    """The query sits ``level_db`` below another track (a recording used as a bed)."""
    other = np.resize(other, samples.size)
    return _at_snr(samples, other, -level_db)


def _at_snr(samples: Samples, noise: Samples, snr_db: float) -> Samples:
    signal_power = float(np.mean(samples**2)) or 1e-12
    noise_power = float(np.mean(noise**2)) or 1e-12
    scale = np.sqrt(signal_power / noise_power / 10 ** (snr_db / 10))
    mixed = samples + scale * noise
    return (mixed / max(1.0, float(np.max(np.abs(mixed))))).astype(np.float32)


def gain(samples: Samples, db: float) -> Samples:
    return np.clip(samples * np.float32(10 ** (db / 20)), -1, 1).astype(np.float32)


def speed(samples: Samples, factor: float) -> Samples:
    """Tape-speed change: ``factor`` > 1 is faster and higher."""
    n = int(samples.size / factor)
    positions = np.arange(n) * factor
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def offset(samples: Samples, seconds: float, rate: int) -> Samples:
    """Silence before the excerpt: the query does not start on a frame boundary."""
    return np.concatenate([np.zeros(int(seconds * rate), np.float32), samples])


def ffmpeg_roundtrip(samples: Samples, rate: int, args: list[str], suffix: str) -> Samples:
    """Encode with ffmpeg ``args`` into ``suffix``, decode back to ``rate`` mono."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.wav"
        encoded = Path(tmp) / f"enc{suffix}"
        soundfile.write(str(source), samples, rate, subtype="PCM_16")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(source), *args, str(encoded)], check=True
        )
        out = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-i",
                str(encoded),
                "-f",
                "f32le",
                "-ac",
                "1",
                "-ar",
                str(rate),
                "-",
            ],
            check=True,
            capture_output=True,
        ).stdout
    return np.frombuffer(out, dtype=np.float32).copy()


def mp3(samples: Samples, rate: int, kbps: int) -> Samples:
    return ffmpeg_roundtrip(samples, rate, ["-c:a", "libmp3lame", "-b:a", f"{kbps}k"], ".mp3")


def aac(samples: Samples, rate: int, kbps: int) -> Samples:
    return ffmpeg_roundtrip(samples, rate, ["-c:a", "aac", "-b:a", f"{kbps}k"], ".m4a")


def opus(samples: Samples, rate: int, kbps: int) -> Samples:
    return ffmpeg_roundtrip(samples, rate, ["-c:a", "libopus", "-b:a", f"{kbps}k"], ".opus")


def resample(samples: Samples, rate: int, via: int) -> Samples:
    """Down to ``via`` Hz and back up (ffmpeg's resampler both ways)."""
    return ffmpeg_roundtrip(samples, rate, ["-ar", str(via)], ".wav")


def tempo(samples: Samples, rate: int, factor: float) -> Samples:
    """Tempo change without pitch change (ffmpeg's ``atempo``): ``factor`` > 1 is faster."""
    return ffmpeg_roundtrip(samples, rate, ["-af", f"atempo={factor}"], ".wav")


def pitch(samples: Samples, rate: int, semitones: float) -> Samples:
    """Pitch shift without tempo change (Rubber Band, through ffmpeg)."""
    ratio = 2 ** (semitones / 12)
    return ffmpeg_roundtrip(samples, rate, ["-af", f"rubberband=pitch={ratio:.6f}"], ".wav")
