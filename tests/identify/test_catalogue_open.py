"""A new catalogue opened by many threads at once (a batch of outputs checked together):
every one gets it, none reads a half-written layout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sostenuto.identify._shards import LAYOUT_FILE, ShardedIndex


def test_threads_opening_a_new_catalogue_at_once_all_get_it(tmp_path: Path) -> None:
    for attempt in range(5):
        root = tmp_path / f"catalogue-{attempt}"
        with ThreadPoolExecutor(16) as pool:
            opened = list(pool.map(ShardedIndex.open, [root] * 32))
        assert all(len(catalogue.shards) == 1 and len(catalogue) == 0 for catalogue in opened)
        assert (root / LAYOUT_FILE).read_text().strip().startswith("{")
        assert not [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
