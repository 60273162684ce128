"""Declaring a filtered corpus as a dataset manifest in the transparency log.

A log entry holds at most 64 KiB, so a large corpus is declared as numbered parts
(``NAME (part k/n)``), several per ``log.batches.declare`` call. Entries are content-addressed:
declaring the same parts again returns the existing entries (``new`` is false), so a rerun
after a kill never declares a file twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sostenuto_client._errors import UsageError
from sostenuto_client._items import Outcome

if TYPE_CHECKING:
    from sostenuto_client._generated import LogApi

PART_BYTES = 48_000  # files per entry, well under the log's 64 KiB entry bound
PARTS_PER_CALL = 32
MAX_NAME = 180  # the entry's name is at most 200 characters, " (part k/n)" included


@dataclass
class Declared:
    """What a declaration did: one receipt (and inclusion proof) per manifest part."""

    name: str
    files: int
    entries: list[dict[str, Any]] = field(default_factory=list)
    proofs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def new(self) -> int:
        """How many entries this call appended (0 when all were declared before)."""
        return sum(1 for receipt in self.entries if receipt.get("new", True))

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "files": self.files,
            "entries": self.entries,
            "proofs": self.proofs,
        }


def manifest_file(outcome: Outcome) -> dict[str, Any]:
    """One file of a manifest: its hash, the recording and the decision that permitted it."""
    if not outcome.permitted or not outcome.decision_id:
        raise UsageError(f"item {outcome.index} was not permitted: it cannot be declared")
    if outcome.item.sha256 is None:
        raise UsageError(
            f"item {outcome.index} has no sha256: a dataset manifest names files by content "
            "hash (give CorpusItem(sha256=...))"
        )
    entry: dict[str, Any] = {"sha256": outcome.item.sha256}
    if outcome.isrc:
        entry["isrc"] = outcome.isrc
    else:
        entry["recording_id"] = outcome.recording_id
    entry["decision_id"] = outcome.decision_id
    entry["source"] = outcome.item.source
    return entry


def _parts(outcomes: Iterable[Outcome]) -> Iterator[list[dict[str, Any]]]:
    part: list[dict[str, Any]] = []
    size = 0
    for outcome in outcomes:
        entry = manifest_file(outcome)
        length = len(json.dumps(entry)) + 1
        if part and size + length > PART_BYTES:
            yield part
            part, size = [], 0
        part.append(entry)
        size += length
    if part:
        yield part


def declare_manifest(
    log: LogApi,
    permitted: Iterable[Outcome],
    *,
    licensee_id: int,
    name: str,
    model_id: int | None = None,
    receipt: str | Path | None = None,
    proofs: bool = True,
) -> Declared:
    """Declare ``permitted`` (re-iterable: read twice, once to count the parts) as a dataset
    manifest; write the receipts and inclusion proofs to ``receipt`` if given."""
    if not name.strip():
        raise UsageError("a dataset manifest needs a name")
    if iter(permitted) is permitted:
        raise UsageError("pass outcomes that can be read twice (a list, or ConsentFilter.declare)")
    name = name[:MAX_NAME]
    total = sum(1 for _ in _parts(permitted))  # also checks every file before declaring any
    if total == 0:
        raise UsageError("nothing was permitted: there is no manifest to declare")
    declared = Declared(name=name, files=0)
    batch: list[dict[str, Any]] = []
    for number, files in enumerate(_parts(permitted), start=1):
        payload: dict[str, Any] = {
            "licensee_id": licensee_id,
            "name": f"{name} (part {number}/{total})" if total > 1 else name,
            "files": files,
        }
        if model_id is not None:
            payload["model_id"] = model_id
        batch.append({"type": "dataset-manifest", "payload": payload})
        declared.files += len(files)
        if len(batch) == PARTS_PER_CALL:
            declared.entries += log.batches.declare(entries=batch)
            batch = []
    if batch:
        declared.entries += log.batches.declare(entries=batch)
    if proofs:
        declared.proofs = [log.proofs.inclusion(entry["index"]) for entry in declared.entries]
    if receipt is not None:
        _write_atomically(Path(receipt), json.dumps(declared.as_json(), indent=1) + "\n")
    return declared


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
