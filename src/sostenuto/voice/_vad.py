"""Voice activity detection: which stretches of a 16 kHz signal hold a voice.

Screening and enrolment use Silero VAD (``silero-vad``, its weights inside the wheel): a small
network trained to tell speech from music and noise, so an instrumental stretch is not taken
for a voice (WebRTC's VAD, below, flags most tonal music). Silero judges 32 ms chunks; a
chunk turns a region on at probability 0.5 and keeps it on down to 0.35 (hysteresis), so
the tail of a word is not cut.

WebRTC's VAD (the ``webrtcvad`` module that resemblyzer depends on) is kept as ``backend=
"webrtc"`` for the benchmark's comparison: it judges 30 ms frames behind an energy gate, and
its decisions are smoothed as resemblyzer smooths them (moving average, then a dilation).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sostenuto.errors import DependencyMissing, InvalidInput

FRAME = 480  # 30 ms at 16 kHz
SMOOTH_FRAMES = 8
DILATE_FRAMES = 6
GATE_DBFS = -50.0  # frames quieter than this are never voiced
MIN_REGION_SECONDS = 0.3
MERGE_GAP_SECONDS = 0.3
SILENCE_DBFS = -60.0
SILERO_CHUNK = 512  # 32 ms at 16 kHz, the chunk Silero VAD was trained on
SILERO_ON = 0.5
SILERO_OFF = 0.35
SILERO_PAD = 3  # chunks (96 ms) kept either side of a region: onsets and word tails

Backend = Literal["silero", "webrtc"]
BACKENDS: tuple[Backend, ...] = ("silero", "webrtc")
_LOCK = threading.Lock()  # the scripted model keeps state between calls: one caller at a time


@dataclass(frozen=True)
class Region:
    """A voiced stretch, in samples ``[start, end)`` of the 16 kHz signal."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def level_dbfs(samples: npt.NDArray[np.float32]) -> float:
    """RMS level in dB relative to full scale (−inf for an empty or all-zero signal)."""
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def is_silent(samples: npt.NDArray[np.float32]) -> bool:
    """Whether the whole signal is below −60 dBFS (digital silence or hiss)."""
    return level_dbfs(samples) < SILENCE_DBFS


def _webrtc_flags(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.bool_]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # webrtcvad imports the deprecated pkg_resources
            import webrtcvad
    except ImportError as error:
        raise DependencyMissing(
            "voice activity detection needs webrtcvad: pip install 'sostenuto[voice]'"
        ) from error
    vad = webrtcvad.Vad(3)
    n = samples.size // FRAME
    pcm = (np.clip(samples[: n * FRAME], -1.0, 1.0) * 32767).astype("<i2").tobytes()
    step = FRAME * 2
    return np.array(
        [vad.is_speech(pcm[i * step : (i + 1) * step], rate) for i in range(n)], dtype=bool
    )


@lru_cache(maxsize=1)
def _silero() -> Any:
    try:
        import torch
        from silero_vad import load_silero_vad  # type: ignore[import-untyped]
    except ImportError as error:
        raise DependencyMissing(
            "voice activity detection needs silero-vad: pip install 'sostenuto[voice]'"
        ) from error
    threads = torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its loader's importlib/jit calls
        model = load_silero_vad()
    torch.set_num_threads(threads)  # importing silero_vad sets one thread for the process
    return model


def speech_probabilities(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Silero's speech probability of each 32 ms chunk of a 16 kHz signal."""
    import torch

    n = samples.size // SILERO_CHUNK
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    model = _silero()
    audio = torch.from_numpy(np.ascontiguousarray(samples[: n * SILERO_CHUNK], dtype=np.float32))
    with _LOCK, torch.inference_mode():
        model.reset_states()
        probabilities = model.audio_forward(audio, 16_000)[0].numpy()
    return np.asarray(probabilities[:n], dtype=np.float32)


def _hysteresis(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    flags = np.zeros(probabilities.size, dtype=bool)
    on = False
    for i, p in enumerate(probabilities.tolist()):
        on = p >= SILERO_ON or (on and p >= SILERO_OFF)
        flags[i] = on
    if SILERO_PAD and flags.any():
        flags = np.convolve(flags, np.ones(2 * SILERO_PAD + 1), mode="same") > 0
    return flags


def voiced_regions(
    samples: npt.NDArray[np.float32], rate: int = 16_000, backend: Backend = "silero"
) -> list[Region]:
    """Voiced regions of a mono signal (Silero: 16 kHz only; WebRTC: 8, 16, 32 or 48 kHz)."""
    if backend == "silero":
        if rate != 16_000:
            raise InvalidInput(f"Silero VAD runs at 16 kHz; got {rate} Hz")
        flags = _hysteresis(speech_probabilities(samples))
        return _runs(flags, rate, samples.size, SILERO_CHUNK)
    n = samples.size // FRAME
    if n == 0:
        return []
    flags = _webrtc_flags(samples, rate)
    frames = samples[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = 20.0 * np.log10(np.maximum(rms, 1e-12)) >= GATE_DBFS
    flags &= loud
    # Moving average over SMOOTH_FRAMES, rounded: an isolated flag flips, a run stays.
    kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
    smooth = np.convolve(flags.astype(np.float64), kernel, mode="same") >= 0.5
    if DILATE_FRAMES:
        smooth = np.convolve(smooth, np.ones(2 * DILATE_FRAMES + 1), mode="same") > 0
    return _runs(smooth, rate, samples.size, FRAME)


def _runs(mask: npt.NDArray[np.bool_], rate: int, total: int, frame: int) -> list[Region]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    starts, ends = edges[0::2] * frame, np.minimum(edges[1::2] * frame, total)
    merged: list[list[int]] = []
    gap = int(MERGE_GAP_SECONDS * rate)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if merged and start - merged[-1][1] <= gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    shortest = int(MIN_REGION_SECONDS * rate)
    return [Region(s, e) for s, e in merged if e - s >= shortest]
