"""From a 16 kHz signal to speaker embeddings: of a whole clip, or of each segment in time.

The encoder sees 1.6 s mel windows ("partials"). A clip's embedding is the normalised mean of
the partials over its voiced regions; a screening segment is the same mean over the partials
inside a ``SEGMENT_SECONDS`` span, so that a segment and a calibration trial of that length
are scored alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

from sostenuto.voice._model import FRAME_SECONDS, PARTIAL_FRAMES, SAMPLE_RATE, SpeakerModel
from sostenuto.voice._vad import Region, voiced_regions

Floats = npt.NDArray[np.float32]
Emphasis = Literal["none", "band"]
# What enrolment stores and screening offers. "band" (100-4000 Hz on both sides) is kept for
# benchmarks/voice.py, where it did not help (docs/voice.md), so no voiceprint is made with it.
EMPHASES: tuple[Emphasis, ...] = ("none",)

HOP_FRAMES = 40  # one partial every 0.4 s
SEGMENT_SECONDS = 3.0
SEGMENT_HOP_SECONDS = 1.5
TARGET_DBFS = -30.0  # the level the encoder was trained at
BATCH = 256
VOCAL_BAND_HZ = (100.0, 4000.0)


@dataclass(frozen=True)
class Segment:
    """An embedded stretch of the signal, in seconds."""

    start: float
    end: float
    embedding: Floats


def _band_pass(samples: Floats) -> Floats:
    sos = signal.butter(4, VOCAL_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
    filtered: Floats = np.asarray(signal.sosfiltfilt(sos, samples), dtype=np.float32)
    return filtered


def emphasise(samples: Floats, emphasis: Emphasis) -> Floats:
    """Optionally keep only the vocal band (100–4000 Hz), which tames drums and bass."""
    if emphasis == "band":
        return _band_pass(samples)
    return samples


def _normalise(wav: Floats) -> Floats:
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
    if rms <= 0:
        return wav
    gain = float(10 ** ((TARGET_DBFS - 20 * np.log10(rms)) / 20))
    # Raise quiet material to the training level; never turn loud material down (as trained).
    scaled: Floats = (wav * np.float32(max(gain, 1.0))).astype(np.float32)
    return scaled


def _windows(model: SpeakerModel, wav: Floats) -> tuple[Floats, list[int]]:
    """The mel windows of one voiced region and the frame at which each starts."""
    minimum = PARTIAL_FRAMES * int(SAMPLE_RATE * FRAME_SECONDS)
    if wav.size < minimum:
        wav = np.pad(wav, (0, minimum - wav.size))
    mel = model.mel(wav)
    frames = mel.shape[0]
    starts = list(range(0, max(frames - PARTIAL_FRAMES, 0) + 1, HOP_FRAMES))
    # Cover the tail when the hop leaves more than half a hop unseen.
    if frames - (starts[-1] + PARTIAL_FRAMES) > HOP_FRAMES // 2:
        starts.append(frames - PARTIAL_FRAMES)
    windows = np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts]).astype(np.float32)
    return windows, starts


@dataclass(frozen=True)
class Partials:
    """Every partial embedding of a signal, with its start and end time in seconds."""

    embeddings: Floats
    starts: npt.NDArray[np.float64]
    ends: npt.NDArray[np.float64]
    regions: list[Region]

    @property
    def voiced_seconds(self) -> float:
        return sum(region.length for region in self.regions) / SAMPLE_RATE


def partials(model: SpeakerModel, samples: Floats, emphasis: Emphasis = "none") -> Partials:
    """Detect voice, then embed every 1.6 s window (0.4 s apart) of every voiced region."""
    regions = voiced_regions(samples, SAMPLE_RATE)
    shaped = emphasise(samples, emphasis)
    batches: list[Floats] = []
    starts: list[float] = []
    ends: list[float] = []
    for region in regions:
        windows, frame_starts = _windows(model, _normalise(shaped[region.start : region.end]))
        batches.append(windows)
        offset = region.start / SAMPLE_RATE
        region_end = region.end / SAMPLE_RATE
        for frame in frame_starts:
            start = offset + frame * FRAME_SECONDS
            starts.append(start)
            ends.append(min(start + PARTIAL_FRAMES * FRAME_SECONDS, region_end))
    if not batches:
        empty = np.zeros(0, dtype=np.float64)
        return Partials(np.zeros((0, model.dim), np.float32), empty, empty, regions)
    stacked = np.concatenate(batches)
    embeddings = np.concatenate(
        [model.embed_windows(stacked[i : i + BATCH]) for i in range(0, len(stacked), BATCH)]
    )
    return Partials(embeddings, np.array(starts), np.array(ends), regions)


def normalised_mean(vectors: Floats) -> Floats:
    mean: Floats = np.asarray(vectors.mean(axis=0), dtype=np.float32)
    norm = float(np.linalg.norm(mean))
    return (mean / np.float32(norm)).astype(np.float32) if norm > 0 else mean


def segments(found: Partials) -> list[Segment]:
    """Group partials into segments of up to 3 s, 1.5 s apart, never across regions."""
    out: list[Segment] = []
    for region in found.regions:
        begin, finish = region.start / SAMPLE_RATE, region.end / SAMPLE_RATE
        inside = np.flatnonzero((found.starts >= begin - 1e-9) & (found.starts < finish))
        if inside.size == 0:
            continue
        start = begin
        while True:
            stop = min(start + SEGMENT_SECONDS, finish)
            chosen = inside[
                (found.starts[inside] >= start - 1e-9)
                & (found.starts[inside] + PARTIAL_FRAMES * FRAME_SECONDS <= stop + 0.2)
            ]
            if chosen.size == 0:  # a region shorter than one window: its one padded partial
                chosen = inside[found.starts[inside] >= start - 1e-9][:1]
            if chosen.size:
                vector = normalised_mean(found.embeddings[chosen])
                out.append(Segment(start, stop, vector))
            if stop >= finish - 1e-9:
                break
            start += SEGMENT_HOP_SECONDS
            if finish - start < SEGMENT_HOP_SECONDS / 2:
                break
    return out
