"""Parquet manifests in and out (the ``parquet`` extra, pyarrow): the columns of the CSV
manifests (:mod:`sostenuto_client._csv`), read and written a row group at a time so a corpus
of any size stays in constant memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from sostenuto_client._csv import IN_COLUMNS, OUT_COLUMNS, file_sha256
from sostenuto_client._errors import UsageError
from sostenuto_client._items import CorpusItem, Outcome

__all__ = ["OUT_SCHEMA", "read_parquet", "write_parquet"]

OUT_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("isrc", pa.string()),
        ("recording_id", pa.int64()),
        ("decision_id", pa.string()),
        ("source", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
    ]
)
assert tuple(OUT_SCHEMA.names) == OUT_COLUMNS
ROWS_PER_GROUP = 50_000


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def read_parquet(path: str | Path, *, hash_files: bool = False) -> Iterator[CorpusItem]:
    """The items of a Parquet manifest (columns: any of path, sha256, isrc, recording_id,
    source), streamed a batch at a time. Other columns are ignored."""
    try:
        source = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise UsageError(f"{path}: not a readable Parquet file ({error})") from None
    columns = [name for name in source.schema_arrow.names if name in IN_COLUMNS]
    if not set(columns) & {"isrc", "recording_id", "path"}:
        raise UsageError(f"{path}: the schema names none of isrc, recording_id, path")
    row = 0
    for batch in source.iter_batches(columns=columns):
        for values in batch.to_pylist():
            row += 1
            recording = values.get("recording_id")
            if recording is not None and not str(recording).strip().isdigit():
                raise UsageError(f"{path}: row {row}: recording_id {recording!r} is not a number")
            file_path = _text(values.get("path"))
            sha256 = (_text(values.get("sha256")) or "").lower() or None
            if sha256 is None and hash_files and file_path:
                sha256 = file_sha256(file_path)
            try:
                yield CorpusItem(
                    isrc=_text(values.get("isrc")),
                    recording_id=int(recording) if recording is not None else None,
                    sha256=sha256,
                    source=_text(values.get("source")) or "licensed",
                    path=file_path,
                )
            except UsageError as error:
                raise UsageError(f"{path}: row {row}: {error}") from None


def _row(outcome: Outcome) -> dict[str, Any]:
    item = outcome.item
    return {
        "path": item.path,
        "sha256": item.sha256,
        "isrc": outcome.isrc or item.isrc,
        "recording_id": outcome.recording_id or item.recording_id,
        "decision_id": outcome.decision_id,
        "source": item.source,
        "status": outcome.status,
        "reason": outcome.reason,
    }


def write_parquet(outcomes: Iterable[Outcome], path: str | Path) -> int:
    """Write outcomes as a Parquet manifest; the number of rows written."""
    count = 0
    rows: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, OUT_SCHEMA) as writer:
        for outcome in outcomes:
            rows.append(_row(outcome))
            if len(rows) == ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=OUT_SCHEMA))
                count += len(rows)
                rows = []
        if rows or count == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=OUT_SCHEMA))
            count += len(rows)
    return count
