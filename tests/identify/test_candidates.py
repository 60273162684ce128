"""The candidate ranking's sparse offset histogram against the dense formula it replaced."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._index import Postings
from sostenuto.identify._match import _COARSE_BIN, _MIN_VOTES, _candidates


def _dense(postings: Postings, fingerprint: Fingerprint, limit: int) -> npt.NDArray[np.uint32]:
    tracks, counts = np.unique(postings.tracks, return_counts=True)
    tracks = tracks[counts >= _MIN_VOTES]
    if tracks.size == 0:
        return tracks
    live = np.isin(postings.tracks, tracks)
    slot = np.searchsorted(tracks, postings.tracks[live]).astype(np.int64)
    offset = (postings.times[live] - fingerprint.times[postings.rows[live]]) // _COARSE_BIN
    low = int(offset.min())
    width = int(offset.max()) - low + 2
    votes = np.bincount(slot * width + offset - low, minlength=tracks.size * width)
    paired = votes.reshape(tracks.size, width)
    paired = paired[:, :-1] + paired[:, 1:]
    return tracks[np.argsort(-paired.max(axis=1), kind="stable")[:limit]]


@settings(max_examples=80, deadline=None)
@given(
    hits=st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 12), st.integers(0, 3000)),
        min_size=1,
        max_size=400,
    ),
    limit=st.integers(1, 8),
)
def test_sparse_ranking_is_the_dense_ranking(hits: list[tuple[int, int, int]], limit: int) -> None:
    query_times = np.arange(41, dtype=np.int32) * 7
    empty = np.zeros(0, dtype=np.int32)
    fingerprint = Fingerprint(
        np.zeros(41, dtype=np.uint32), query_times, query_times, empty, empty, 10.0
    )
    postings = Postings(
        np.array([row for row, _, _ in hits], dtype=np.int64),
        np.array([track for _, track, _ in hits], dtype=np.uint32),
        np.array([time for _, _, time in hits], dtype=np.int32),
    )
    expected = _dense(postings, fingerprint, limit)
    assert _candidates(postings, fingerprint, limit).tolist() == expected.tolist()
