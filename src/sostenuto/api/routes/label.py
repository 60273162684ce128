"""Labelling endpoints: label an output (licensees), inspect any file and resolve ids (public)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import Response

from sostenuto.api.deps import AppSettings, Caller, Db, LicenseeOnly, LicenseeOrAuditor
from sostenuto.api.params import Code, Id, Note, Reference
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.label import LAYERS, inspect_upload, label_upload, marks_of, resolve_watermark

router = APIRouter(prefix="/api/v1/label", tags=["label"])

_MEDIA = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg-vorbis": "audio/ogg",
    "ogg-opus": "audio/ogg",
    "mp4": "audio/mp4",
}


def _pairs(text: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        if item.strip():
            key, sep, use = item.strip().partition("=")
            if not sep:
                raise InvalidInput(f"reservations are ENTRY=USE pairs, got {item!r}")
            pairs[key if key.startswith("c2pa.") else f"c2pa.{key}"] = use
    return pairs


@router.post("", response_class=Response)
async def label(
    caller: LicenseeOnly,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="The generated audio file.")],
    licensee_id: Annotated[Id, Form()],
    model_id: Annotated[Id, Form()],
    composite: Annotated[bool, Form()] = False,
    licence_ref: Annotated[Reference | None, Form()] = None,
    consent_ref: Annotated[Reference | None, Form()] = None,
    reservations: Annotated[Note | None, Form(description="ENTRY=USE,...")] = None,
    reservation_note: Annotated[Note | None, Form()] = None,
    layers: Annotated[Code, Form()] = ",".join(LAYERS),
    declare: Annotated[
        bool,
        Form(
            description="Declare the output in the log now. False when the caller declares "
            "it itself (with its resemblances, many in one log.batches.declare call): the "
            "watermark id is linked to that declaration when it comes."
        ),
    ] = True,
) -> Response:
    """Label an output; the answer is the labelled file, its ids in the headers."""
    data, result, record = label_upload(
        database,
        settings,
        caller,
        await file.read(),
        file.filename or "upload",
        licensee_id=licensee_id,
        model_id=model_id,
        source_type=(
            "compositeWithTrainedAlgorithmicMedia" if composite else "trainedAlgorithmicMedia"
        ),
        licence_ref=licence_ref,
        consent_ref=consent_ref,
        reservations=_pairs(reservations),
        reservation_note=reservation_note,
        layers=[layer.strip() for layer in layers.split(",") if layer.strip()],
        declare=declare,
    )
    headers = {
        "X-Sostenuto-Watermark-Id": f"{record.watermark_id:08x}",
        "X-Sostenuto-Layers": ",".join(result.layers),
    }
    if record.log_entry_id:
        headers["X-Sostenuto-Log-Entry"] = record.log_entry_id
    return Response(data, media_type=_MEDIA.get(result.file_format), headers=headers)


@router.post("/inspect")
async def inspect(
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="Any audio file.")],
    watermark: bool = True,
) -> dict[str, Any]:
    """Public: which label layers a file carries and which verify (nothing is stored)."""
    found = inspect_upload(
        database, settings, await file.read(), file.filename or "upload", watermark=watermark
    )
    return {**dataclasses.asdict(found), "ai_generated": found.ai_generated}


@router.get("/watermarks/{watermark_id}")
def watermark(
    database: Db, caller: Caller, watermark_id: Annotated[str, Path(max_length=8)]
) -> dict[str, Any]:
    """Public: what a watermark id (8 hex digits) was issued for, and its log entry."""
    try:
        value = int(watermark_id, 16)
    except ValueError:
        raise InvalidInput(f"a watermark id is 8 hex digits, got {watermark_id!r}") from None
    record = resolve_watermark(database, value)
    if record is None:
        raise NotFound(f"watermark id {watermark_id} was not issued here")
    return dataclasses.asdict(record)


@router.get("/licensees/{licensee_id}/watermarks")
def licensee_watermarks(
    database: Db, caller: LicenseeOrAuditor, licensee_id: Id
) -> list[dict[str, Any]]:
    """The watermark ids issued for one licensee's outputs (that licensee and auditors)."""
    return [dataclasses.asdict(record) for record in marks_of(database, caller, licensee_id)]
