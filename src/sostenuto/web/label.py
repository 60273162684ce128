"""The inspect page: upload a file, read in plain words how it is labelled, at an address
(``/label/inspect/<sha256>``) that anyone can share and embed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from sostenuto.api.deps import AppSettings, Caller, Db
from sostenuto.errors import SostenutoError
from sostenuto.label import inspect_and_keep, public_record
from sostenuto.web.embed import EMBED_HEIGHT, EMBED_WIDTH

router = APIRouter(include_in_schema=False)


@router.get("/label/inspect", response_class=HTMLResponse)
def inspect_form(request: Request) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(request, "label_inspect.html", {"found": None})


@router.post("/label/inspect")
async def inspect_page(
    request: Request,
    database: Db,
    settings: AppSettings,
    caller: Caller,
    file: Annotated[UploadFile, File()],
) -> Response:
    from sostenuto.web import templates

    del caller  # resolved so that a signed-in session's CSRF token is checked
    name = file.filename or "upload"
    try:
        sha256, _ = inspect_and_keep(database, settings, await file.read(), name)
    except SostenutoError as error:
        return templates.TemplateResponse(
            request,
            "label_inspect.html",
            {"found": None, "error": error.message, "name": name},
            status_code=error.http_status,
        )
    return RedirectResponse(f"/label/inspect/{sha256}", status_code=303)


@router.get("/label/inspect/{sha256}", response_class=HTMLResponse)
def inspection_page(
    request: Request, sha256: str, database: Db, settings: AppSettings
) -> HTMLResponse:
    from sostenuto.web import templates

    record = public_record(database, settings, sha256)
    base = str(request.base_url).rstrip("/")
    return templates.TemplateResponse(
        request,
        "label_inspect.html",
        {
            "record": record,
            "found": record.inspection,
            "declared": record.declaration,
            "page_url": f"{base}/label/inspect/{record.sha256}",
            "embed_url": f"{base}/embed/label/{record.sha256}",
            "embed_width": EMBED_WIDTH,
            "embed_height": EMBED_HEIGHT,
        },
    )
