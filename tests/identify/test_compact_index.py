"""The compact index layout: bit packing, the posting table, peak blobs, format versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.identify import Index, fingerprint_samples, search
from sostenuto.identify._bitpack import PackedArray, pack
from sostenuto.identify._index import EncodedTrack
from sostenuto.identify._postings import PostingTable, write_table
from sostenuto.identify._reference import TrackReference, decode_peaks, encode_peaks
from tests.identify.conftest import Samples


@settings(max_examples=60, deadline=None)
@given(width=st.integers(0, 57), data=st.data())
def test_packed_values_read_back_exactly(width: int, data: st.DataObject) -> None:
    top = (1 << width) - 1
    values = data.draw(st.lists(st.integers(0, top), max_size=200))
    array = PackedArray(pack(np.array(values, dtype=np.uint64), width), len(values), width)
    assert array.all().tolist() == values
    if values:
        picks = np.array(data.draw(st.lists(st.integers(0, len(values) - 1), min_size=1)))
        assert array.get(picks).tolist() == [values[i] for i in picks]


def test_a_value_too_wide_for_its_field_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not fit"):
        pack(np.array([8], dtype=np.uint64), 3)


@settings(max_examples=40, deadline=None)
@given(
    postings=st.lists(st.tuples(st.integers(0, (1 << 25) - 1), st.integers(0, 999)), max_size=300),
    extra=st.lists(st.integers(0, (1 << 25) - 1), max_size=20),
    cap=st.integers(1, 5),
)
def test_lookup_gives_every_posting_of_each_hash(
    tmp_path_factory: pytest.TempPathFactory,
    postings: list[tuple[int, int]],
    extra: list[int],
    cap: int,
) -> None:
    """Against a plain dictionary: every (row, slot) of every query hash, none else, and
    hashes with more than ``cap`` postings skipped."""
    folder = tmp_path_factory.mktemp("table")
    keys = np.array([k for k, _ in postings], dtype=np.uint32)
    slots = np.array([s for _, s in postings], dtype=np.uint64)
    shape = write_table(folder, keys, slots, slot_bits=10)
    table = PostingTable(folder, shape)
    # Query with some hashes that are there (also near neighbours of them) and some not.
    queries = np.array(
        [k for k, _ in postings[:30]] + [k ^ 1 for k, _ in postings[:5]] + extra, dtype=np.uint32
    )
    rows, found = table.lookup(queries, max_postings=cap)
    got = sorted(zip(rows.tolist(), found.tolist(), strict=True))
    expected = []
    for row, key in enumerate(queries.tolist()):
        hits = sorted(s for k, s in postings if k == key)
        if len(hits) <= cap:
            expected += [(row, s) for s in hits]
    assert got == sorted(expected)
    decoded_keys, decoded_slots = table.decode_all()
    assert sorted(zip(decoded_keys.tolist(), decoded_slots.tolist(), strict=True)) == sorted(
        postings
    )


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.integers(0, 70_000), max_size=300),
    data=st.data(),
)
def test_peak_blobs_round_trip_including_long_gaps(steps: list[int], data: st.DataObject) -> None:
    times = np.cumsum(np.array(steps, dtype=np.int64)).astype(np.int32)
    bins = np.array(
        data.draw(st.lists(st.integers(0, 127), min_size=len(steps), max_size=len(steps)))
    )
    hashed = np.array(data.draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps))))
    back_t, back_b, back_h = decode_peaks(encode_peaks(times, bins.astype(np.int32), hashed))
    assert back_t.tolist() == times.tolist()
    assert back_b.tolist() == bins.tolist()
    assert back_h.tolist() == hashed.tolist()


def test_bad_peaks_and_corrupt_blobs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="bins"):
        encode_peaks(np.array([1], np.int32), np.array([200], np.int32), np.array([True]))
    with pytest.raises(InvalidInput, match="sorted"):
        encode_peaks(np.array([5, 1], np.int32), np.array([1, 1], np.int32), np.zeros(2, bool))
    with pytest.raises(IntegrityFailure):
        decode_peaks(b"not zlib")


def test_remade_hashes_are_the_fingerprints_own(pieces: dict[int, Samples]) -> None:
    """The index stores peaks only; the postings it remakes for a candidate are exactly the
    fingerprint's (hash, frame, bin), and remaking only the slots the index reported hits
    in gives the same postings for those hits."""
    fingerprint = fingerprint_samples(pieces[4])
    track = EncodedTrack.of("p4", fingerprint)
    reference = TrackReference.from_blob(track.blob)
    hashes = np.unique(fingerprint.hashes)
    rows = np.arange(hashes.size, dtype=np.int64)
    got_rows, got_t, got_f = reference.postings(hashes, rows)
    remade = sorted(zip(hashes[got_rows].tolist(), got_t.tolist(), got_f.tolist(), strict=True))
    original = sorted(
        zip(
            fingerprint.hashes.tolist(),
            fingerprint.times.tolist(),
            fingerprint.bins.tolist(),
            strict=True,
        )
    )
    assert remade == original
    assert reference.peak_times.tolist() == fingerprint.peak_times.tolist()
    # Hits of a 6 s stretch only: the slots they fall in are all that is remade.
    inside = (fingerprint.times >= 500) & (fingerprint.times < 875)
    wanted = np.unique(fingerprint.hashes[inside])
    wanted_rows = np.arange(wanted.size, dtype=np.int64)
    full = reference.postings(wanted, wanted_rows)
    slot_frames = (fingerprint.times[np.isin(fingerprint.hashes, wanted)] // 32) * 32 + 16
    part = reference.postings(wanted, wanted_rows, slot_frames)
    assert wanted.size > 0
    assert [a.tolist() for a in part] == [a.tolist() for a in full]
    # Compact: well under two bytes a verification peak.
    assert len(track.blob) < 2 * fingerprint.peak_times.size


def test_query_fingerprints_cannot_be_indexed(pieces: dict[int, Samples], tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    with pytest.raises(InvalidInput, match="only reference fingerprints"):
        index.add("q", fingerprint_samples(pieces[1], query=True))
    assert len(index) == 0


def test_an_index_of_the_previous_format_is_refused_by_name(tmp_path: Path) -> None:
    Index.create(tmp_path / "ix")
    manifest = tmp_path / "ix" / "manifest.json"
    value = json.loads(manifest.read_text())
    value["format"] = 1
    manifest.write_text(json.dumps(value))
    with pytest.raises(IntegrityFailure, match="format 1, this build reads format 2"):
        Index.open(tmp_path / "ix")


def test_compact_index_is_small_and_compaction_keeps_answers(
    pieces: dict[int, Samples], tmp_path: Path
) -> None:
    index = Index.create(tmp_path / "ix")
    for seed in (1, 2, 3, 4):
        index.add(f"p{seed}", fingerprint_samples(pieces[seed]))
    query = fingerprint_samples(pieces[3][12 * 8000 : 20 * 8000], query=True)
    before = [(m.key, round(m.score, 6)) for m in search(index, query)]
    index.remove(["p2"])
    index.compact()
    after = [(m.key, round(m.score, 6)) for m in search(index, query)]
    assert before[0][0] == "p3" and after == [m for m in before if m[0] != "p2"]
    stats = index.stats()
    assert stats.segments == 1 and stats.tracks == 3
    assert stats.bytes_per_hour < 1.5e6
