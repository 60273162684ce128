"""Pages: the voice screenings a caller may see, and one file's timeline of voice matches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from sostenuto.api.deps import Caller, Db
from sostenuto.api.params import TextId
from sostenuto.voice import get_screening, list_screenings, timeline_svg

router = APIRouter(include_in_schema=False)


@router.get("/voice/screenings", response_class=HTMLResponse)
def screenings_page(request: Request, database: Db, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        reports = list_screenings(session, caller)
    return templates.TemplateResponse(request, "voice_screenings.html", {"reports": reports})


@router.get("/voice/screenings/{screening_id}", response_class=HTMLResponse)
def screening_page(
    request: Request, screening_id: TextId, database: Db, caller: Caller
) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        report = get_screening(session, caller, screening_id)
    # The SVG is built from escaped values by the voice package, so it is safe to inline.
    svg = Markup(timeline_svg(report))
    return templates.TemplateResponse(request, "voice_screening.html", {"r": report, "svg": svg})
