"""Score every voiced segment against every enrolled voice and merge the verdicts in time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sostenuto.voice._calibration import Calibration
from sostenuto.voice._embed import Emphasis, Floats, Partials, Segment, partials, segments
from sostenuto.voice._index import VoiceIndex
from sostenuto.voice._model import SpeakerModel


@dataclass(frozen=True)
class SegmentVerdict:
    """One segment's best voice. ``performer_id`` is ``None`` when no voice passes."""

    start: float
    end: float
    performer_id: int | None
    best_performer_id: int | None
    score: float


@dataclass(frozen=True)
class TimeRange:
    """Consecutive segments with the same verdict, without overlap between ranges."""

    start: float
    end: float
    performer_id: int | None
    score: float  # the best segment score in the range (for the matched voice)
    segments: int


def judge(segment_list: list[Segment], index: VoiceIndex, threshold: float) -> list[SegmentVerdict]:
    """Attribute each segment to its best-scoring voice when that score passes ``threshold``."""
    if not segment_list:
        return []
    queries: Floats = np.stack([segment.embedding for segment in segment_list])
    verdicts = []
    for segment, hit in zip(segment_list, index.best(queries), strict=True):
        if hit is None:
            verdicts.append(SegmentVerdict(segment.start, segment.end, None, None, 0.0))
            continue
        matched = hit.performer_id if hit.score >= threshold else None
        verdicts.append(
            SegmentVerdict(segment.start, segment.end, matched, hit.performer_id, hit.score)
        )
    return verdicts


def merge(verdicts: list[SegmentVerdict]) -> list[TimeRange]:
    """Give each segment its own stretch (up to where the next begins) and join equal ones."""
    ordered = sorted(verdicts, key=lambda v: v.start)
    ranges: list[TimeRange] = []
    for i, verdict in enumerate(ordered):
        following = ordered[i + 1].start if i + 1 < len(ordered) else verdict.end
        core_end = min(verdict.end, following)
        score = verdict.score
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and last.performer_id == verdict.performer_id
            and verdict.start - last.end <= 0.5
        ):
            ranges[-1] = TimeRange(
                last.start,
                max(last.end, core_end),
                last.performer_id,
                max(last.score, score),
                last.segments + 1,
            )
        else:
            ranges.append(TimeRange(verdict.start, core_end, verdict.performer_id, score, 1))
    return ranges


def match_samples(
    model: SpeakerModel,
    samples: Floats,
    index: VoiceIndex,
    calibration: Calibration,
    emphasis: Emphasis = "none",
) -> tuple[Partials, list[SegmentVerdict], list[TimeRange]]:
    """The whole screening of a 16 kHz mono signal, without storage or consent."""
    found = partials(model, samples, emphasis)
    verdicts = judge(segments(found), index, calibration.threshold)
    return found, verdicts, merge(verdicts)
