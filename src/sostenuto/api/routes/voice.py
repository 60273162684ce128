"""Voice endpoints: enrol a performer's voice (CMO admins), screen a file, read reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sostenuto.api.deps import (
    AppSettings,
    CmoAdmin,
    CmoAdminOrAuditor,
    Db,
    LicenseeOrCmoAdmin,
    TenantOrAuditor,
)
from sostenuto.api.params import Code, Id, TextId
from sostenuto.voice import (
    Clip,
    declare_unauthorised,
    enrol_voice,
    get_screening,
    list_screenings,
    list_voiceprints,
    screen_file,
    timeline_svg,
)

router = APIRouter(prefix="/api/v1/voice", tags=["voice"])


@router.post("/performers/{performer_id}/voiceprints", status_code=201)
async def enrol(
    performer_id: Id,
    caller: CmoAdmin,
    database: Db,
    clips: Annotated[list[UploadFile], File(description="Reference recordings of the voice.")],
    accept_short: Annotated[
        bool,
        Form(description="Enrol even with less voice than recommended (the print misses more)."),
    ] = False,
) -> list[dict[str, Any]]:
    """Enrol a performer's voice. Every clip is checked in one pass: a refusal (422) lists
    every problem in its ``details.clips``; a failed enrolment leaves the previous voiceprint
    current."""
    received = [
        Clip(name=c.filename or f"clip-{i}", data=await c.read()) for i, c in enumerate(clips)
    ]
    created = await run_in_threadpool(
        enrol_voice,
        database,
        caller,
        performer_id=performer_id,
        clips=received,
        accept_short=accept_short,
    )
    return [view.as_json() for view in created]


@router.get("/voiceprints")
def voiceprints(
    caller: CmoAdminOrAuditor,
    database: Db,
    performer_id: Id | None = None,
    history: bool = False,
) -> list[dict[str, Any]]:
    """Voiceprints the caller may see (never the embeddings)."""
    with database.reader() as session:
        views = list_voiceprints(
            session, caller, performer_id=performer_id, include_history=history
        )
    return [view.as_json() for view in views]


@router.post("/screenings", status_code=201)
async def screen(
    caller: LicenseeOrCmoAdmin,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="The audio to screen.")],
    licensee_id: Annotated[Id | None, Form()] = None,
    territory: Annotated[Code | None, Form()] = None,
    on_date: Annotated[dt.date | None, Form()] = None,
    declare: Annotated[bool, Form(description="Declare unauthorised voices to the log.")] = False,
) -> dict[str, Any]:
    """Screen a file for enrolled voices and check each one's voice-clone consent."""
    source = Clip(name=file.filename or "upload", data=await file.read())
    report = await run_in_threadpool(
        lambda: screen_file(
            database,
            caller,
            source,
            licensee_id=licensee_id,
            territory=territory,
            on_date=on_date,
            declare_to=settings if declare else None,
        )
    )
    return report.as_json()


@router.get("/screenings")
def screenings(
    caller: TenantOrAuditor, database: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The newest screenings the caller may see."""
    with database.reader() as session:
        return [report.as_json() for report in list_screenings(session, caller, limit=limit)]


@router.get("/screenings/{screening_id}")
def screening(screening_id: TextId, caller: TenantOrAuditor, database: Db) -> dict[str, Any]:
    with database.reader() as session:
        return get_screening(session, caller, screening_id).as_json()


@router.get("/screenings/{screening_id}/timeline.svg", response_class=Response)
def timeline(screening_id: TextId, caller: TenantOrAuditor, database: Db) -> Response:
    """The report's timeline of matches as SVG."""
    with database.reader() as session:
        report = get_screening(session, caller, screening_id)
    return Response(timeline_svg(report), media_type="image/svg+xml")


@router.post("/screenings/{screening_id}/declarations")
def declare(
    screening_id: TextId, caller: LicenseeOrCmoAdmin, database: Db, settings: AppSettings
) -> dict[str, int]:
    """Declare the screening's unauthorised voices to the transparency log."""
    declared = declare_unauthorised(database, settings, caller, screening_id)
    return {str(pid): index for pid, index in declared.items()}
