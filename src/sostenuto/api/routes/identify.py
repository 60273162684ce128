"""Identification endpoints: screen a generated output, read corpus screening reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from sostenuto.api.deps import AppSettings, Db, LicenseeOrAuditor, TenantOrAuditor
from sostenuto.api.params import TextId
from sostenuto.identify import (
    active_threshold,
    catalogue_stats,
    check_output,
    get_screen_report,
    list_screen_reports,
)

router = APIRouter(prefix="/api/v1/identify", tags=["identify"])


@router.post("/check-output")
async def check_output_route(
    caller: TenantOrAuditor,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="A generated audio file.")],
    threshold: Annotated[float | None, Query(ge=0, le=1000)] = None,
) -> dict[str, Any]:
    """Registered recordings reproduced in the upload, with offsets in both files.

    Without ``threshold``, the catalogue's calibrated threshold (else the default) applies.
    """
    data = await file.read()
    report = await run_in_threadpool(
        check_output, database, settings, caller, data, threshold=threshold
    )
    return report.as_dict()


@router.get("/screens")
def screens(caller: LicenseeOrAuditor, settings: AppSettings) -> list[dict[str, Any]]:
    """Corpus screenings the caller may see (a licensee sees its own)."""
    return list_screen_reports(settings, caller)


@router.get("/screens/{screen_id}")
def screen(screen_id: TextId, caller: LicenseeOrAuditor, settings: AppSettings) -> dict[str, Any]:
    """One corpus screening report: permitted, denied (with why) and unregistered files."""
    return get_screen_report(settings, caller, screen_id)


@router.get("/index")
def index(caller: TenantOrAuditor, settings: AppSettings) -> dict[str, Any]:
    """Size of the catalogue index (tracks, hours, bytes per hour of audio) and the match
    threshold in force (calibrated on the catalogue, or the default)."""
    caller.require("cmo-admin", "auditor", "licensee")
    stats = catalogue_stats(settings)
    return {
        "tracks": stats.tracks,
        "hours": round(stats.hours, 3),
        "segments": stats.segments,
        "postings": stats.postings,
        "disk_bytes": stats.disk_bytes,
        "bytes_per_hour": round(stats.bytes_per_hour),
        "threshold": active_threshold(settings).as_dict(),
    }
