"""Public pages: the CMOs, and each CMO's reservations in plain words with links to the
machine-readable forms (AIPREF, TDMRep, ODRL, robots.txt)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto import consent, registry
from sostenuto.api.deps import Caller, Db
from sostenuto.api.params import Code

router = APIRouter(include_in_schema=False)


@router.get("/reservations", response_class=HTMLResponse)
def cmos_page(request: Request, database: Db, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        cmos = registry.list_cmos(session, caller)
    return templates.TemplateResponse(request, "reservations_cmos.html", {"cmos": cmos})


@router.get("/reservations/{cmo_code}", response_class=HTMLResponse)
def cmo_page(request: Request, cmo_code: Code, database: Db) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        overview = consent.reservation_overview(session, cmo_code)
    return templates.TemplateResponse(request, "reservations_cmo.html", {"o": overview})
