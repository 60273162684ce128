"""Pages: corpus screenings a caller may see, and one screening's report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from sostenuto.api.deps import AppSettings, Caller
from sostenuto.api.params import TextId
from sostenuto.identify import get_screen_report, list_screen_reports, report_body_html
from sostenuto.web.plots import screening_chart

router = APIRouter(include_in_schema=False)


@router.get("/identify/screens", response_class=HTMLResponse)
def screens_page(request: Request, settings: AppSettings, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    reports = list_screen_reports(settings, caller)
    return templates.TemplateResponse(request, "identify_screens.html", {"reports": reports})


@router.get("/identify/screens/{screen_id}", response_class=HTMLResponse)
def screen_page(
    request: Request, screen_id: TextId, settings: AppSettings, caller: Caller
) -> HTMLResponse:
    from sostenuto.web import templates

    report = get_screen_report(settings, caller, screen_id)
    # The body is rendered by the identify package with autoescaping, so it is safe to inline.
    body = Markup(report_body_html(report))
    outcomes = screening_chart(report.get("summary") or {})
    return templates.TemplateResponse(
        request, "identify_screen.html", {"report": report, "body": body, "outcomes": outcomes}
    )
