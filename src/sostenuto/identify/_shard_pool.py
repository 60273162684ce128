"""Shards served by separate processes or machines: one Ray actor per shard.

Each actor opens only its own shard folder (memory-mapped, so a machine needs page cache for
its shards alone), a query's fingerprint goes to every actor at once, and only their match
lists come back to be merged by score. The shard folders must be readable at the same path
on whichever node runs the actor (a shared or replicated data directory); Ray's scheduler
spreads the actors over the cluster's CPUs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sostenuto.errors import DependencyMissing, InvalidInput
from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._index import Index
from sostenuto.identify._match import DEFAULT_THRESHOLD, Match, search
from sostenuto.identify._shards import LAYOUT_FILE


class _ShardServer:
    """Holds one shard open and answers searches against it."""

    def __init__(self, folder: str) -> None:
        self.index = Index.open(Path(folder))

    def search(self, fingerprint: Fingerprint, threshold: float, max_results: int) -> list[Match]:
        return search(self.index, fingerprint, threshold=threshold, max_results=max_results)

    def reload(self) -> int:
        self.index = self.index.reload()
        return len(self.index)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise DependencyMissing(
            "serving shards on Ray needs the 'ray' package: pip install 'sostenuto[identify]'"
        ) from None
    return ray


class RayShardPool:
    """A sharded catalogue (``ShardedIndex`` layout) searched through one actor per shard."""

    def __init__(self, root: str | Path, address: str = "auto", *, cpus_per_shard: float = 1.0):
        root = Path(root)
        try:
            count = int(json.loads((root / LAYOUT_FILE).read_text())["shards"])
        except FileNotFoundError:
            raise InvalidInput(f"{root} is not a sharded catalogue (no {LAYOUT_FILE})") from None
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        server = ray.remote(num_cpus=cpus_per_shard)(_ShardServer)
        self._ray = ray
        self.actors = [server.remote(str(root / f"shard-{n:03d}")) for n in range(count)]

    def __len__(self) -> int:
        return len(self.actors)

    def search(
        self,
        fingerprint: Fingerprint,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        max_results: int = 20,
    ) -> list[Match]:
        """Matches from every shard, best first (the same answer as ``ShardedIndex.search``)."""
        reference = self._ray.put(fingerprint)  # sent once, shared by every actor
        pending = [a.search.remote(reference, threshold, max_results) for a in self.actors]
        matches = [match for found in self._ray.get(pending) for match in found]
        matches.sort(key=lambda m: -m.score)
        return matches[:max_results]

    def reload(self) -> int:
        """Make every actor see the shards' latest committed state; the tracks in all."""
        return int(sum(self._ray.get([actor.reload.remote() for actor in self.actors])))

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
