"""The office's catalogue import: upload a CSV, watch it run, read and download the bad rows.

The import is the service the API's ``registry.catalogue.import`` and ``sostenuto registry
import`` call, into the admin's own CMO only; it runs in a background job (``import_jobs``)
whose page refreshes itself until the report is in.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sostenuto.api.deps import Db, role_gate
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput
from sostenuto.web.import_jobs import JOB_ID_PATTERN, ImportJobs

router = APIRouter(include_in_schema=False)

# The role that imports into its own CMO's catalogue (the API's gate for imports).
Importer = Annotated[
    Principal, Depends(role_gate("catalogue.import", does="import a CMO's catalogue"))
]
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN)]
MAX_UPLOAD = 512 * 1024 * 1024  # bytes; larger catalogues go through the CLI
_COPY_BLOCK = 1024 * 1024


def _jobs(request: Request) -> ImportJobs:
    """The application's import jobs, made on first use."""
    state = request.app.state
    if not hasattr(state, "import_jobs"):
        state.import_jobs = ImportJobs()
    jobs: ImportJobs = state.import_jobs
    return jobs


def _save(upload: UploadFile) -> FilePath:
    """The upload in a folder of its own (the job deletes it), refused when empty or too big."""
    if not upload.filename:
        raise InvalidInput("choose a catalogue CSV file to upload", details={"field": "file"})
    folder = FilePath(tempfile.mkdtemp(prefix="sostenuto-office-import-"))
    path = folder / "catalogue.csv"
    written = 0
    with path.open("wb") as handle:
        while block := upload.file.read(_COPY_BLOCK):
            written += len(block)
            if written > MAX_UPLOAD:
                handle.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise InvalidInput(
                    f"the file is larger than {MAX_UPLOAD // 2**20} MiB; import it with "
                    "'sostenuto registry import'",
                    details={"field": "file"},
                )
            handle.write(block)
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInput(f"{upload.filename} is empty", details={"field": "file"})
    return path


@router.get("/office/import", response_class=HTMLResponse)
def import_page(request: Request, caller: Importer) -> Any:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request, "office_import.html", {"jobs": _jobs(request).of_cmo(caller)[:10]}
    )


@router.post("/office/import")
def start_import(
    request: Request,
    caller: Importer,
    database: Db,
    file: Annotated[UploadFile, File(description="A catalogue CSV.")],
) -> RedirectResponse:
    """Save the upload and start its import; the job's page follows it."""
    path = _save(file)
    job = _jobs(request).start(database, caller, path, FilePath(file.filename or "").name)
    return RedirectResponse(f"/office/import/{job.id}", status_code=303)


@router.get("/office/import/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: JobId, caller: Importer) -> Any:
    from sostenuto.web import templates

    job = _jobs(request).get(caller, job_id)
    return templates.TemplateResponse(request, "office_import_job.html", {"job": job})


@router.get("/office/import/{job_id}/status")
def job_status(request: Request, job_id: JobId, caller: Importer) -> JSONResponse:
    """The job's state for the page's progress poll."""
    return JSONResponse(_jobs(request).get(caller, job_id).status())


@router.get("/office/import/{job_id}/bad-rows.csv")
def bad_rows(request: Request, job_id: JobId, caller: Importer) -> Response:
    job = _jobs(request).get(caller, job_id)
    if job.report is None:
        raise InvalidInput(f"import {job_id} has no report yet")
    # A name safe in a header, whatever the uploaded file was called.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", FilePath(job.filename).stem)[:80] or "catalogue"
    return Response(
        job.bad_rows_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-bad-rows.csv"'},
    )
