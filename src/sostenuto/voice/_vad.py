"""Voice activity detection: which stretches of a 16 kHz signal hold a voice.

WebRTC's VAD (the ``webrtcvad`` module that resemblyzer depends on) judges 30 ms frames; an
energy gate drops frames that are near digital silence, which WebRTC's VAD sometimes flags
in noise. Decisions are smoothed as resemblyzer smooths them (moving average, then a short
dilation) so that pauses between words do not split a phrase.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.errors import DependencyMissing

FRAME = 480  # 30 ms at 16 kHz
SMOOTH_FRAMES = 8
DILATE_FRAMES = 6
GATE_DBFS = -50.0  # frames quieter than this are never voiced
MIN_REGION_SECONDS = 0.3
MERGE_GAP_SECONDS = 0.3
SILENCE_DBFS = -60.0


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


def voiced_regions(samples: npt.NDArray[np.float32], rate: int = 16_000) -> list[Region]:
    """Voiced regions of a mono signal at ``rate`` (8, 16, 32 or 48 kHz)."""
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
    return _runs(smooth, rate, samples.size)


def _runs(mask: npt.NDArray[np.bool_], rate: int, total: int) -> list[Region]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    starts, ends = edges[0::2] * FRAME, np.minimum(edges[1::2] * FRAME, total)
    merged: list[list[int]] = []
    gap = int(MERGE_GAP_SECONDS * rate)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if merged and start - merged[-1][1] <= gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    shortest = int(MIN_REGION_SECONDS * rate)
    return [Region(s, e) for s, e in merged if e - s >= shortest]
