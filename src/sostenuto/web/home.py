"""The landing page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto.api.deps import Caller

router = APIRouter(include_in_schema=False)

# Pages that capabilities add appear here as (href, text).
LINKS: list[dict[str, str]] = [
    {"href": "/label/inspect", "text": "Inspect a file: is it labelled as AI-generated?"},
    {"href": "/transparency", "text": "Training-content summaries"},
]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(request, "home.html", {"links": LINKS})
