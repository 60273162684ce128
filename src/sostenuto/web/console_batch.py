"""The licensee's console, by the list: a CSV of ISRCs decided line by line, the answers kept
at their own address, shown a page at a time and downloadable as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto import consent
from sostenuto.api.deps import AppSettings, Db
from sostenuto.api.params import Code, TextId
from sostenuto.errors import InvalidInput
from sostenuto.vocabulary import USES
from sostenuto.web.console import Licensee

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_CSV_BYTES = 2 * 1024 * 1024  # 10 000 lines of ISRCs with room for a few more columns
# Cells a spreadsheet would run as a formula are written with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _form(
    request: Request, error: str = "", status: int = 200, values: dict[str, str] | None = None
) -> Response:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request,
        "console_batch.html",
        {
            "uses": USES,
            "error": error,
            "values": values or {},
            "max_lines": consent.MAX_LOOKUP_LINES,
        },
        status_code=status,
    )


@router.get("/console/batch", response_class=HTMLResponse)
def batch_form(request: Request, caller: Licensee) -> Response:
    return _form(request)


@router.post("/console/batch", response_model=None)
async def batch_post(
    request: Request,
    caller: Licensee,
    database: Db,
    settings: AppSettings,
    file: Annotated[UploadFile, File()],
    use: Annotated[Code, Form()],
    territory: Annotated[Code, Form()],
    on_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Decide every line of the uploaded CSV; the answers get a shareable address."""
    values = {"use": use, "territory": territory, "on_date": on_date}
    content = await file.read(MAX_CSV_BYTES + 1)
    try:
        if len(content) > MAX_CSV_BYTES:
            raise InvalidInput(f"the CSV is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
        try:
            day = dt.date.fromisoformat(on_date) if on_date.strip() else None
        except ValueError as error:
            raise InvalidInput(f"the date {on_date!r} is not a date (YYYY-MM-DD)") from error
        lookup = consent.look_up_isrcs(
            database,
            settings,
            caller,
            values=consent.parse_isrc_csv(content),
            use=use,
            territory=territory.strip().upper(),
            on_date=day,
            filename=file.filename or "isrcs.csv",
        )
    except InvalidInput as error:
        return _form(request, error.message, error.http_status, values)
    return RedirectResponse(f"/console/batch/{lookup.lookup_id}", status_code=303)


@router.get("/console/batch/{lookup_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    lookup_id: TextId,
    caller: Licensee,
    settings: AppSettings,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    from sostenuto.web import templates

    lookup = consent.get_isrc_lookup(settings, caller, lookup_id)
    summary = lookup.summary
    status = status if status in summary else ""  # the statuses are the summary's keys
    shown = [line for line in lookup.lines if not status or line.status == status]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return templates.TemplateResponse(
        request,
        "console_batch_result.html",
        {
            "lookup": lookup,
            "use": USES[lookup.use].title if lookup.use in USES else lookup.use,
            "summary": summary,
            "lines": shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            "page": page,
            "pages": pages,
            "status": status,
            "shown": len(shown),
        },
    )


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


@router.get("/console/batch/{lookup_id}/results.csv")
def batch_csv(lookup_id: TextId, caller: Licensee, settings: AppSettings) -> Response:
    """Every line's answer as CSV, in the order of the uploaded file."""
    lookup = consent.get_isrc_lookup(settings, caller, lookup_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "isrc", "decision", "decision_id", "reason"])
    for line in lookup.lines:
        writer.writerow(
            [
                line.line,
                _cell(line.isrc or line.value),
                line.status,
                line.decision_id or "",
                _cell(line.reason),
            ]
        )
    name = f"consent-{lookup.use}-{lookup.territory}-{lookup.on_date}-{lookup.lookup_id}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
