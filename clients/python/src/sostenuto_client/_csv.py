"""CSV manifests in and out: the simplest place a corpus lives.

In: a header row naming any of ``path``, ``sha256``, ``isrc``, ``recording_id``, ``source``
(a missing ``sha256`` is computed from ``path`` when asked). Out: one row per outcome with its
status, decision id and reason, ready to be kept beside the training data.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from sostenuto_client._errors import UsageError
from sostenuto_client._items import CorpusItem, Outcome

IN_COLUMNS = frozenset({"path", "sha256", "isrc", "recording_id", "source"})
OUT_COLUMNS = (
    "path",
    "sha256",
    "isrc",
    "recording_id",
    "decision_id",
    "source",
    "status",
    "reason",
)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_csv(path: str | Path, *, hash_files: bool = False) -> Iterator[CorpusItem]:
    """The items of a CSV manifest, streamed row by row."""
    with open(path, newline="") as source:
        reader = csv.DictReader(source)
        columns = set(reader.fieldnames or [])
        if not columns & {"isrc", "recording_id", "path"}:
            raise UsageError(f"{path}: the header names none of isrc, recording_id, path")
        unknown = columns - IN_COLUMNS
        if unknown:
            raise UsageError(
                f"{path}: unknown columns {sorted(unknown)}; known: {sorted(IN_COLUMNS)}"
            )
        for line, row in enumerate(reader, start=2):
            recording = (row.get("recording_id") or "").strip()
            if recording and not recording.isdigit():
                raise UsageError(f"{path}:{line}: recording_id {recording!r} is not a number")
            sha256 = (row.get("sha256") or "").strip().lower() or None
            file_path = (row.get("path") or "").strip() or None
            if sha256 is None and hash_files and file_path:
                sha256 = file_sha256(file_path)
            try:
                yield CorpusItem(
                    isrc=(row.get("isrc") or "").strip() or None,
                    recording_id=int(recording) if recording else None,
                    sha256=sha256,
                    source=(row.get("source") or "").strip() or "licensed",
                    path=file_path,
                )
            except UsageError as error:
                raise UsageError(f"{path}:{line}: {error}") from None


def write_csv(outcomes: Iterable[Outcome], path: str | Path) -> int:
    """Write outcomes as a CSV manifest; the number of rows written."""
    count = 0
    with open(path, "w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(OUT_COLUMNS)
        for outcome in outcomes:
            item = outcome.item
            writer.writerow(
                [
                    item.path or "",
                    item.sha256 or "",
                    outcome.isrc or item.isrc or "",
                    outcome.recording_id or item.recording_id or "",
                    outcome.decision_id or "",
                    item.source,
                    outcome.status,
                    outcome.reason,
                ]
            )
            count += 1
    return count
