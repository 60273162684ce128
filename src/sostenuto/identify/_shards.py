"""Sharding by track: a catalogue too big for one process spreads over several indexes.

A track's shard is ``crc32(key) % count``, so any process can route an add or a remove
without asking anyone. Each shard is a complete :class:`Index` that matches on its own;
a query goes to every shard and the matches are merged by score, so shards can live in
separate processes or machines (each opens only its own directory) and only match lists,
not postings, travel between them.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

from sostenuto.errors import InvalidInput
from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._index import Index, IndexStats, TrackInfo, _atomic_json
from sostenuto.identify._match import DEFAULT_THRESHOLD, Match, search

LAYOUT_FILE = "shards.json"


def shard_of(key: str, count: int) -> int:
    """The shard that holds ``key`` among ``count`` shards."""
    return zlib.crc32(key.encode()) % count


class ShardedIndex:
    """``count`` indexes under one folder (``shard-000`` …), addressed as one."""

    def __init__(self, root: Path, shards: list[Index]) -> None:
        self.root = root
        self.shards = shards

    @classmethod
    def create(cls, root: str | Path, *, shards: int = 1) -> ShardedIndex:
        """Open the catalogue at ``root``, creating it with ``shards`` shards if new."""
        root = Path(root)
        layout = root / LAYOUT_FILE
        if layout.exists():
            return cls.open(root)
        if not 1 <= shards <= 4096:
            raise InvalidInput("a catalogue has 1 to 4096 shards")
        root.mkdir(parents=True, exist_ok=True)
        indexes = [Index.create(root / f"shard-{n:03d}") for n in range(shards)]
        # Written whole and renamed into place: a reader in another thread or process (a
        # batch of outputs checked at once) never sees an empty layout.
        _atomic_json(layout, {"shards": shards})
        return cls(root, indexes)

    @classmethod
    def open(cls, root: str | Path) -> ShardedIndex:
        root = Path(root)
        try:
            count = int(json.loads((root / LAYOUT_FILE).read_text())["shards"])
        except FileNotFoundError:
            return cls.create(root)
        return cls(root, [Index.open(root / f"shard-{n:03d}") for n in range(count)])

    def __len__(self) -> int:
        return sum(len(shard) for shard in self.shards)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.shards[shard_of(key, len(self.shards))]

    def shard(self, key: str) -> Index:
        return self.shards[shard_of(key, len(self.shards))]

    def add_many(
        self, items: Sequence[tuple[str, Fingerprint]], *, replace: bool = False
    ) -> list[TrackInfo]:
        groups: dict[int, list[tuple[str, Fingerprint]]] = {}
        for key, fingerprint in items:
            groups.setdefault(shard_of(key, len(self.shards)), []).append((key, fingerprint))
        added: list[TrackInfo] = []
        for number, group in sorted(groups.items()):
            added.extend(self.shards[number].add_many(group, replace=replace))
        return added

    def add(self, key: str, fingerprint: Fingerprint, *, replace: bool = False) -> TrackInfo:
        return self.shard(key).add(key, fingerprint, replace=replace)

    def remove(self, keys: Sequence[str]) -> int:
        groups: dict[int, list[str]] = {}
        for key in keys:
            groups.setdefault(shard_of(key, len(self.shards)), []).append(key)
        # Check every shard first, so that an unknown key removes nothing anywhere.
        for number, group in groups.items():
            for key in group:
                self.shards[number].track_id(key)
        return sum(self.shards[n].remove(group) for n, group in sorted(groups.items()))

    def compact(self) -> None:
        for shard in self.shards:
            shard.compact()

    def reload(self) -> ShardedIndex:
        return ShardedIndex(self.root, [shard.reload() for shard in self.shards])

    def version(self) -> str:
        """A digest of every shard's :meth:`Index.version`: the catalogue's content."""
        if len(self.shards) == 1:
            return self.shards[0].version()
        joined = "|".join(shard.version() for shard in self.shards)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def search(
        self,
        fingerprint: Fingerprint,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        max_results: int = 20,
    ) -> list[Match]:
        matches = [
            match
            for shard in self.shards
            for match in search(shard, fingerprint, threshold=threshold, max_results=max_results)
        ]
        matches.sort(key=lambda m: -m.score)
        return matches[:max_results]

    def stats(self) -> IndexStats:
        parts = [shard.stats() for shard in self.shards]
        return IndexStats(
            tracks=sum(p.tracks for p in parts),
            removed_tracks=sum(p.removed_tracks for p in parts),
            segments=sum(p.segments for p in parts),
            postings=sum(p.postings for p in parts),
            hours=sum(p.hours for p in parts),
            disk_bytes=sum(p.disk_bytes for p in parts),
        )
