"""The CMO office: a dashboard, the catalogue with search and keyset paging, and the
performers' requests to apply or decline (their consequence said before confirming)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sostenuto import consent, declarations, registry, voice
from sostenuto.api.deps import AppSettings, Db, role_gate
from sostenuto.api.params import Code, Cursor, Id, Note, PageSize, Title
from sostenuto.auth import Principal
from sostenuto.web import charts, explain

router = APIRouter(include_in_schema=False)

# Only a CMO's admin: the role that decides performers' requests and keeps the catalogue.
CmoOffice = Annotated[
    Principal, Depends(role_gate("consent-request.decide", does="use a CMO's office"))
]
CATALOGUE_PAGE = 25
# The dashboard counts members and recordings up to this many, then says "more than".
COUNT_UP_TO = 1000
# The dashboard's alert windows: denials of the past week, reservations of the past month.
DENIED_DAYS = 7
NARROWING_DAYS = 30


def _cmo_name(session: Any, caller: Principal) -> str:
    cmos = registry.list_cmos(session, caller)
    return next((c.name for c in cmos if c.id == caller.cmo_id), f"CMO {caller.cmo_id}")


def _alerts(session: Any, caller: Principal, cmo_id: int) -> dict[str, Any]:
    """What may need the office's action, each from its own service, scoped to the caller."""
    last = dt.datetime.now(dt.UTC).date()
    counts = consent.decision_counts(
        session, caller, first=last - dt.timedelta(days=DENIED_DAYS - 1), last=last
    )
    code = next((c.code for c in registry.list_cmos(session, caller) if c.id == cmo_id), None)
    return {
        "voices": voice.unauthorised_voices(session, caller),
        "denied": sum(denied for _, denied in counts.values()),
        "denied_days": DENIED_DAYS,
        "narrowing": declarations.recent_narrowing_changes(
            session, caller, cmo_id, days=NARROWING_DAYS
        ),
        "narrowing_days": NARROWING_DAYS,
        "cmo_code": code,
    }


@router.get("/office", response_class=HTMLResponse)
def dashboard(request: Request, caller: CmoOffice, database: Db) -> Any:
    from sostenuto.web import templates

    today = dt.date.today()
    cmo_id = caller.cmo_id
    assert cmo_id is not None  # the role gate admits bound CMO admin tokens only
    with database.reader() as session:
        members = registry.count_members(session, caller, cmo_id, today, up_to=COUNT_UP_TO)
        recordings = registry.count_recordings(session, caller, cmo_id, up_to=COUNT_UP_TO)
        counts = {
            "members": min(members, COUNT_UP_TO),
            "members_more": members > COUNT_UP_TO,
            "recordings": min(recordings, COUNT_UP_TO),
            "recordings_more": recordings > COUNT_UP_TO,
            "licences": len(registry.list_licences(session, caller)),
            "pending": len(consent.list_requests(session, caller, status="pending")),
        }
        name = _cmo_name(session, caller)
        decisions = charts.recent_decisions(
            session, caller, "Consent decisions on our repertoire, last 30 days"
        )
        alerts = _alerts(session, caller, cmo_id)
    return templates.TemplateResponse(
        request,
        "office_dashboard.html",
        {"counts": counts, "cmo_name": name, "decisions": decisions, "alerts": alerts},
    )


@router.get("/office/catalogue", response_class=HTMLResponse)
def catalogue(
    request: Request,
    caller: CmoOffice,
    database: Db,
    title: Title | None = None,
    isrc: Code | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = CATALOGUE_PAGE,
) -> Any:
    from sostenuto.web import templates

    title = (title or "").strip() or None
    isrc = (isrc or "").strip() or None
    with database.reader() as session:
        page = registry.search_recordings(
            session,
            caller,
            cmo_id=caller.cmo_id,
            title_prefix=title,
            isrc=isrc,
            cursor=cursor or None,
            limit=limit,
        )
    return templates.TemplateResponse(
        request,
        "office_catalogue.html",
        {
            "page": page,
            "title": title or "",
            "isrc": isrc or "",
            "first": not cursor,
            "limit": limit,
        },
    )


@router.get("/office/requests", response_class=HTMLResponse)
def requests_page(
    request: Request,
    caller: CmoOffice,
    database: Db,
    applied: Id | None = None,
    declined: Id | None = None,
) -> Any:
    from sostenuto.web import templates

    with database.reader() as session:
        listed = consent.list_requests(session, caller, limit=200)
    rows = [(r.status, {"r": r, "text": explain.request_sentence(r)}) for r in listed]
    pending = [row for status, row in rows if status == "pending"]
    decided = [row for status, row in rows if status != "pending"]
    return templates.TemplateResponse(
        request,
        "office_requests.html",
        {
            "pending": pending,
            "decided": decided,
            "applied": applied,
            "declined": declined,
        },
    )


@router.get("/office/requests/{request_id}", response_class=HTMLResponse)
def review_page(request: Request, request_id: Id, caller: CmoOffice, database: Db) -> Any:
    """One request, with what applying it does, before the admin confirms."""
    from sostenuto.web import templates

    with database.reader() as session:
        asked = consent.get_request(session, caller, request_id)
        name = _cmo_name(session, caller)
    return templates.TemplateResponse(
        request,
        "office_request.html",
        {
            "r": asked,
            "text": explain.request_sentence(asked),
            "consequence": explain.consequence(asked, name),
        },
    )


@router.post("/office/requests/{request_id}/apply")
def apply(
    request_id: Id,
    caller: CmoOffice,
    database: Db,
    settings: AppSettings,
    note: Annotated[Note | None, Form()] = None,
) -> RedirectResponse:
    """Apply: the CMO's rule is made (or lifted) and declared in the log, as over the API."""
    with database.transaction() as session:
        _, rule = consent.apply_request(session, caller, request_id, note=note or None)
    declarations.publish_rule_change(database, settings, caller, rule)
    return RedirectResponse(f"/office/requests?applied={request_id}", status_code=303)


@router.post("/office/requests/{request_id}/decline")
def decline(
    request_id: Id, caller: CmoOffice, database: Db, reason: Annotated[Note, Form()]
) -> RedirectResponse:
    with database.transaction() as session:
        consent.decline_request(session, caller, request_id, reason=reason)
    return RedirectResponse(f"/office/requests?declined={request_id}", status_code=303)
