"""Screening on a Ray cluster: batches of files go to workers that open the catalogue.

Each worker memory-maps the catalogue from the shared data directory, so the index is
read, never shipped; only paths go out and small verdicts come back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sostenuto.errors import DependencyMissing
from sostenuto.identify._corpus import FileResult

_BATCH = 8


def _identify_batch(root: str, paths: list[str], threshold: float) -> list[dict[str, Any]]:
    from sostenuto.identify._corpus import identify_file
    from sostenuto.identify._shards import ShardedIndex

    catalogue = ShardedIndex.open(root)
    return [identify_file(catalogue, path, threshold=threshold).as_dict() for path in paths]


def identify_on_ray(
    address: str, root: Path, paths: Sequence[Path], threshold: float
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
        task.remote(str(root), [str(p) for p in paths[i : i + _BATCH]], threshold)
        for i in range(0, len(paths), _BATCH)
    ]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for value in ray.get(ready[0]):
            yield FileResult.from_dict(value)
