"""What a screened signal yields: its voiced regions, its segments in time, and for each
segment a GE2E embedding and raw MFCC statistics at every pitch shift searched.

Voice activity is judged once, on the signal as received; each pitch-shifted copy is embedded
over the same regions (mapped through the time stretch), so segment ``i`` covers the same
stretch of the original at every shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.voice import _mfcc
from sostenuto.voice._embed import (
    BATCH,
    SEGMENT_HOP_SECONDS,
    SEGMENT_SECONDS,
    _normalise,
    _windows,
    normalised_mean,
)
from sostenuto.voice._model import FRAME_SECONDS, SAMPLE_RATE, SpeakerModel
from sostenuto.voice._pitch import shift
from sostenuto.voice._vad import Backend, Region, voiced_regions

Floats = npt.NDArray[np.float32]
SLACK = 0.2  # a partial may end this far past its segment


@dataclass(frozen=True)
class Analysis:
    """Segments of one signal; ``ge2e[k, i]`` and ``mfcc[k, i]`` are segment ``i`` at
    ``shifts[k]`` semitones (``mfcc`` raw, not yet standardised)."""

    regions: list[Region]
    spans: list[tuple[float, float]]
    shifts: tuple[int, ...]
    ge2e: Floats
    mfcc: Floats

    @property
    def voiced_seconds(self) -> float:
        return sum(region.length for region in self.regions) / SAMPLE_RATE


def segment_spans(regions: list[Region]) -> list[tuple[float, float]]:
    """Spans of up to 3 s, 1.5 s apart, inside each voiced region (never across two)."""
    spans: list[tuple[float, float]] = []
    for region in regions:
        begin, finish = region.start / SAMPLE_RATE, region.end / SAMPLE_RATE
        start = begin
        while True:
            stop = min(start + SEGMENT_SECONDS, finish)
            spans.append((start, stop))
            if stop >= finish - 1e-9:
                break
            start += SEGMENT_HOP_SECONDS
            if finish - start < SEGMENT_HOP_SECONDS / 2:
                break
    return spans


def _partials(
    model: SpeakerModel, samples: Floats, regions: list[Region], scale: float
) -> tuple[Floats, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Partial embeddings over ``regions`` of ``samples``, times mapped by ``scale``."""
    batches, starts, ends = [], [], []
    for region in regions:
        windows, frame_starts = _windows(model, _normalise(samples[region.start : region.end]))
        batches.append(windows)
        offset, region_end = region.start / SAMPLE_RATE, region.end / SAMPLE_RATE
        for frame in frame_starts:
            start = offset + frame * FRAME_SECONDS
            starts.append(start * scale)
            ends.append(min(start + windows.shape[1] * FRAME_SECONDS, region_end) * scale)
    if not batches:
        return np.zeros((0, model.dim), np.float32), np.zeros(0), np.zeros(0)
    stacked = np.concatenate(batches)
    embedded = np.concatenate(
        [model.embed_windows(stacked[i : i + BATCH]) for i in range(0, len(stacked), BATCH)]
    )
    return embedded, np.array(starts), np.array(ends)


def _pool(
    embedded: Floats,
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
    spans: list[tuple[float, float]],
) -> Floats:
    out = np.zeros((len(spans), embedded.shape[1]), np.float32)
    for i, (begin, stop) in enumerate(spans):
        chosen = (starts >= begin - 1e-6) & (ends <= stop + SLACK)
        if not chosen.any():  # a span shorter than one window: the partials overlapping it
            chosen = (starts < stop) & (ends > begin)
        if not chosen.any():
            chosen = np.abs(starts - begin) == np.abs(starts - begin).min()
        out[i] = normalised_mean(embedded[chosen])
    return out


def _mfcc_rows(
    samples: Floats, regions: list[Region], spans: list[tuple[float, float]], scale: float
) -> Floats:
    rows = _mfcc.frames(samples)
    centres = np.arange(rows.shape[0]) * (_mfcc.HOP / SAMPLE_RATE) * scale
    voiced = np.zeros(rows.shape[0], dtype=bool)
    for region in regions:
        voiced |= (centres >= region.start / SAMPLE_RATE) & (centres < region.end / SAMPLE_RATE)
    out = np.zeros((len(spans), _mfcc.DIM), np.float32)
    for i, (begin, stop) in enumerate(spans):
        inside = (centres >= begin) & (centres < stop)
        chosen = inside & voiced if (inside & voiced).any() else inside
        out[i] = _mfcc.statistics(rows[chosen])
    return out


def analyse(
    model: SpeakerModel,
    samples: Floats,
    shifts: tuple[int, ...] = (0,),
    *,
    vad: Backend = "silero",
    whole: bool = False,
) -> Analysis:
    """Detect voice once, then embed every segment at every pitch shift.

    ``whole`` makes one segment of all the voiced audio (a clip, a benchmark probe).
    """
    regions = voiced_regions(samples, SAMPLE_RATE, vad)
    spans = segment_spans(regions)
    if whole and regions:
        spans = [(regions[0].start / SAMPLE_RATE, regions[-1].end / SAMPLE_RATE)]
    if not spans:
        empty = np.zeros((len(shifts), 0, model.dim), np.float32)
        mfcc = np.zeros((len(shifts), 0, _mfcc.DIM), np.float32)
        return Analysis(regions, [], shifts, empty, mfcc)
    ge2e: list[Floats] = []
    rows: list[Floats] = []
    for semitones in shifts:
        moved = shift(samples, semitones)
        inner = [
            Region(int(r.start / moved.time_scale), int(r.end / moved.time_scale)) for r in regions
        ]
        embedded, starts, ends = _partials(model, moved.samples, inner, moved.time_scale)
        ge2e.append(_pool(embedded, starts, ends, spans))
        rows.append(_mfcc_rows(moved.samples, regions, spans, moved.time_scale))
    return Analysis(regions, spans, shifts, np.stack(ge2e), np.stack(rows).astype(np.float32))
