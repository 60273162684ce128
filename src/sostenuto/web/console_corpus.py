"""The licensee's console, by the file: a few audio files screened against the registry's
catalogue with consent decided for each recording found, then declared to the log."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto import identify
from sostenuto.api.deps import AppSettings, Db, role_gate
from sostenuto.api.params import Code, TextId
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput
from sostenuto.transparency import inclusion_bundle
from sostenuto.vocabulary import USES

router = APIRouter(include_in_schema=False)

Screener = Annotated[
    Principal,
    Depends(role_gate("identify.screen-corpus", does="screen files in a licensee's name")),
]


def _form(
    request: Request, error: str = "", status: int = 200, values: dict[str, str] | None = None
) -> Response:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request,
        "console_corpus.html",
        {
            "uses": USES,
            "error": error,
            "values": values or {},
            "max_files": identify.MAX_UPLOAD_FILES,
            "accept": ",".join(identify.UPLOAD_SUFFIXES),
        },
        status_code=status,
    )


@router.get("/console/corpus", response_class=HTMLResponse)
def corpus_form(request: Request, caller: Screener) -> Response:
    return _form(request)


@router.post("/console/corpus", response_model=None)
async def corpus_post(
    request: Request,
    caller: Screener,
    database: Db,
    settings: AppSettings,
    files: Annotated[list[UploadFile], File()],
    use: Annotated[Code, Form()],
    territory: Annotated[Code, Form()],
) -> Response:
    """Keep the files and start screening them; the job page follows its progress."""
    values = {"use": use, "territory": territory}
    uploads: list[tuple[str, bytes]] = []
    for upload in files[: identify.MAX_UPLOAD_FILES + 1]:
        content = await upload.read(identify.MAX_UPLOAD_BYTES + 1)
        if upload.filename or content:  # a form sent with no file chosen holds one empty part
            uploads.append((upload.filename or "file", content))
    try:
        job = identify.start_upload_screening(
            database,
            settings,
            caller,
            files=uploads,
            use=use,
            territory=territory.strip().upper(),
        )
    except InvalidInput as error:
        return _form(request, error.message, error.http_status, values)
    return RedirectResponse(f"/console/corpus/{job.job_id}", status_code=303)


@router.get("/console/corpus/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: TextId, caller: Screener, settings: AppSettings) -> Any:
    from sostenuto.web import templates

    job = identify.get_upload_job(settings, caller, job_id)
    report = identify.upload_report(settings, caller, job) if job.state == "done" else None
    return templates.TemplateResponse(
        request,
        "console_corpus_job.html",
        {"job": job, "report": report, "use": USES[job.use].title if job.use in USES else job.use},
    )


@router.get("/console/corpus/{job_id}/progress")
def job_progress(job_id: TextId, caller: Screener, settings: AppSettings) -> Response:
    """The job's state for the page's script (the page itself refreshes without it)."""
    job = identify.get_upload_job(settings, caller, job_id)
    body = {"state": job.state, "done": job.done, "total": job.total}
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/console/corpus/{job_id}/declare")
def declare(job_id: TextId, caller: Screener, database: Db, settings: AppSettings) -> Response:
    """Declare the permitted files to the log; the page then shows the receipt."""
    identify.declare_upload(database, settings, caller, job_id)
    return RedirectResponse(f"/console/corpus/{job_id}#receipt", status_code=303)


@router.get("/console/corpus/{job_id}/receipt.json")
def receipt(job_id: TextId, caller: Screener, database: Db, settings: AppSettings) -> Response:
    """The declaration's inclusion receipt, to keep and verify offline."""
    job = identify.get_upload_job(settings, caller, job_id)
    if job.declaration is None:
        raise InvalidInput(f"screening job {job_id} has not been declared yet")
    bundle = inclusion_bundle(database, int(job.declaration["index"]))
    return Response(
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{job_id}-'
            f'{job.declaration["index"]}.json"'
        },
    )
