"""The landing page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto.api.deps import Caller

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    # The links are the navigation the shell builds from the policy table (``nav``).
    return templates.TemplateResponse(request, "home.html", {})
