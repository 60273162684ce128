"""PyTorch adapter (the ``torch`` extra): train on what a consent filter permitted.

Filter once, then hand the checkpoint to :class:`PermittedDataset`: it reads the permitted
items back from the journal (constant memory) and shares them out over ``DataLoader``
workers, so each worker loads a disjoint slice and no worker asks the server again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from torch.utils.data import IterableDataset, get_worker_info

from sostenuto_client._filter import ConsentFilter
from sostenuto_client._items import Outcome
from sostenuto_client._journal import read_outcomes

T = TypeVar("T")

__all__ = ["PermittedDataset"]


class PermittedDataset(IterableDataset[T]):
    """``load(outcome)`` for every permitted item of a filter run (a :class:`ConsentFilter`
    or its checkpoint path), in input order within each worker."""

    def __init__(self, source: ConsentFilter | str | Path, load: Callable[[Outcome], T]) -> None:
        self.checkpoint = source.checkpoint if isinstance(source, ConsentFilter) else Path(source)
        self.load = load

    def __iter__(self) -> Iterator[T]:
        worker = get_worker_info()
        share, workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        for number, outcome in enumerate(read_outcomes(self.checkpoint, "permitted")):
            if number % workers == share:
                yield self.load(outcome)
