"""Score every voiced segment against every enrolled voice and merge the verdicts in time.

:func:`screen_signal` is the screening's decision (Silero VAD, fused score per pitch shift,
cohort-normalised, smoothed in time). :func:`match_fused` and :func:`match_samples` are the
decisions it replaced, kept for the benchmark's side-by-side comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.voice import _mfcc
from sostenuto.voice._calibration import Calibration, Fusion, Screening
from sostenuto.voice._embed import Emphasis, Floats, Partials, Segment, partials, segments
from sostenuto.voice._index import VoiceIndex
from sostenuto.voice._model import SAMPLE_RATE, SpeakerModel
from sostenuto.voice._probe import Analysis, analyse
from sostenuto.voice._score import Scores, score
from sostenuto.voice._smooth import NONE, smooth_labels
from sostenuto.voice._stretch import chains, pooled, seconds


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
    margin: float | None = None  # at the best segment: its lead over the next voice
    pitch_shift: int | None = None  # semitones searched that gave the best segment


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


def searchable(index: VoiceIndex, mfcc_index: VoiceIndex) -> list[int]:
    """Performers with both prints (a fused score needs both), in ascending id order."""
    return sorted(set(index.performer_ids.tolist()) & set(mfcc_index.performer_ids.tolist()))


def unsearchable(index: VoiceIndex, mfcc_index: VoiceIndex) -> list[int]:
    """Performers with only one of the two prints: enrolled before the fusion, to re-enrol."""
    return sorted(set(index.performer_ids.tolist()) ^ set(mfcc_index.performer_ids.tolist()))


def _columns(index: VoiceIndex, ids: list[int]) -> list[int]:
    where = {pid: column for column, pid in enumerate(index.performer_ids.tolist())}
    return [where[pid] for pid in ids]


def segment_statistics(samples: Floats, found: Partials, segment_list: list[Segment]) -> Floats:
    """Raw MFCC statistics of each segment's voiced frames, ``(segments, DIM)``."""
    rows = _mfcc.frames(samples)
    voiced = _mfcc.voiced_mask(rows.shape[0], found.regions)
    centres = np.arange(rows.shape[0]) * (_mfcc.HOP / SAMPLE_RATE)
    out = []
    for segment in segment_list:
        inside = (centres >= segment.start) & (centres < segment.end)
        chosen = inside & voiced if (inside & voiced).any() else inside
        out.append(_mfcc.statistics(rows[chosen]))
    return np.stack(out) if out else np.zeros((0, _mfcc.DIM), np.float32)


def judge_fused(
    segment_list: list[Segment],
    mfcc_rows: Floats,
    index: VoiceIndex,
    mfcc_index: VoiceIndex,
    fusion: Fusion,
) -> list[SegmentVerdict]:
    """Like :func:`judge`, on the fused GE2E + MFCC-statistics score of each voice."""
    ids = searchable(index, mfcc_index)
    if not segment_list:
        return []
    if not ids:
        return [SegmentVerdict(s.start, s.end, None, None, 0.0) for s in segment_list]
    queries: Floats = np.stack([segment.embedding for segment in segment_list])
    ge2e = index.scores(queries)[:, _columns(index, ids)]
    standardised = _mfcc.standardise(mfcc_rows, fusion.mfcc_mean, fusion.mfcc_std)
    mfcc = mfcc_index.scores(standardised)[:, _columns(mfcc_index, ids)]
    fused = fusion.score(ge2e, mfcc)
    best = fused.argmax(axis=1)
    verdicts = []
    for row, segment in enumerate(segment_list):
        score = float(fused[row, best[row]])
        pid = ids[int(best[row])]
        matched = pid if score >= fusion.calibration.threshold else None
        verdicts.append(SegmentVerdict(segment.start, segment.end, matched, pid, score))
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
    """GE2E alone on a 16 kHz mono signal, without storage or consent (benchmarks)."""
    found = partials(model, samples, emphasis)
    verdicts = judge(segments(found), index, calibration.threshold)
    return found, verdicts, merge(verdicts)


def match_fused(
    model: SpeakerModel,
    samples: Floats,
    index: VoiceIndex,
    mfcc_index: VoiceIndex,
    fusion: Fusion,
) -> tuple[Partials, list[SegmentVerdict], list[TimeRange]]:
    """The screening's matching: GE2E and MFCC statistics per segment, scores fused."""
    found = partials(model, samples)
    segment_list = segments(found)
    rows = segment_statistics(samples, found, segment_list)
    verdicts = judge_fused(segment_list, rows, index, mfcc_index, fusion)
    return found, verdicts, merge(verdicts)


@dataclass(frozen=True)
class Judged:
    """One segment's decision and its evidence (screening)."""

    start: float
    end: float
    performer_id: int | None  # after smoothing; None: no enrolled voice
    score: float  # the chosen voice's score, or the best voice's when none is chosen
    margin: float  # that score minus the next voice's best
    pitch_shift: int


def _judge(
    analysis: Analysis, index: VoiceIndex, mfcc_index: VoiceIndex, screening: Screening
) -> list[Judged]:
    ids = searchable(index, mfcc_index)
    if not analysis.spans:
        return []
    if not ids:
        return [Judged(a, b, None, 0.0, 0.0, 0) for a, b in analysis.spans]
    prints = index.vectors[_columns(index, ids)]
    mfcc_prints = mfcc_index.vectors[_columns(mfcc_index, ids)]
    fixed = None
    if screening.cohort_ge2e is not None and screening.cohort_mfcc is not None:
        fixed = (screening.cohort_ge2e, screening.cohort_mfcc)

    def scored(part: Analysis) -> Scores:
        return score(
            part,
            prints,
            mfcc_prints,
            screening.fusion,
            np.asarray(ids, dtype=np.int64),
            screening.cohort_top,
            screening.cohort_floor,
            screening.cohort_prior,
            screening.gate,
            fixed,
        )

    found = scored(analysis)
    labels = smooth_labels(analysis.spans, found.best, screening.threshold, screening.switch)
    # A stretch whose pooled score passes its length's threshold is that voice throughout.
    rows_of: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]] = [
        (found.best[row], found.shift[row]) for row in range(len(analysis.spans))
    ]
    for rows in chains(analysis.spans):
        cut = screening.stretch_threshold(seconds(analysis, rows))
        if cut is None:
            continue
        whole = scored(pooled(analysis, rows))
        column = int(whole.best[0].argmax())
        if whole.best[0, column] >= cut:
            # Only over the segments where that voice also leads: a stretch may run from one
            # voice into another without a pause, and the other must not inherit its name.
            for row in rows:
                if int(found.best[row].argmax()) == column:
                    labels[row] = column
                    rows_of[row] = (whole.best[0], whole.shift[0])
    out = []
    for (start, end), label, (scores, shift) in zip(analysis.spans, labels, rows_of, strict=True):
        column = int(scores.argmax()) if label == NONE else label
        rest = np.delete(scores, column)
        margin = float(scores[column] - rest.max()) if rest.size else float(scores[column])
        out.append(
            Judged(
                start,
                end,
                ids[label] if label != NONE else None,
                float(scores[column]),
                margin,
                int(shift[column]),
            )
        )
    return out


def merge_judged(judged: list[Judged]) -> list[TimeRange]:
    """Join consecutive segments of one voice; each range keeps its best segment's evidence."""
    ranges: list[TimeRange] = []
    for i, item in enumerate(judged):
        following = judged[i + 1].start if i + 1 < len(judged) else item.end
        core_end = min(item.end, following)
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and last.performer_id == item.performer_id
            and (item.start - last.end <= 0.5)
        ):
            better = item.score > last.score
            ranges[-1] = TimeRange(
                last.start,
                max(last.end, core_end),
                last.performer_id,
                item.score if better else last.score,
                last.segments + 1,
                item.margin if better else last.margin,
                item.pitch_shift if better else last.pitch_shift,
            )
        else:
            ranges.append(
                TimeRange(
                    item.start,
                    core_end,
                    item.performer_id,
                    item.score,
                    1,
                    item.margin,
                    item.pitch_shift,
                )
            )
    return ranges


def screen_signal(
    model: SpeakerModel,
    samples: Floats,
    index: VoiceIndex,
    mfcc_index: VoiceIndex,
    screening: Screening,
) -> tuple[Analysis, list[Judged], list[TimeRange]]:
    """The screening's matching on a 16 kHz mono signal, without storage or consent."""
    analysis = analyse(model, samples, screening.shifts)
    judged = _judge(analysis, index, mfcc_index, screening)
    return analysis, judged, merge_judged(judged)
