"""Matching: candidate tracks by hash hits, verified by a consistent alignment.

A true match lines up: reference frame ``≈ scale × query frame + offset`` for one
``(scale, offset)`` and one pitch shift. Candidates are the tracks whose hits pile up most
at one offset; for each, a Hough vote over a grid of scales (±8 %) and offset bins proposes
alignments (several in turn, as a few true votes can be outvoted by chance ones), a least-
squares fit refines each, and each is verified. Random hits almost never line up, so the
score separates registered from unregistered audio. Hash votes only propose alignments; the
score comes from the reference peaks (other than the voting anchors) that reappear in the
query, against the chance of that in each frequency row (the threshold is calibrated in
docs/identify.md). Before a match is reported its chance is measured on decoy alignments
(over the window, and locally around the reported stretch) and the score bounded
family-wise for the query's length and the pitch hypothesis (_significance), so whole
unregistered files are not flagged. A long query can hold several
registered recordings, or one recording twice: up to three separate alignments are reported
per track.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from scipy.stats import binom

from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._index import Index, Postings
from sostenuto.identify._params import BINS_PER_OCTAVE, FRAME_SECONDS, QUERY
from sostenuto.identify._reference import TrackReference
from sostenuto.identify._significance import (
    DECOY_FLOOR,
    MIN_AGREEMENT,
    Agreement,
    agreement_of,
    decoy_shifts,
    duration_discount,
    hypothesis_discount,
    local_decoy_shifts,
    pooled_bias,
)

# Least evidence (-log10 chance probability) reported as a match. Calibrated on unregistered
# queries against the benchmark index for a false-positive rate of at most 0.1 %: the largest
# of 1 300 scored 5.79, so 8 leaves a margin of 160 in chance for larger, untried catalogues.
# The binomial model alone is optimistic because music shares keys and rhythms; a catalogue
# can measure its own threshold (_calibrate, docs/identify.md).
DEFAULT_THRESHOLD = 8.0
_MIN_VOTES = 5  # raw hash hits a track needs to be looked at
_SCALES = np.linspace(0.92, 1.08, 33)
_OFFSET_BIN = 6  # frames
_TOLERANCE = 3.0  # frames
_PITCH_TOLERANCE = 2  # log-frequency bins (one semitone)
_MAX_SHIFT = 3  # log-frequency bins
_ROUNDS = 3  # alignments reported per track at most
_TRIES = 5  # alignments verified per track at most
_MIN_HIT_RATE = 0.15  # share of reference peaks found again that a matching stretch keeps up
_MARGIN = 20.0 / FRAME_SECONDS  # frames of query checked beyond the voting hashes' span
_COARSE_BIN = 32  # frames (0.5 s) of the offset histogram that ranks candidates
# Distinct voting anchors a chance alignment reaches: at most 11 in 5 s and 15 in 10 s of
# unregistered query (300 queries, every alignment verified, 57 tracks). Anchors beyond an
# allowance well above that are no chance agreement, so they count in verification again.
_CHANCE_ANCHORS = 16
_CHANCE_ANCHORS_PER_SECOND = 1.6
# Alignments scoring from _REFIT_FLOOR up to _REFIT_CEILING are refitted on their hits and
# verified again (_refit): below the floor they are chance, and each extra verification is
# one more chance for unregistered audio; above the ceiling the match is made at any
# threshold in use. A constant, not the threshold: a score never depends on the threshold.
_REFIT_FLOOR = 4.0
_REFIT_CEILING = 10.0
_REFIT_MIN_HITS = 8
_REFIT_ROUNDS = 2
# Scales this close to 1 move pitch by under a third of a bin, even when the speed change
# that caused them moved pitch with it: hits are then looked for in the peak's own bin.
_PITCH_EXACT_SCALE = 0.01


@dataclass(frozen=True)
class Match:
    """A registered track found in a query, with where it sits in both."""

    key: str
    track_id: int
    # Evidence: -log10 of the chance of this many peaks lining up at random, less log10 of the
    # sub-stretches searched when the match is a stretch of its window (_verify).
    score: float
    hits: int  # reference peaks found again in the query
    peaks: int  # reference peaks in the aligned window
    query_start: float
    query_end: float
    reference_start: float
    reference_end: float
    time_scale: float  # reference seconds per query second
    pitch_shift: float  # semitones from the reference to the query
    # The reviewer's evidence (_significance): hit rate, measured chance, agreement beyond
    # chance and coverage of the matched stretch.
    evidence: Agreement = field(default_factory=lambda: Agreement(0.0, 0.0, 0.0, 0.0))

    def as_dict(self) -> dict[str, object]:
        return {
            **self.evidence.as_dict(),
            "key": self.key,
            "track_id": self.track_id,
            "score": round(self.score, 2),
            "hits": self.hits,
            "peaks": self.peaks,
            "query_start": round(self.query_start, 2),
            "query_end": round(self.query_end, 2),
            "reference_start": round(self.reference_start, 2),
            "reference_end": round(self.reference_end, 2),
            "time_scale": round(self.time_scale, 4),
            "pitch_shift": round(self.pitch_shift, 2),
        }


def _hough(q_t: npt.NDArray[np.float64], r_t: npt.NDArray[np.float64]) -> tuple[float, float, int]:
    """The (scale, offset) cell pair with most votes and its vote count.

    Votes of neighbouring offset bins are added, so a true alignment that straddles a bin
    edge is not split in two.
    """
    offsets = r_t[None, :] - _SCALES[:, None] * q_t[None, :]
    bins = np.floor(offsets / _OFFSET_BIN).astype(np.int64)
    low = int(bins.min())
    width = int(bins.max()) - low + 2
    keys = np.arange(_SCALES.size)[:, None] * width + (bins - low)
    votes = np.bincount(keys.ravel(), minlength=_SCALES.size * width)
    paired = votes.copy()
    paired[:-1] += votes[1:]  # the last bin of a row is empty padding, so rows never mix
    # Ties go to the scale nearest 1: votes bunched at one query time fit every scale alike,
    # and most queries are not sped up.
    nearness = np.repeat(np.abs(np.arange(_SCALES.size) - _SCALES.size // 2), width)
    best = int(np.argmax(paired * (2 * _SCALES.size) - nearness))
    scale_index, offset_bin = divmod(best, width)
    offset = (offset_bin + low + 1.0) * _OFFSET_BIN
    return float(_SCALES[scale_index]), offset, int(paired[best])


def _align(
    q_t: npt.NDArray[np.float64],
    r_t: npt.NDArray[np.float64],
    q_f: npt.NDArray[np.int32],
    r_f: npt.NDArray[np.int32],
) -> tuple[npt.NDArray[np.bool_], float, float, float]:
    """Inliers of the best alignment, with its scale, offset and pitch shift (bins)."""
    scale, offset, _ = _hough(q_t, r_t)
    inliers = np.abs(r_t - scale * q_t - offset) <= _OFFSET_BIN
    # Least squares on the votes near the cell, twice: the second fit, on the votes within
    # tolerance of the first, is not pulled by chance votes at the edge of the cell.
    for _ in range(2):
        if np.count_nonzero(inliers) < 3 or np.ptp(q_t[inliers]) <= 20:
            break
        fitted_scale, fitted_offset = np.polyfit(q_t[inliers], r_t[inliers], 1)
        scale = float(np.clip(fitted_scale, _SCALES[0], _SCALES[-1]))
        offset = float(fitted_offset)
        inliers = np.abs(r_t - scale * q_t - offset) <= _TOLERANCE
    shift = r_f - q_f
    # Speed changes of ±8 % move pitch by under 3 bins; a wider shift is a chance alignment.
    inliers = (np.abs(r_t - scale * q_t - offset) <= _TOLERANCE) & (np.abs(shift) <= _MAX_SHIFT)
    pitch = float(np.median(shift[inliers])) if inliers.any() else 0.0
    inliers &= np.abs(shift - pitch) <= _PITCH_TOLERANCE
    return inliers, scale, offset, pitch


class _Grid:
    """Where the query has peaks, widened to absorb jitter, and the chance of landing there."""

    def __init__(self, widened: npt.NDArray[np.bool_]) -> None:
        self.cells = widened
        # Peaks crowd into some bands (bass lines, common keys) and some frames (drum hits,
        # onsets): the chance that an unrelated peak lands on a query peak is modelled from
        # the occupancy of its frequency row and of its frame (independence of the two).
        self.row_density = widened.mean(axis=0)
        self.frame_density = widened.mean(axis=1)
        self.density = max(float(widened.mean()), 1e-9)


class _Occupancy:
    """Where the query has peaks: each peak widened by one frame, and by one bin as well.

    A reference peak found again lands on the same log bin unless the pitch moved by a
    fraction of a bin (a speed change): at 5 dB SNR 98 % of the hits of true alignments at
    unit scale are in the peak's own bin, within a frame (the alignment's rounding). Dropping
    the neighbouring bins there cuts the chance of a hit to a third for the same true hits.
    """

    def __init__(self, fingerprint: Fingerprint) -> None:
        frames = int(fingerprint.peak_times.max()) + 3 if fingerprint.peak_times.size else 3
        self.seconds = fingerprint.duration
        grid = np.zeros((frames, 256), dtype=bool)
        grid[fingerprint.peak_times + 1, fingerprint.peak_bins + 1] = True
        wide = grid.copy()
        wide[1:] |= grid[:-1]
        wide[:-1] |= grid[1:]
        widest = wide.copy()
        widest[:, 1:] |= wide[:, :-1]
        widest[:, :-1] |= wide[:, 1:]
        self.exact = grid
        self.in_time = _Grid(wide)
        self.in_time_and_pitch = _Grid(widest)

    def lookup(
        self, times: npt.NDArray[np.int64], bins: npt.NDArray[np.int64], *, pitch_exact: bool
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Per point: whether it hits a query peak, its chance of doing so, whether inside.

        ``pitch_exact``: the alignment keeps pitch within a fraction of a bin, so a hit must
        be in the point's own bin."""
        grid = self.in_time if pitch_exact else self.in_time_and_pitch
        inside = (times >= -1) & (times < grid.cells.shape[0] - 1) & (bins >= -1) & (bins < 255)
        t, f = times[inside] + 1, bins[inside] + 1
        chance = np.minimum(grid.row_density[f] * grid.frame_density[t] / grid.density, 1.0)
        return grid.cells[t, f], chance.astype(np.float64), inside

    def decoy_bias(
        self, times: npt.NDArray[np.int64], bins: npt.NDArray[np.int64], *, pitch_exact: bool
    ) -> float:
        """How many more hits than modelled the same points get elsewhere in the query:
        moved by each decoy shift, circularly within the query's frames."""
        frames = self.exact.shape[0] - 2
        shifts = decoy_shifts(frames)
        hits = np.zeros(shifts.size)
        chance = np.zeros(shifts.size)
        for k, shift in enumerate(shifts):
            hit, p, _ = self.lookup((times + shift) % frames, bins, pitch_exact=pitch_exact)
            hits[k], chance[k] = float(hit.sum()), float(p.sum())
        return pooled_bias(hits, chance)

    def local_bias(
        self, times: npt.NDArray[np.int64], bins: npt.NDArray[np.int64], *, pitch_exact: bool
    ) -> float:
        """The same, for a stretch's points moved by the local decoy shifts (not circular:
        points moved out of the query are left out)."""
        shifts = local_decoy_shifts()
        hits = np.zeros(shifts.size)
        chance = np.zeros(shifts.size)
        for k, shift in enumerate(shifts):
            hit, p, _ = self.lookup(times + shift, bins, pitch_exact=pitch_exact)
            hits[k], chance[k] = float(hit.sum()), float(p.sum())
        return pooled_bias(hits, chance)

    def nearest_frames(
        self, times: npt.NDArray[np.int64], bins: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Per point, the frame of the query peak it hits (mean of several), else NaN."""
        frames = np.full(times.size, np.nan)
        inside = (times >= 0) & (times < self.exact.shape[0] - 2) & (bins >= 0) & (bins < 254)
        t, f = times[inside] + 1, bins[inside] + 1
        shift_sum = np.zeros(t.size)
        found = np.zeros(t.size)
        for dt in (-1, 0, 1):
            for df in (-1, 0, 1):
                peak = self.exact[t + dt, f + df]
                shift_sum += dt * peak
                found += peak
        with np.errstate(invalid="ignore", divide="ignore"):
            frames[inside] = np.where(found > 0, t - 1 + shift_sum / found, np.nan)
        return frames


@dataclass(frozen=True)
class _Verified:
    hits: int
    total: int
    score: float  # evidence, see _evidence
    query_span: tuple[float, float]  # frames
    reference_span: tuple[float, float]  # frames
    agreement: Agreement
    points: tuple[int, int] = (0, 0)  # the stretch's points, as a slice of the window's


def _pitch_exact(scale: float) -> bool:
    return abs(scale - 1.0) < _PITCH_EXACT_SCALE


def _anchors_beyond(is_anchor: npt.NDArray[np.bool_], allowance: int) -> npt.NDArray[np.bool_]:
    """All but ``allowance`` of the anchors, picked evenly along the (time-ordered) peaks,
    so that every stretch of the window gets its share of them back."""
    count = int(np.count_nonzero(is_anchor))
    counted = np.zeros(is_anchor.size, dtype=bool)
    if count <= allowance:
        return counted
    excess = count - allowance
    rank = np.arange(count)
    # Anchor ``rank`` is taken when the running share ``rank * excess / count`` steps up.
    taken = (rank + 1) * excess // count > rank * excess // count
    counted[np.flatnonzero(is_anchor)[taken]] = True
    return counted


def _reference_in_window(
    reference: TrackReference, q_lo: float, q_hi: float, scale: float, offset: float
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Times and bins of the track's verification peaks that the alignment maps into query
    frames ``[q_lo, q_hi]``."""
    r_t, r_f = reference.peak_times, reference.peak_bins
    lo, hi = np.searchsorted(r_t, [scale * q_lo + offset, scale * q_hi + offset])
    return r_t[lo:hi], r_f[lo:hi]


def _into_query(
    r_t: npt.NDArray[np.int32],
    r_f: npt.NDArray[np.int32],
    scale: float,
    offset: float,
    pitch: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Query frame and bin each reference peak lands on under the alignment."""
    q_t = np.rint((r_t.astype(np.float64) - offset) / scale).astype(np.int64)
    return q_t, r_f.astype(np.int64) - round(pitch)


def _verify(
    reference: TrackReference,
    occupancy: _Occupancy,
    q_lo: float,
    q_hi: float,
    scale: float,
    offset: float,
    pitch: float,
    anchors: npt.NDArray[np.int64],
) -> _Verified | None:
    """Reference peaks of the aligned stretch that reappear in the query, out of how many.

    The anchors of the voting hashes are left out: they agree by construction, and counting
    them would let a chance alignment of a few hashes vouch for itself. Only as many as a
    chance alignment could muster are left out, though: in heavy noise a true alignment's
    anchors are often most of the reference peaks that survived. Inside the window,
    the stretch reported is the one where hits most exceed chance (a maximum-sum run of
    ``hit - max(2 chance, 0.15)``), which finds where a sampled recording starts and stops
    in a long query.
    """
    r_t, r_f = _reference_in_window(reference, q_lo, q_hi, scale, offset)
    is_anchor = np.isin(r_t.astype(np.int64) * 256 + r_f, anchors)
    allowance = _CHANCE_ANCHORS + _CHANCE_ANCHORS_PER_SECOND * (q_hi - q_lo) * FRAME_SECONDS
    fresh = ~is_anchor | _anchors_beyond(is_anchor, int(allowance))
    r_t, r_f = r_t[fresh], r_f[fresh]
    q_t, q_f = _into_query(r_t, r_f, scale, offset, pitch)
    exact = _pitch_exact(scale)
    hit, chance, inside = occupancy.lookup(q_t, q_f, pitch_exact=exact)
    if hit.size == 0:
        return None
    points = _Points(hit, chance, r_t[inside], q_t[inside], q_f[inside])
    # Family-wise: more calibration-length windows in the query, or a pitch hypothesis
    # picked among several, are more chances to line up.
    discount = duration_discount(occupancy.seconds) + hypothesis_discount(
        exact and round(pitch) == 0
    )
    best = _best_stretch(points, points.chance, discount)
    if best.score + discount < DECOY_FLOOR:
        return best
    # Chance measured, not only modelled: the same peaks moved elsewhere in the query.
    bias = occupancy.decoy_bias(q_t[inside], q_f[inside], pitch_exact=exact)
    if bias > 1.0:
        best = _best_stretch(points, np.minimum(points.chance * bias, 1.0), discount)
    # And on the reported stretch alone, moved locally (a shared chord or drone, _significance).
    if best.score + discount >= DECOY_FLOOR:
        lo, hi = best.points
        local = occupancy.local_bias(
            points.query_times[lo:hi], points.query_bins[lo:hi], pitch_exact=exact
        )
        if local > bias:
            bias = local
            best = _best_stretch(points, np.minimum(points.chance * bias, 1.0), discount)
    if best.agreement.agreement < MIN_AGREEMENT:
        return replace(best, score=min(best.score, 0.0))
    return best


@dataclass(frozen=True)
class _Points:
    """The reference peaks of an aligned window that land inside the query, in time order."""

    hit: npt.NDArray[np.bool_]
    chance: npt.NDArray[np.float64]  # modelled
    ref_times: npt.NDArray[np.int32]
    query_times: npt.NDArray[np.int64]
    query_bins: npt.NDArray[np.int64]


def _best_stretch(points: _Points, chance: npt.NDArray[np.float64], discount: float) -> _Verified:
    """The stronger of the whole window and its densest run, scored against ``chance``.

    In heavy noise true hits are only two or three times chance, which the run's cost eats:
    the whole window is scored too, and the stronger of the two stretches kept. The run is
    the best of all n (n + 1) / 2 sub-stretches of the window, and its evidence is
    discounted by that many tries: undiscounted, lucky bursts of a few peaks (6 hits in 7
    over 0.2 s, 21 in 84 over 2 s) made the whole tail of the unregistered queries' scores.
    """
    hit = points.hit
    # Outside the true stretch the running sum must fall, not drift: each peak costs twice
    # its chance, and at least _MIN_HIT_RATE.
    sums = np.concatenate([[0.0], np.cumsum(hit - np.maximum(2.0 * chance, _MIN_HIT_RATE))])
    end = int(np.argmax(sums - np.minimum.accumulate(sums)))
    start = int(np.argmin(sums[: end + 1]))
    stretches = [(0, hit.size, 0.0)]
    if end > start:
        stretches.append((start, end, float(np.log10(hit.size * (hit.size + 1) / 2))))
    best: _Verified | None = None
    for lo_, hi_, run_discount in stretches:
        hits = int(hit[lo_:hi_].sum())
        expected = float(chance[lo_:hi_].sum())
        score = _evidence(hits, hi_ - lo_, expected) - run_discount - discount
        if best is None or score > best.score:
            best = _Verified(
                hits=hits,
                total=hi_ - lo_,
                score=score,
                query_span=(float(points.query_times[lo_]), float(points.query_times[hi_ - 1])),
                reference_span=(float(points.ref_times[lo_]), float(points.ref_times[hi_ - 1])),
                agreement=agreement_of(hit[lo_:hi_], chance[lo_:hi_], points.query_times[lo_:hi_]),
                points=(lo_, hi_),
            )
    assert best is not None
    return best


def _refit(
    reference: TrackReference,
    occupancy: _Occupancy,
    q_lo: float,
    q_hi: float,
    scale: float,
    offset: float,
    pitch: float,
) -> tuple[float, float] | None:
    """Scale and offset fitted anew to the reference peaks that hit a query peak.

    The votes that proposed the alignment are few and bunched; the hits of its verification
    are many more and spread over the window, so a fit to where they land in the query
    (exactly, not within the ±1 frame tolerance) corrects a slightly wrong scale or offset
    that loses the peaks away from the votes.
    """
    r_t, r_f = _reference_in_window(reference, q_lo, q_hi, scale, offset)
    ref_times = r_t.astype(np.float64)
    landed = occupancy.nearest_frames(*_into_query(r_t, r_f, scale, offset, pitch))
    hit = ~np.isnan(landed)
    if np.count_nonzero(hit) < _REFIT_MIN_HITS or np.ptp(landed[hit]) <= 20:
        return None
    fitted_scale, fitted_offset = np.polyfit(landed[hit], ref_times[hit], 1)
    if not _SCALES[0] <= fitted_scale <= _SCALES[-1]:
        return None
    return float(fitted_scale), float(fitted_offset)


@dataclass(frozen=True)
class _Tried:
    """An alignment of the query to one track, and its verification once done."""

    result: _Verified | None
    votes: npt.NDArray[np.float64]  # query frames of the voting hashes
    window: tuple[float, float]  # query frames verified
    scale: float
    offset: float
    pitch: float  # bins
    anchors: npt.NDArray[np.int64]  # reference peaks of the votes, as time * 256 + bin

    def geometry(
        self,
    ) -> tuple[float, float, float, float, float, npt.NDArray[np.int64]]:
        return (*self.window, self.scale, self.offset, self.pitch, self.anchors)

    def score(self) -> float:
        return self.result.score if self.result is not None else 0.0

    def with_result(self, result: _Verified) -> _Tried:
        return replace(self, result=result)


def _same_alignment(a: _Tried, b: _Tried) -> bool:
    """Whether two alignments map both ends of a's window within a frame of each other."""
    ends = np.array(a.window)
    apart = np.abs((a.scale - b.scale) * ends + a.offset - b.offset)
    return bool(np.all(apart <= 1.0)) and round(a.pitch) == round(b.pitch)


def _refined(reference: TrackReference, occupancy: _Occupancy, best: _Tried) -> _Tried | None:
    """An alignment refitted on its hits (up to twice) and verified again, if that scores
    higher; only for near misses (see _REFIT_FLOOR)."""
    if not _REFIT_FLOOR <= best.score() < _REFIT_CEILING:
        return None
    current = top = best
    for _ in range(_REFIT_ROUNDS):
        fit = _refit(
            reference,
            occupancy,
            *current.window,
            current.scale,
            current.offset,
            current.pitch,
        )
        if fit is None:
            break
        candidate = replace(current, scale=fit[0], offset=fit[1])
        verified = _verify(reference, occupancy, *candidate.geometry())
        if verified is None:
            break
        current = candidate.with_result(verified)
        if current.score() > top.score():
            top = current
    return top if top is not best else None


def _overlaps(match: Match, track_id: int, query_frames: npt.NDArray[np.float64]) -> bool:
    """Whether most of these query frames fall inside an earlier match of the same track."""
    if match.track_id != track_id:
        return False
    seconds = query_frames * FRAME_SECONDS
    inside = (seconds >= match.query_start) & (seconds <= match.query_end)
    return bool(inside.mean() > 0.5)


def _evidence(hits: int, total: int, expected: float) -> float:
    """``-log10`` of the chance that ``hits`` or more of ``total`` peaks line up at random."""
    if total == 0 or hits == 0:
        return 0.0
    chance = min(max(expected / total, 1e-6), 1 - 1e-6)
    log_tail = float(binom.logsf(hits - 1, total, chance))
    if not np.isfinite(log_tail):
        # Far in the tail logsf underflows to -inf (a clean match of a long stretch), and an
        # infinite score is no JSON number: the tail is then its first term, to within a
        # factor that does not matter there.
        log_tail = float(binom.logpmf(hits, total, chance))
    return -log_tail / float(np.log(10.0))


def _candidates(postings: Postings, fingerprint: Fingerprint, limit: int) -> npt.NDArray[np.uint32]:
    """The tracks whose hits pile up most at one time offset, best first.

    Raw hit counts favour long tracks and tracks full of common hashes; hits of the true
    track share an offset. Coarse offset bins (with their neighbour, so a bin edge or a
    few per cent of speed change does not split them) rank the candidates.
    """
    tracks, counts = np.unique(postings.tracks, return_counts=True)
    tracks = tracks[counts >= _MIN_VOTES]
    if tracks.size == 0:
        return tracks
    live = np.isin(postings.tracks, tracks)
    slot = np.searchsorted(tracks, postings.tracks[live]).astype(np.int64)
    offset = (postings.times[live] - fingerprint.times[postings.rows[live]]) // _COARSE_BIN
    low = int(offset.min())
    width = int(offset.max()) - low + 2
    # A sparse histogram: only (track, offset bin) cells that hold votes. A dense one of
    # tracks × offsets cost 0.4 s a query at 10^4 tracks; the best pair of neighbouring
    # bins always starts at a bin with votes, so the sparse one gives the same ranking.
    cells, votes = np.unique(slot * width + offset - low, return_counts=True)
    after = np.minimum(np.searchsorted(cells, cells + 1), cells.size - 1)
    paired = votes + np.where(cells[after] == cells + 1, votes[after], 0)
    rows = cells // width
    firsts = np.flatnonzero(np.diff(rows, prepend=-1))
    best = np.maximum.reduceat(paired, firsts)
    return tracks[np.argsort(-best, kind="stable")[:limit]]


def search(
    index: Index,
    fingerprint: Fingerprint,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_candidates: int = 32,
    max_results: int = 20,
) -> list[Match]:
    """Every indexed track found in ``fingerprint`` (a query fingerprint), best first.

    ``threshold`` is the least evidence reported; see :data:`DEFAULT_THRESHOLD`.
    """
    if len(fingerprint) == 0:
        return []
    postings = index.lookup(fingerprint.hashes)
    if postings.rows.size == 0:
        return []
    candidates = _candidates(postings, fingerprint, max_candidates)
    order = np.argsort(postings.tracks, kind="stable")
    sorted_tracks = postings.tracks[order]
    q_times = fingerprint.times.astype(np.float64)
    occupancy = _Occupancy(fingerprint)
    query_frames = fingerprint.duration / FRAME_SECONDS
    results: list[Match] = []
    for track in candidates:
        lo, hi = np.searchsorted(sorted_tracks, [track, track + 1])
        # The table gave the candidate and roughly when; its own peaks give every hash's
        # exact frame and bin for the alignment.
        reference = index.reference(int(track))
        picked = order[lo:hi]
        rows, r_frames, r_f = reference.postings(
            fingerprint.hashes, np.unique(postings.rows[picked]), postings.times[picked]
        )
        q_t, q_f = q_times[rows], fingerprint.bins[rows]
        r_t = r_frames.astype(np.float64)
        info = index.track(int(track))
        tried: list[_Tried] = []
        for _ in range(_TRIES):
            if q_t.size < _MIN_VOTES:
                break
            inliers, scale, offset, pitch = _align(q_t, r_t, q_f, r_f)
            if np.count_nonzero(inliers) < 3:
                break
            qi, ri = q_t[inliers], r_t[inliers]
            # Verify over the votes' span and a margin: short queries are checked whole.
            # A fit to a few votes bunched in time can miss the scale by a per cent or two,
            # enough to lose every peak away from them: unit scale, pivoted on the votes, is
            # verified too, since most queries are not sped up.
            pivot = float(qi.mean())
            window = (
                max(0.0, float(qi.min()) - _MARGIN),
                min(float(qi.max()) + QUERY.max_dt + _MARGIN, query_frames),
            )
            anchors = ri.astype(np.int64) * 256 + r_f[inliers]
            for option in {scale, 1.0}:
                aligned = _Tried(
                    None, qi, window, option, offset + (scale - option) * pivot, pitch, anchors
                )
                verified = _verify(reference, occupancy, *aligned.geometry())
                if verified is not None:
                    tried.append(aligned.with_result(verified))
            keep = ~inliers
            q_t, q_f, r_t, r_f = q_t[keep], q_f[keep], r_t[keep], r_f[keep]
        # The near miss to refit is not always the best scored one: each is refitted, but
        # once only where several tries found the same alignment.
        refitted: list[_Tried] = []
        for attempt in sorted(tried, key=lambda item: -item.score()):
            if any(_same_alignment(attempt, done) for done in refitted):
                continue
            refitted.append(attempt)
            refined = _refined(reference, occupancy, attempt)
            if refined is not None:
                tried.append(refined)
        # Several alignments are verified, not only the best voted one: a few true votes can
        # be outvoted by chance ones. The best ones are reported, each stretch of query once
        # (a passage repeated inside the recording aligns twice).
        reported = 0
        for attempt in sorted(tried, key=lambda item: -item.score()):
            verified, qi, scale, pitch = attempt.result, attempt.votes, attempt.scale, attempt.pitch
            assert verified is not None  # only verified alignments are tried
            if verified.score < threshold or reported == _ROUNDS:
                break
            if any(_overlaps(m, info.track_id, qi) for m in results):
                continue
            reported += 1
            results.append(
                Match(
                    key=info.key,
                    track_id=info.track_id,
                    score=verified.score,
                    hits=verified.hits,
                    peaks=verified.total,
                    query_start=verified.query_span[0] * FRAME_SECONDS,
                    query_end=verified.query_span[1] * FRAME_SECONDS,
                    reference_start=verified.reference_span[0] * FRAME_SECONDS,
                    reference_end=verified.reference_span[1] * FRAME_SECONDS,
                    time_scale=scale,
                    pitch_shift=0.0 - pitch * 12.0 / BINS_PER_OCTAVE,
                    evidence=verified.agreement,
                )
            )
    results.sort(key=lambda m: -m.score)
    return results[:max_results]
