"""A track's verification data: its peaks, stored compactly, and the hashes they give again.

The index keeps every verification peak of a track (40 a second) and marks which of them
were hashed (18 a second, a subset). The hashes are not stored per track: the triplets are
recomputed from the marked peaks for the few candidate tracks of a query (a millisecond or
two each), which gives back each hash's exact frame and bin for the alignment vote, while
the posting table keeps only the hash and a half-second slot.

A track's peaks are one zlib blob: a header (peak count, count of long gaps), each peak's
time step from the previous one as a byte (255: see the long-gap list), its bin with the
"hashed" mark as the top bit, then the long gaps (index, step). About 1.2 bytes a peak.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._hashes import triplet_hashes
from sostenuto.identify._params import REFERENCE
from sostenuto.identify._postings import COARSE_FRAMES

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Mask = npt.NDArray[np.bool_]

_LONG = 255  # a time step byte that means "see the long-gap list"
_MAX_BIN = 127  # bins take 7 bits; the top bit marks a hashed peak


def encode_peaks(times: I32, bins: I32, hashed: Mask) -> bytes:
    """The blob of one track's peaks (sorted by time, then bin)."""
    times = np.asarray(times, dtype=np.int64)
    bins = np.asarray(bins, dtype=np.int64)
    hashed = np.asarray(hashed, dtype=bool)
    if not times.shape == bins.shape == hashed.shape:
        raise InvalidInput("peak times, bins and marks differ in length")
    if bins.size and (int(bins.min()) < 0 or int(bins.max()) > _MAX_BIN):
        raise InvalidInput(f"peak bins must lie in 0…{_MAX_BIN}")
    steps = np.diff(times, prepend=0)
    if steps.size and int(steps.min()) < 0:
        raise InvalidInput("peaks must be sorted by time")
    long_gaps = np.flatnonzero(steps >= _LONG)
    step_bytes = np.where(steps >= _LONG, _LONG, steps).astype(np.uint8)
    codes = (bins | (hashed.astype(np.int64) << 7)).astype(np.uint8)
    header = np.array([times.size, long_gaps.size], dtype="<u4")
    body = b"".join(
        [
            header.tobytes(),
            step_bytes.tobytes(),
            codes.tobytes(),
            long_gaps.astype("<u4").tobytes(),
            steps[long_gaps].astype("<u4").tobytes(),
        ]
    )
    return zlib.compress(body, 6)


def decode_peaks(blob: bytes) -> tuple[I32, I32, Mask]:
    """Times, bins and "hashed" marks of a blob written by :func:`encode_peaks`."""
    try:
        body = zlib.decompress(blob)
    except zlib.error as error:
        raise IntegrityFailure(f"a track's peaks are corrupt: {error}") from None
    count, gaps = (int(v) for v in np.frombuffer(body[:8], dtype="<u4"))
    if len(body) != 8 + 2 * count + 8 * gaps:
        raise IntegrityFailure("a track's peaks are truncated")
    steps = np.frombuffer(body, dtype=np.uint8, count=count, offset=8).astype(np.int64)
    codes = np.frombuffer(body, dtype=np.uint8, count=count, offset=8 + count)
    where = np.frombuffer(body, dtype="<u4", count=gaps, offset=8 + 2 * count)
    steps[where.astype(np.int64)] = np.frombuffer(
        body, dtype="<u4", count=gaps, offset=8 + 2 * count + 4 * gaps
    )
    times = np.cumsum(steps).astype(np.int32)
    return times, (codes & 0x7F).astype(np.int32), (codes >> 7).astype(bool)


def hashed_mask(fingerprint: Fingerprint) -> Mask:
    """Which of the fingerprint's peaks were hashed; refuses a fingerprint that cannot say."""
    if fingerprint.hashed is not None:
        return np.asarray(fingerprint.hashed, dtype=bool)
    if len(fingerprint) == 0:
        return np.zeros(fingerprint.peak_times.size, dtype=bool)
    raise InvalidInput("only fingerprints made by fingerprint_samples can be indexed")


def reference_hashes(
    times: I32, bins: I32, hashed: Mask, starts: Mask | None = None
) -> tuple[U32, I32, I32]:
    """The reference hashes (and first peak of each) that ``hashed`` peaks give; with
    ``starts`` (over the hashed peaks), only those of triplets starting there."""
    return triplet_hashes(times[hashed], bins[hashed], REFERENCE, variants=False, starts=starts)


@dataclass(frozen=True)
class TrackReference:
    """One candidate track decoded for matching: its verification peaks and, on demand,
    the exact postings of a query's hashes."""

    peak_times: I32
    peak_bins: I32
    hashed: Mask

    @classmethod
    def from_blob(cls, blob: bytes) -> TrackReference:
        return cls(*decode_peaks(blob))

    def postings(
        self, query_hashes: U32, rows: I64, frames: npt.NDArray[np.integer] | None = None
    ) -> tuple[I64, I32, I32]:
        """For query rows ``rows`` (ascending), each posting of the row's hash in this
        track: the row, and the frame and bin of the hash's first peak here.

        ``frames``: the frames the index placed hits at (the middle of their half-second
        slot). Every posting of a row's hash is one of the index's hits, so hashes are
        remade only for triplets that start in those slots: the same postings, a fraction
        of the work."""
        times, bins = self.peak_times[self.hashed], self.peak_bins[self.hashed]
        starts = None
        if frames is not None:
            slots = np.unique(np.asarray(frames, dtype=np.int64) // COARSE_FRAMES)
            starts = np.isin(times.astype(np.int64) // COARSE_FRAMES, slots)
        hashes, t1, f1 = triplet_hashes(times, bins, REFERENCE, variants=False, starts=starts)
        order = np.argsort(hashes, kind="stable")
        hashes, t1, f1 = hashes[order], t1[order], f1[order]
        wanted = query_hashes[rows]
        lo = np.searchsorted(hashes, wanted, side="left")
        hi = np.searchsorted(hashes, wanted, side="right")
        counts = hi - lo
        total = int(counts.sum())
        out_rows = np.repeat(rows, counts)
        positions = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return out_rows, t1[positions], f1[positions]
