"""Labelling tied to the registry and the transparency log.

A licensee labels one of its model's outputs: Sostenuto draws a fresh 32-bit watermark id,
declares the output in the transparency log (``output-declaration`` with the id), records
id -> log entry in ``label_watermark`` and writes the labelled file, the row and the file
together (a failed write rolls the row back). The log append comes first because the file
must name its log entry; a failed write after it leaves a declaration with no file, which
the append-only log cannot undo and which is harmless.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, authorize
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.label._files import check_layers, inspect_file, label_file
from sostenuto.label._keys import load_keys, load_trust_anchor
from sostenuto.label._model import (
    LAYERS,
    Inspection,
    Label,
    LabelResult,
    MarkRecord,
    parse_source_type,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.label import WatermarkMark
from sostenuto.storage.models.registry import AiModel, Licensee

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def _record(row: WatermarkMark) -> MarkRecord:
    created = row.created_at
    if created.tzinfo is None:  # SQLite keeps no zone; every time stored is UTC
        created = created.replace(tzinfo=dt.UTC)
    return MarkRecord(
        watermark_id=row.watermark_id,
        log_entry_id=row.log_entry_id,
        log_index=row.log_index,
        licensee_id=row.licensee_id,
        licensee_name=row.licensee_name,
        model=row.model,
        source_type=row.source_type,
        licence_ref=row.licence_ref,
        consent_ref=row.consent_ref,
        created_at=created.isoformat(),
    )


def _fresh_id(session: Session) -> int:
    # Random rather than sequential, so an id reveals nothing about volume or order.
    for _ in range(64):
        candidate = secrets.randbits(32)
        if session.get(WatermarkMark, candidate) is None:
            return candidate
    raise RuntimeError("no free watermark id after 64 draws")  # pragma: no cover


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _declare(
    database: Database, settings: Settings, principal: Principal, payload: dict[str, Any]
) -> tuple[str, int]:
    from sostenuto.transparency import declare

    receipt = declare(database, settings, principal, "output-declaration", payload)
    return receipt.entry_id, receipt.index


def label_output(
    database: Database,
    settings: Settings,
    principal: Principal,
    source: str | Path,
    *,
    licensee_id: int,
    model_id: int,
    source_type: str = "trainedAlgorithmicMedia",
    licence_ref: str | None = None,
    consent_ref: str | None = None,
    reservations: Mapping[str, str] | None = None,
    reservation_note: str | None = None,
    output: str | Path | None = None,
    in_place: bool = False,
    layers: Sequence[str] = LAYERS,
    declare: bool = True,
) -> tuple[LabelResult, MarkRecord]:
    """Label a licensee's output with every requested layer, declared in the log."""
    authorize(principal, "label.apply", licensee_id=licensee_id)
    source = Path(source)
    check_layers(source, layers)
    with database.reader() as session:
        licensee = session.get(Licensee, licensee_id)
        if licensee is None:
            raise NotFound(f"licensee {licensee_id} does not exist")
        model = session.get(AiModel, model_id)
        if model is None:
            raise NotFound(f"model {model_id} does not exist")
        if model.licensee_id != licensee_id:
            raise InvalidInput(f"model {model_id} belongs to licensee {model.licensee_id}")
        watermark_id = _fresh_id(session)
        model_name = f"{model.name} {model.version}".strip()
        licensee_name = licensee.name
    keys = load_keys(settings.keys_dir) if "c2pa" in layers else None
    label = Label(
        model=model_name,
        licensee=licensee_name,
        source_type=parse_source_type(source_type),
        licence_ref=licence_ref,
        consent_ref=consent_ref,
        watermark_id=watermark_id,
        reservations=dict(reservations or {}),
        reservation_note=reservation_note,
    )
    log_entry_id: str | None = None
    log_index: int | None = None
    if declare:
        log_entry_id, log_index = _declare(
            database,
            settings,
            principal,
            {
                "licensee_id": licensee_id,
                "model_id": model_id,
                "output_sha256": _sha256(source),
                "generated_on": dt.date.today().isoformat(),
                "label_id": f"sostenuto-label:{watermark_id:08x}",
                "watermark_id": f"{watermark_id:08x}",
            },
        )
        label = dataclasses.replace(label, log_entry_id=log_entry_id)
    with database.transaction() as session:
        row = WatermarkMark(
            watermark_id=watermark_id,
            log_entry_id=log_entry_id,
            log_index=log_index,
            licensee_id=licensee_id,
            licensee_name=licensee_name,
            model=model_name,
            source_type=label.source_type,
            licence_ref=licence_ref,
            consent_ref=consent_ref,
            created_at=dt.datetime.now(dt.UTC),
            created_by=principal.name,
        )
        session.add(row)
        session.flush()
        result = label_file(
            source, label, output=output, in_place=in_place, layers=layers, keys=keys
        )
    return result, _record(row)


def resolve_watermark(database: Database, watermark_id: int) -> MarkRecord | None:
    """What a watermark id was issued for (public: the log declares it openly)."""
    with database.reader() as session:
        row = session.get(WatermarkMark, watermark_id)
        return _record(row) if row is not None else None


def marks_of(database: Database, principal: Principal, licensee_id: int) -> list[MarkRecord]:
    """The watermark ids issued for one licensee's outputs: for that licensee and auditors
    (a CMO sees the outputs' declarations in the public log, not a licensee's list)."""
    authorize(principal, "watermarks.list", licensee_id=licensee_id)
    with database.reader() as session:
        rows = session.scalars(
            select(WatermarkMark)
            .where(WatermarkMark.licensee_id == licensee_id)
            .order_by(WatermarkMark.created_at)
        )
        return [_record(row) for row in rows]


def inspect_path(
    database: Database | None,
    settings: Settings,
    path: str | Path,
    *,
    watermark: bool = True,
    display_name: str | None = None,
) -> Inspection:
    """Inspect a file against Sostenuto's trust anchor and resolve its watermark id."""
    found = inspect_file(
        path,
        trust_anchors=load_trust_anchor(settings.keys_dir),
        watermark=watermark,
        display_name=display_name,
    )
    if database is None or found.watermark is None or found.watermark.watermark_id is None:
        return found
    record = resolve_watermark(database, found.watermark.watermark_id)
    if record is None:
        return found
    return Inspection(
        file_format=found.file_format,
        metadata=found.metadata,
        manifest=found.manifest,
        watermark=found.watermark,
        log_entry_id=found.log_entry_id or record.log_entry_id,
        summary=[
            *found.summary,
            f"The watermark id is registered: output of {record.model} for "
            f"{record.licensee_name}"
            + (f", log entry {record.log_entry_id}." if record.log_entry_id else "."),
        ],
        registered=record,
    )


def inspect_upload(
    database: Database | None,
    settings: Settings,
    data: bytes,
    filename: str,
    *,
    watermark: bool = True,
) -> Inspection:
    """Inspect uploaded bytes (written to a private temporary file, removed afterwards)."""
    if not data:
        raise InvalidInput("the upload is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"uploads are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    suffix = Path(filename).suffix[:8] if filename else ""
    with tempfile.TemporaryDirectory(prefix="sostenuto-inspect-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return inspect_path(
            database, settings, path, watermark=watermark, display_name=Path(filename).name
        )


def label_upload(
    database: Database,
    settings: Settings,
    principal: Principal,
    data: bytes,
    filename: str,
    **options: Any,
) -> tuple[bytes, LabelResult, MarkRecord]:
    """Label uploaded bytes and return the labelled file's bytes (nothing kept on disk)."""
    if not data:
        raise InvalidInput("the upload is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"uploads are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    name = Path(filename or "upload").name
    with tempfile.TemporaryDirectory(prefix="sostenuto-label-") as folder:
        source = Path(folder) / name
        source.write_bytes(data)
        result, record = label_output(
            database, settings, principal, source, output=Path(folder) / f"out-{name}", **options
        )
        return Path(result.path).read_bytes(), result, record
