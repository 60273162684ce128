"""Hugging Face ``datasets`` adapter (the ``hf`` extra): keep the rows a licensee may use.

:func:`consent_filter` reads the dataset's ISRC (and, if named, recording id) column, asks
``client.consent.filter`` about every row, and splits the dataset by the answer: the permitted
rows with their ``decision_id``, and apart from them the rows that name no recording
(``unidentified``), the rows naming a recording the registry does not hold (``unregistered``)
and the refused ones (``denied`` or ``invalid``, with the reason). No row is permitted by
default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasets import Dataset  # type: ignore[import-untyped]

from sostenuto_client._errors import UsageError
from sostenuto_client._items import CorpusItem, Status

if TYPE_CHECKING:
    from sostenuto_client._client import Client
    from sostenuto_client._filter import ConsentFilter

__all__ = ["FilteredDataset", "consent_filter"]


@dataclass
class FilteredDataset:
    """A dataset split by consent. ``permitted`` gains a ``decision_id`` column; the other
    splits gain ``status`` and ``reason``."""

    permitted: Dataset
    unidentified: Dataset
    unregistered: Dataset
    refused: Dataset
    counts: dict[Status, int]
    run: ConsentFilter


def _column(dataset: Dataset, name: str | None) -> list[Any]:
    if name is None:
        return [None] * len(dataset)
    if name not in dataset.column_names:
        raise UsageError(f"the dataset has no column {name!r}; columns: {dataset.column_names}")
    return list(dataset[name])


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _recording(row: int, value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not text.isdigit():
        raise UsageError(f"row {row}: recording_id {value!r} is not a number")
    return int(text)


def consent_filter(
    dataset: Dataset,
    client: Client,
    *,
    licensee_id: int,
    use: str,
    territory: str,
    isrc_column: str | None = "isrc",
    recording_id_column: str | None = None,
    sha256_column: str | None = None,
    model_id: int | None = None,
    on_date: dt.date | None = None,
    checkpoint: str | Path | None = None,
    chunk_size: int = 10_000,
) -> FilteredDataset:
    """Split ``dataset`` by what ``licensee_id`` may do with each row (see the module)."""
    if isrc_column is None and recording_id_column is None:
        raise UsageError("name the isrc_column or the recording_id_column (or both)")
    isrcs = _column(dataset, isrc_column)
    recordings = _column(dataset, recording_id_column)
    hashes = _column(dataset, sha256_column)
    items = (
        CorpusItem(isrc=_text(isrc), recording_id=_recording(row, recording), sha256=_text(sha))
        for row, (isrc, recording, sha) in enumerate(zip(isrcs, recordings, hashes, strict=True))
    )
    run = client.consent.filter(
        items,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        model_id=model_id,
        on_date=on_date,
        checkpoint=checkpoint,
        chunk_size=chunk_size,
    )
    permitted: list[tuple[int, str]] = []
    others: dict[str, list[tuple[int, str, str]]] = {
        "unidentified": [],
        "unregistered": [],
        "refused": [],
    }
    for outcome in run.outcomes():
        if outcome.permitted:
            permitted.append((outcome.index, outcome.decision_id or ""))
            continue
        split = outcome.status if outcome.status in others else "refused"
        others[split].append((outcome.index, outcome.status, outcome.reason))
    kept = dataset.select([index for index, _ in permitted]).add_column(
        "decision_id", [decision for _, decision in permitted]
    )
    parts = {
        split: dataset.select([index for index, _, _ in rows])
        .add_column("status", [status for _, status, _ in rows])
        .add_column("reason", [reason for _, _, reason in rows])
        for split, rows in others.items()
    }
    return FilteredDataset(
        permitted=kept,
        unidentified=parts["unidentified"],
        unregistered=parts["unregistered"],
        refused=parts["refused"],
        counts=run.counts,
        run=run,
    )
