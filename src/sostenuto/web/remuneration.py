"""Pages: a period's statements and one statement with its "where the money came from" chart."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto import remuneration
from sostenuto.api.deps import Caller, Db
from sostenuto.api.params import Code, Id

router = APIRouter(include_in_schema=False)


@router.get("/remuneration", response_class=HTMLResponse)
def periods_page(request: Request, database: Db) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        periods = remuneration.list_periods(session)
    return templates.TemplateResponse(request, "remuneration_periods.html", {"periods": periods})


@router.get("/remuneration/{period}", response_class=HTMLResponse)
def statements_page(request: Request, period: Code, database: Db, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        rows = remuneration.list_statements(session, caller, period=period)
        listed = [
            {
                "kind": s.party_kind,
                "id": s.party_id,
                "name": s.document["party"].get("name"),
                "totals": [remuneration.format_minor(v, c) for c, v in sorted(s.totals.items())],
                "declared": bool(s.log_entries),
            }
            for s in rows
        ]
    return templates.TemplateResponse(
        request, "remuneration_statements.html", {"period": period, "statements": listed}
    )


@router.get("/remuneration/{period}/{kind}/{party_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, period: Code, kind: Code, party_id: Id, database: Db, caller: Caller
) -> HTMLResponse:
    from sostenuto.web import templates

    with database.reader() as session:
        statement = remuneration.get_statement(
            session, caller, period=period, party_kind=kind, party_id=party_id
        )
        view = remuneration.statement_view(statement.document, log_entries=statement.log_entries)
    api = f"/api/v1/remuneration/statements/{period}/{kind}/{party_id}"
    links = {"json": api, "csv": f"{api}?format=csv"}
    return templates.TemplateResponse(
        request, "remuneration_statement.html", {"v": view, "links": links}
    )
