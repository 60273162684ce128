"""Pages: a period's statements and one statement with its "where the money came from" chart,
with its CSV (amounts in major units) and PDF served here, under the browser's session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sostenuto import remuneration
from sostenuto.api.deps import Caller, Db
from sostenuto.api.params import Code, Id
from sostenuto.auth import Principal

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
                "href": f"/remuneration/{period}/{s.party_kind}/{s.party_id}",
                "party": remuneration.party_label(s.document["party"]),
                "totals": [remuneration.format_amount(v, c) for c, v in sorted(s.totals.items())],
                "declared": bool(s.log_entries),
            }
            for s in rows
        ]
    return templates.TemplateResponse(
        request, "remuneration_statements.html", {"period": period, "statements": listed}
    )


def _statement(
    database: Any, caller: Principal, period: str, kind: str, party_id: int
) -> tuple[Any, dict[str, str]]:
    """The statement the caller may read, and the titles of the recordings it names."""
    with database.reader() as session:
        statement = remuneration.get_statement(
            session, caller, period=period, party_kind=kind, party_id=party_id
        )
        return statement, remuneration.recording_titles(session, statement.document)


@router.get("/remuneration/{period}/{kind}/{party_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, period: Code, kind: Code, party_id: Id, database: Db, caller: Caller
) -> HTMLResponse:
    from sostenuto.web import templates

    statement, titles = _statement(database, caller, period, kind, party_id)
    view = remuneration.statement_view(
        statement.document, log_entries=statement.log_entries, titles=titles
    )
    page = f"/remuneration/{period}/{kind}/{party_id}"
    links = {
        "csv": f"{page}/statement.csv",
        "pdf": f"{page}/statement.pdf",
        "json": f"/api/v1/remuneration/statements/{period}/{kind}/{party_id}",
    }
    return templates.TemplateResponse(
        request, "remuneration_statement.html", {"v": view, "links": links}
    )


@router.get("/remuneration/{period}/{kind}/{party_id}/statement.csv")
def statement_csv(period: Code, kind: Code, party_id: Id, database: Db, caller: Caller) -> Response:
    """The statement's lines for a spreadsheet: amounts in major units, titles beside ISRCs."""
    statement, titles = _statement(database, caller, period, kind, party_id)
    name = remuneration.statement_filename(statement.document, "csv")
    return Response(
        remuneration.statement_csv_major(statement.document, titles),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/remuneration/{period}/{kind}/{party_id}/statement.pdf")
def statement_pdf(period: Code, kind: Code, party_id: Id, database: Db, caller: Caller) -> Response:
    statement, titles = _statement(database, caller, period, kind, party_id)
    name = remuneration.statement_filename(statement.document, "pdf")
    return Response(
        remuneration.statement_pdf(statement.document, titles),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
