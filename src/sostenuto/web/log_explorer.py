"""The public log explorer: the latest checkpoint, recent entries, search, each entry with its
inclusion proof, and a form that checks a receipt (pasted or uploaded) against the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from sostenuto.api.deps import AppSettings, Caller, Db
from sostenuto.api.params import LogIndex
from sostenuto.errors import InvalidInput, SostenutoError
from sostenuto.label import check_sha256
from sostenuto.transparency import (
    check_receipt,
    checkpoint,
    parse_receipt,
    proven_entry,
    recent_entries,
    search_log,
    signers,
)
from sostenuto.transparency._receipt_check import MAX_RECEIPT_BYTES

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@router.get("/log", response_class=HTMLResponse)
def explorer(
    request: Request,
    database: Db,
    settings: AppSettings,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    from sostenuto.web import templates

    signed = checkpoint(database, settings)
    names = signers(signed.note)
    with database.reader() as session:
        entries = recent_entries(session, before=before, limit=PAGE_SIZE)
    older = entries[-1].index if entries and entries[-1].index > 0 else None
    return templates.TemplateResponse(
        request,
        "log_explorer.html",
        {
            "signed": signed,
            "log_name": names[0] if names else None,
            "witnesses": names[1:],
            "entries": entries,
            "before": before,
            "older": older,
        },
    )


@router.post("/log/search")
def search(
    request: Request, database: Db, caller: Caller, q: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    from sostenuto.web import templates

    del caller  # resolved so that a signed-in session's CSRF token is checked
    try:
        with database.reader() as session:
            found = search_log(session, q)
    except InvalidInput as error:
        return templates.TemplateResponse(
            request,
            "log_search.html",
            {"query": q, "error": error.message, "entries": []},
            status_code=error.http_status,
        )
    target = (
        f"/log/entries/{found.index}" if found.index is not None else f"/log/hash/{found.query}"
    )
    return RedirectResponse(target, status_code=303)


@router.get("/log/hash/{sha256}", response_class=HTMLResponse)
def by_hash(request: Request, sha256: str, database: Db) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        found = search_log(session, check_sha256(sha256))
    return templates.TemplateResponse(
        request, "log_search.html", {"query": found.query, "entries": found.entries}
    )


@router.get("/log/entries/{index}", response_class=HTMLResponse)
def entry_page(
    request: Request, index: LogIndex, database: Db, settings: AppSettings
) -> HTMLResponse:
    from sostenuto.web import templates

    proven = proven_entry(database, settings, index)
    return templates.TemplateResponse(request, "log_entry.html", {"e": proven})


@router.get("/log/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(request, "log_verify.html", {"result": None})


@router.post("/log/verify", response_class=HTMLResponse)
async def verify_page(
    request: Request,
    database: Db,
    settings: AppSettings,
    caller: Caller,
    receipt: Annotated[str, Form(max_length=MAX_RECEIPT_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    from sostenuto.web import templates

    del caller  # resolved so that a signed-in session's CSRF token is checked
    uploaded = await file.read(MAX_RECEIPT_BYTES + 1) if file is not None and file.filename else b""
    try:
        document = parse_receipt(uploaded or receipt)
    except SostenutoError as error:
        return templates.TemplateResponse(
            request,
            "log_verify.html",
            {"result": None, "error": error.message, "pasted": receipt},
            status_code=error.http_status,
        )
    result = check_receipt(database, settings, document)
    return templates.TemplateResponse(
        request,
        "log_verify.html",
        {"result": result, "pasted": uploaded.decode(errors="replace") or receipt},
    )
