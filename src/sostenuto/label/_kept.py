"""Inspection results kept under the inspected file's SHA-256, so that a result has an address
anyone can share, and what the public may know of a file from its labels and the log.

Only the result is kept (what the layers said), never the file nor its name: a JSON document
per content hash under ``<data dir>/inspections``. A file whose inspection was not kept is
still found in the log when an output declaration names its content hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sostenuto.errors import InvalidInput, NotFound
from sostenuto.label._model import (
    Inspection,
    ManifestFinding,
    MarkRecord,
    MetadataFinding,
    WatermarkFinding,
)
from sostenuto.label._service import inspect_upload
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee

_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: str) -> str:
    """A content hash as 64 lower-case hexadecimal digits."""
    text = value.strip().lower()
    if not _SHA256.fullmatch(text):
        raise InvalidInput(
            "a content hash is a SHA-256: 64 hexadecimal digits",
            details={"field": "sha256", "value": value[:100]},
        )
    return text


def _path(settings: Settings, sha256: str) -> Path:
    return settings.data_dir / "inspections" / f"{check_sha256(sha256)}.json"


def keep_inspection(settings: Settings, sha256: str, found: Inspection) -> None:
    """Keep ``found`` as the inspection of the file with content hash ``sha256``."""
    path = _path(settings, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(dataclasses.asdict(found), sort_keys=True).encode()
    # Written aside and renamed, so a reader never sees half a document.
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def kept_inspection(settings: Settings, sha256: str) -> Inspection | None:
    """The kept inspection of the file with content hash ``sha256``, if there is one."""
    path = _path(settings, sha256)
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_bytes())
    watermark, registered = data["watermark"], data["registered"]
    return Inspection(
        file_format=data["file_format"],
        metadata=MetadataFinding(**data["metadata"]),
        manifest=ManifestFinding(**data["manifest"]),
        watermark=WatermarkFinding(**watermark) if watermark else None,
        log_entry_id=data["log_entry_id"],
        summary=list(data["summary"]),
        registered=MarkRecord(**registered) if registered else None,
    )


@dataclass(frozen=True)
class Declaration:
    """An output declaration of the log, as the public reads it."""

    index: int
    entry_id: str
    declared_at: str
    generated_on: str | None
    model: str | None
    licensee: str | None
    watermark_id: str | None


@dataclass(frozen=True)
class PublicRecord:
    """What is known in public of a file: its kept inspection and its log declaration."""

    sha256: str
    inspection: Inspection | None
    declaration: Declaration | None

    @property
    def ai_generated(self) -> bool:
        if self.inspection is not None:
            return self.inspection.ai_generated
        return self.declaration is not None

    @property
    def model(self) -> str | None:
        found = self.inspection
        if found is not None:
            if found.registered is not None:
                return found.registered.model
            if found.manifest.intact and found.manifest.model:
                return found.manifest.model
            if found.metadata.present:
                return found.metadata.fields.get("AI_MODEL")
        return self.declaration.model if self.declaration else None


def _declaration(database: Database, sha256: str, found: Inspection | None) -> Declaration | None:
    from sostenuto.transparency import entry_by_id, output_declarations_of

    with database.reader() as session:
        entry = None
        if found is not None and found.log_entry_id:
            entry = entry_by_id(session, found.log_entry_id)
        if entry is None:
            entry = next(iter(output_declarations_of(session, sha256)), None)
        if entry is None:
            return None
        payload = entry.entry.get("payload", {})
        # Models and licensees are public in the registry; the entry names them by id.
        row = session.get(AiModel, entry.model_id) if entry.model_id else None
        model = f"{row.name} {row.version}".strip() if row else None
        owner = session.get(Licensee, entry.licensee_id) if entry.licensee_id else None
        licensee = owner.name if owner else None
    return Declaration(
        index=entry.index,
        entry_id=entry.entry_id,
        declared_at=entry.submitted_at.isoformat(timespec="seconds"),
        generated_on=payload.get("generated_on"),
        model=model,
        licensee=licensee,
        watermark_id=payload.get("watermark_id"),
    )


def inspect_and_keep(
    database: Database, settings: Settings, data: bytes, filename: str
) -> tuple[str, Inspection]:
    """Inspect uploaded bytes and keep the result under their SHA-256 (the file is not kept)."""
    found = inspect_upload(database, settings, data, filename)
    sha256 = hashlib.sha256(data).hexdigest()
    keep_inspection(settings, sha256, found)
    return sha256, found


def public_record(database: Database, settings: Settings, sha256: str) -> PublicRecord:
    """The kept inspection and the log's declaration of a file; NotFound if neither is known."""
    sha256 = check_sha256(sha256)
    found = kept_inspection(settings, sha256)
    declared = _declaration(database, sha256, found)
    if found is None and declared is None:
        raise NotFound(
            f"no inspection was kept and no output declaration names the file {sha256}",
            details={"sha256": sha256},
        )
    return PublicRecord(sha256, found, declared)
