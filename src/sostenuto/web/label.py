"""The inspect page: upload a file, read in plain words how it is labelled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse

from sostenuto.api.deps import AppSettings, Db
from sostenuto.errors import SostenutoError
from sostenuto.label import inspect_upload

router = APIRouter(include_in_schema=False)


@router.get("/label/inspect", response_class=HTMLResponse)
def inspect_form(request: Request) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(request, "label_inspect.html", {"found": None})


@router.post("/label/inspect", response_class=HTMLResponse)
async def inspect_page(
    request: Request,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    from sostenuto.web import templates

    name = file.filename or "upload"
    try:
        found = inspect_upload(database, settings, await file.read(), name)
    except SostenutoError as error:
        return templates.TemplateResponse(
            request,
            "label_inspect.html",
            {"found": None, "error": error.message, "name": name},
            status_code=error.http_status,
        )
    return templates.TemplateResponse(request, "label_inspect.html", {"found": found, "name": name})
