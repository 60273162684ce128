"""Screening on a Ray cluster: batches of files go to workers that open the catalogue.

Each worker memory-maps the catalogue from the shared data directory, so the index is
read, never shipped; only paths go out and small verdicts come back. A worker process keeps
the catalogue it opened for the next batches of the same catalogue version (a corpus of
10^5 files is some 12 500 batches).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sostenuto.errors import DependencyMissing
from sostenuto.identify._corpus import FileResult

if TYPE_CHECKING:
    from sostenuto.identify._shards import ShardedIndex

_BATCH = 8


@lru_cache(maxsize=2)
def _catalogue(root: str, version: str) -> ShardedIndex:
    """The catalogue at ``root``, opened once per worker process and version: a catalogue
    changed since (another version) is opened afresh."""
    from sostenuto.identify._shards import ShardedIndex

    return ShardedIndex.open(root)


def _identify_batch(
    root: str, version: str, paths: list[str], threshold: float
) -> list[dict[str, Any]]:
    from sostenuto.identify._corpus import identify_file

    catalogue = _catalogue(root, version)
    return [identify_file(catalogue, path, threshold=threshold).as_dict() for path in paths]


def identify_on_ray(
    address: str, root: Path, version: str, paths: Sequence[Path], threshold: float
) -> Iterator[FileResult]:
    """Verdicts for ``paths`` as workers finish them (not in input order).

    ``address`` is a Ray address (``ray://…``, ``host:port``, ``auto``); a process that has
    already called ``ray.init`` (such as a test's local cluster) is used as it is.
    """
    try:
        import ray
    except ImportError:
        raise DependencyMissing(
            "screening on Ray needs the 'ray' package: pip install 'sostenuto[identify]'"
        ) from None
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    task = ray.remote(_identify_batch)
    pending = [
        task.remote(str(root), version, [str(p) for p in paths[i : i + _BATCH]], threshold)
        for i in range(0, len(paths), _BATCH)
    ]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for value in ray.get(ready[0]):
            yield FileResult.from_dict(value)
