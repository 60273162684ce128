"""The on-disk index: persistence, incremental add/remove, compaction, shards, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sostenuto.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from sostenuto.identify import Index, ShardedIndex, fingerprint_samples, search, shard_of
from tests.identify.conftest import Samples, add_noise


def excerpt(samples: Samples, start_s: float, seconds: float) -> Samples:
    return samples[int(start_s * 8000) : int((start_s + seconds) * 8000)]


def best_key(index: Index | ShardedIndex, query: Samples) -> str | None:
    fingerprint = fingerprint_samples(query, query=True)
    found = (
        index.search(fingerprint) if isinstance(index, ShardedIndex) else search(index, fingerprint)
    )
    return found[0].key if found else None


def stats_postings(index: Index) -> int:
    return index.stats().postings


def test_persists_and_reopens_memory_mapped(pieces: dict[int, Samples], tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add_many([(f"p{s}", fingerprint_samples(pieces[s])) for s in (1, 2, 3)])
    reopened = Index.open(tmp_path / "ix")
    assert reopened.keys() == ["p1", "p2", "p3"]
    assert best_key(reopened, excerpt(pieces[2], 12, 8)) == "p2"
    segment = reopened._segments[0]
    assert isinstance(segment.peak_data, np.memmap)
    keys, _ = segment.table.decode_all()  # postings come back sorted by hash
    assert keys.size == stats_postings(reopened) and np.all(np.diff(keys.astype(np.int64)) >= 0)
    stats = reopened.stats()
    assert stats.tracks == 3 and stats.segments == 1
    assert stats.hours == pytest.approx(120 / 3600)
    assert 0 < stats.bytes_per_hour < 20e6


def test_incremental_add_remove_and_compact(pieces: dict[int, Samples], tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    index.add("p1", fingerprint_samples(pieces[1]))
    index.add("p2", fingerprint_samples(pieces[2]))
    index.add("p3", fingerprint_samples(pieces[3]))
    assert index.stats().segments == 3
    query = excerpt(pieces[2], 20, 8)
    assert best_key(index, query) == "p2"
    postings_before = index.stats().postings
    assert index.remove(["p2"]) == 1
    assert "p2" not in index
    assert best_key(index, query) is None
    assert best_key(Index.open(tmp_path / "ix"), query) is None  # the tombstone is on disk
    index.compact()
    stats = index.stats()
    assert (stats.segments, stats.tracks, stats.removed_tracks) == (1, 2, 0)
    assert stats.postings < postings_before
    assert best_key(index, excerpt(pieces[3], 5, 8)) == "p3"
    assert best_key(index, excerpt(pieces[1], 30, 8)) == "p1"
    assert len(list((tmp_path / "ix").glob("seg-*"))) == 1


def test_duplicate_keys_conflict_unless_replaced(
    pieces: dict[int, Samples], tmp_path: Path
) -> None:
    index = Index.create(tmp_path / "ix")
    index.add("song", fingerprint_samples(pieces[1]))
    with pytest.raises(Conflict, match="already in the index: song"):
        index.add("song", fingerprint_samples(pieces[2]))
    assert index.stats().segments == 1
    index.add("song", fingerprint_samples(pieces[2]), replace=True)
    assert len(index) == 1
    assert best_key(index, excerpt(pieces[2], 10, 8)) == "song"
    assert best_key(index, excerpt(pieces[1], 10, 8)) is None


def test_bad_input_leaves_the_index_unchanged(pieces: dict[int, Samples], tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ix")
    good = fingerprint_samples(pieces[1])
    with pytest.raises(InvalidInput, match="1 to 500 characters"):
        index.add_many([("ok", good), ("", good)])
    with pytest.raises(InvalidInput, match="same key appears twice"):
        index.add_many([("a", good), ("a", good)])
    with pytest.raises(NotFound, match="not in the index: nope"):
        index.remove(["nope"])
    assert len(index) == 0 and index.stats().segments == 0
    assert not list((tmp_path / "ix").glob(".tmp-*"))


def test_readers_keep_their_snapshot_until_reload(
    pieces: dict[int, Samples], tmp_path: Path
) -> None:
    writer = Index.create(tmp_path / "ix")
    writer.add("p1", fingerprint_samples(pieces[1]))
    reader = Index.open(tmp_path / "ix")
    writer.add("p4", fingerprint_samples(pieces[4]))
    assert "p4" not in reader
    assert "p4" in reader.reload()


def test_other_fingerprint_versions_are_refused(tmp_path: Path) -> None:
    Index.create(tmp_path / "ix")
    manifest = tmp_path / "ix" / "manifest.json"
    value = json.loads(manifest.read_text())
    value["fingerprint_version"] = 999
    manifest.write_text(json.dumps(value))
    with pytest.raises(IntegrityFailure, match="re-index"):
        Index.open(tmp_path / "ix")
    with pytest.raises(NotFound):
        Index.open(tmp_path / "missing")


def test_shards_route_by_key_and_search_together(
    pieces: dict[int, Samples], tmp_path: Path
) -> None:
    catalogue = ShardedIndex.create(tmp_path / "cat", shards=3)
    catalogue.add_many([(f"p{s}", fingerprint_samples(x)) for s, x in pieces.items()])
    for seed in pieces:
        key = f"p{seed}"
        assert key in catalogue.shards[shard_of(key, 3)]
        assert sum(key in shard for shard in catalogue.shards) == 1
    assert len(ShardedIndex.open(tmp_path / "cat")) == 8
    for seed in (2, 5, 7):
        assert best_key(catalogue, add_noise(excerpt(pieces[seed], 15, 8), 10)) == f"p{seed}"
    with pytest.raises(NotFound):
        catalogue.remove(["p1", "unknown"])
    assert "p1" in catalogue  # nothing was removed
    assert catalogue.remove(["p1", "p2"]) == 2
    assert len(catalogue) == 6
