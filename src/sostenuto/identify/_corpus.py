"""What a screening reads: the files of a corpus folder or manifest, and one file's verdict."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sostenuto.audio import AUDIO_SUFFIXES  # one list of what is audio, tracker modules included
from sostenuto.errors import InvalidInput, SostenutoError
from sostenuto.identify._catalogue import file_sha256
from sostenuto.identify._fingerprint import fingerprint_file
from sostenuto.identify._match import DEFAULT_THRESHOLD
from sostenuto.identify._shards import ShardedIndex

_MANIFEST_SUFFIXES = {".txt", ".csv", ".jsonl", ".json"}


@dataclass
class FileResult:
    """One corpus file: identified (with matches), unregistered, or unreadable (with why)."""

    path: str
    status: str  # "identified", "unregistered" or "unreadable"
    sha256: str | None = None
    duration_s: float | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> FileResult:
        return cls(**value)


def list_corpus(source: str | Path) -> list[Path]:
    """Audio files of a folder (recursively), or the paths a manifest lists.

    A manifest is a ``.txt`` file (one path a line), a ``.csv`` with a ``path`` column, or
    ``.jsonl`` / ``.json`` with objects holding ``path``; relative paths are read from the
    manifest's folder. Listed files that are missing stay in the list: screening reports them.
    """
    source = Path(source)
    if source.is_dir():
        return sorted(
            p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
        )
    if not source.is_file():
        raise InvalidInput(f"no corpus folder or manifest at {source}")
    suffix = source.suffix.lower()
    if suffix not in _MANIFEST_SUFFIXES:
        raise InvalidInput(
            f"{source.name} is neither a folder nor a manifest (.txt, .csv, .jsonl, .json)"
        )
    text = source.read_text(encoding="utf-8")
    entries: list[str]
    if suffix == ".txt":
        entries = [line.strip() for line in text.splitlines()]
        entries = [e for e in entries if e and not e.startswith("#")]
    elif suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InvalidInput(f"manifest {source.name} has no 'path' column")
        entries = [row["path"] for row in reader if row.get("path")]
    else:
        entries = _json_paths(source, text, suffix)
    base = source.parent
    return [p if p.is_absolute() else base / p for p in map(Path, entries)]


def _json_paths(source: Path, text: str, suffix: str) -> list[str]:
    try:
        items = (
            [json.loads(line) for line in text.splitlines() if line.strip()]
            if suffix == ".jsonl"
            else json.loads(text)
        )
    except json.JSONDecodeError as error:
        raise InvalidInput(f"manifest {source.name} is not valid JSON: {error}") from None
    if isinstance(items, dict):
        items = items.get("files", [])
    if not isinstance(items, list):
        raise InvalidInput(f"manifest {source.name} must list files")
    paths: list[str] = []
    for position, item in enumerate(items, 1):
        value = item.get("path") if isinstance(item, dict) else item
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"manifest {source.name}, entry {position}: no 'path'")
        paths.append(value)
    return paths


def identify_file(
    catalogue: ShardedIndex, path: str | Path, *, threshold: float = DEFAULT_THRESHOLD
) -> FileResult:
    """Fingerprint one file and look it up; a file that cannot be read is reported, not fatal."""
    name = str(path)
    try:
        sha256 = file_sha256(path)
    except SostenutoError as error:
        return FileResult(name, "unreadable", error=error.message)
    try:
        fingerprint = fingerprint_file(path, query=True)
    except SostenutoError as error:
        return FileResult(name, "unreadable", sha256=sha256, error=error.message)
    matches = catalogue.search(fingerprint, threshold=threshold)
    return FileResult(
        name,
        "identified" if matches else "unregistered",
        sha256=sha256,
        duration_s=round(fingerprint.duration, 3),
        matches=[m.as_dict() for m in matches],
    )
