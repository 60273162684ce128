"""The licensee's console, by the output: a generated audio file labelled (metadata tags,
C2PA manifest, watermark) and declared to the transparency log, as ``label.apply`` does over
the API; then the labelled file to download with its watermark id and log receipt. And the
licensee's declarations in the log, newest first.

The labelled file is kept under the data directory (``label/outputs/<id>/``) so that the
result page and its download have an address; only the licensee that labelled it may read it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto import registry
from sostenuto.api.deps import AppSettings, Db, role_gate
from sostenuto.api.params import Id, TextId
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput, NotFound, SostenutoError
from sostenuto.label import label_upload
from sostenuto.settings import Settings
from sostenuto.transparency import inclusion_bundle, recent_entries

router = APIRouter(include_in_schema=False)

Labeller = Annotated[
    Principal, Depends(role_gate("label.apply", does="label outputs in a licensee's name"))
]
# The media types of the formats the labeller writes (as the API answers them).
MEDIA_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg-vorbis": "audio/ogg",
    "ogg-opus": "audio/ogg",
    "mp4": "audio/mp4",
}
RECEIPTS_PER_PAGE = 25
_OUTPUT_ID = re.compile(r"[0-9a-f]{16}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _folder(settings: Settings, output_id: str) -> Path:
    return settings.data_dir / "label" / "outputs" / output_id


def _keep(settings: Settings, data: bytes, record: dict[str, Any]) -> str:
    """Keep a labelled file and what the page says of it; its new output id."""
    output_id = secrets.token_hex(8)
    folder = _folder(settings, output_id)
    folder.mkdir(parents=True, mode=0o700)
    (folder / "labelled").write_bytes(data)
    (folder / "record.json").write_bytes(orjson.dumps(record))
    return output_id


def _kept(settings: Settings, caller: Principal, output_id: str) -> dict[str, Any]:
    """A kept output's record, for the licensee that labelled it only (others: not found)."""
    path = _folder(settings, output_id) / "record.json"
    if not _OUTPUT_ID.fullmatch(output_id) or not path.is_file():
        raise NotFound(f"no labelled output {output_id}")
    record: dict[str, Any] = orjson.loads(path.read_bytes())
    if record["licensee_id"] != caller.licensee_id:
        raise NotFound(f"no labelled output {output_id}")
    return record


def _models(database: Db, caller: Principal) -> list[Any]:
    assert caller.licensee_id is not None  # the role gate admits bound licensee tokens only
    with database.reader() as session:
        return list(registry.list_models(session, caller, licensee_id=caller.licensee_id))


def _form(
    request: Request,
    database: Db,
    caller: Principal,
    error: str = "",
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request,
        "console_outputs.html",
        {"models": _models(database, caller), "error": error, "values": values or {}},
        status_code=status,
    )


@router.get("/console/outputs", response_class=HTMLResponse)
def outputs_form(request: Request, caller: Labeller, database: Db) -> Response:
    return _form(request, database, caller)


@router.post("/console/outputs", response_model=None)
async def label_post(
    request: Request,
    caller: Labeller,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File()],
    model_id: Annotated[Id, Form()],
    composite: Annotated[bool, Form()] = False,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Label and declare the file once the licensee has confirmed the public declaration."""
    values = {"model_id": str(model_id), "composite": "yes" if composite else ""}
    if confirm != "yes":
        return _form(
            request,
            database,
            caller,
            "Confirm that the output is to be declared in the public log.",
            422,
            values,
        )
    assert caller.licensee_id is not None
    name = Path(file.filename or "output").name
    try:
        data, result, mark = label_upload(
            database,
            settings,
            caller,
            await file.read(),
            name,
            licensee_id=caller.licensee_id,
            model_id=model_id,
            source_type=(
                "compositeWithTrainedAlgorithmicMedia" if composite else "trainedAlgorithmicMedia"
            ),
        )
    except SostenutoError as error:
        return _form(request, database, caller, error.message, error.http_status, values)
    output_id = _keep(
        settings,
        data,
        {
            "licensee_id": caller.licensee_id,
            "filename": _UNSAFE.sub("_", name) or "output",
            "file_format": result.file_format,
            "layers": list(result.layers),
            "watermark_id": f"{mark.watermark_id:08x}",
            "model": mark.model,
            "source_type": mark.source_type,
            "log_entry_id": mark.log_entry_id,
            "log_index": mark.log_index,
            "created_at": mark.created_at,
        },
    )
    return RedirectResponse(f"/console/outputs/{output_id}", status_code=303)


@router.get("/console/outputs/{output_id}", response_class=HTMLResponse)
def output_page(
    request: Request, output_id: TextId, caller: Labeller, settings: AppSettings
) -> Any:
    from sostenuto.web import templates

    record = _kept(settings, caller, output_id)
    return templates.TemplateResponse(
        request, "console_outputs_result.html", {"output_id": output_id, "r": record}
    )


@router.get("/console/outputs/{output_id}/file")
def labelled_file(output_id: TextId, caller: Labeller, settings: AppSettings) -> Response:
    """The labelled file, as a download under the name it was uploaded with."""
    record = _kept(settings, caller, output_id)
    data = (_folder(settings, output_id) / "labelled").read_bytes()
    return Response(
        data,
        media_type=MEDIA_TYPES.get(record["file_format"], "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="labelled-{record["filename"]}"'},
    )


@router.get("/console/outputs/{output_id}/receipt.json")
def receipt(output_id: TextId, caller: Labeller, database: Db, settings: AppSettings) -> Response:
    """The output declaration's inclusion receipt, to keep and verify offline."""
    record = _kept(settings, caller, output_id)
    if record["log_index"] is None:
        raise InvalidInput(f"labelled output {output_id} was not declared to the log")
    bundle = inclusion_bundle(database, int(record["log_index"]))
    return Response(
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{output_id}-'
            f'{record["log_index"]}.json"'
        },
    )


@router.get("/console/receipts", response_class=HTMLResponse)
def receipts(
    request: Request,
    caller: Labeller,
    database: Db,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    """The licensee's entries in the log, newest first, a page at a time (by log index)."""
    from sostenuto.web import templates

    limit = RECEIPTS_PER_PAGE
    with database.reader() as session:
        entries = recent_entries(
            session, before=before, limit=limit + 1, licensee_id=caller.licensee_id
        )
    more = len(entries) > limit
    entries = entries[:limit]
    return templates.TemplateResponse(
        request,
        "console_outputs_receipts.html",
        {"entries": entries, "next_before": entries[-1].index if more else None},
    )
