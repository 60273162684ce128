"""The licensee's console: consent look-up by ISRC, each answer stored and kept at its own
address (the decision id), as over the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sostenuto import consent
from sostenuto.api.deps import Db, role_gate
from sostenuto.api.params import Code, TextId
from sostenuto.auth import Principal
from sostenuto.vocabulary import USES
from sostenuto.web import charts, explain

router = APIRouter(include_in_schema=False)

# Only a licensee asks in its own name (a CMO's or an auditor's answer would be a preview).
Licensee = Annotated[
    Principal, Depends(role_gate("decision.request", does="use a licensee's console"))
]


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, caller: Licensee, database: Db) -> Any:
    from sostenuto.web import templates

    with database.reader() as session:
        decisions = charts.recent_decisions(session, caller, "My consent answers, last 30 days")
    return templates.TemplateResponse(
        request, "console.html", {"uses": USES, "decisions": decisions}
    )


@router.post("/console/decisions")
def look_up(
    caller: Licensee,
    database: Db,
    isrc: Annotated[Code, Form()],
    use: Annotated[Code, Form()],
    territory: Annotated[Code, Form()],
) -> RedirectResponse:
    """Ask for one recording by ISRC; the stored answer gets a shareable address."""
    assert caller.licensee_id is not None  # the role gate admits bound licensee tokens only
    with database.transaction() as session:
        result = consent.decide(
            session,
            caller,
            licensee_id=caller.licensee_id,
            isrc=isrc.strip(),
            use=use,
            territory=territory.strip().upper(),
        )
    return RedirectResponse(f"/console/decisions/{result.id}", status_code=303)


@router.get("/console/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, decision_id: TextId, caller: Licensee, database: Db) -> Any:
    from sostenuto.web import templates

    with database.reader() as session:
        result = consent.get_decision(session, caller, decision_id)
    return templates.TemplateResponse(
        request,
        "console_decision.html",
        {"d": result, "use": explain.use_title(result.use or ""), "uses": USES},
    )
