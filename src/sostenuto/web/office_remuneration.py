"""The office's remuneration: the CMO's tariffs, the distributed periods with the CMO's own
money in each, each period's statements (the statement pages), and the form that runs an
ended period's distribution from the transparency log.

A distribution covers every CMO's licences at once, so the form says so before the admin
confirms. ``remuneration.run_period`` decides who may run what (policy action
``remuneration.run-from-log``: an ended period, from the log, never replacing a run); a run
from a usage file and a correction stay the operator's (``sostenuto remuneration run``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto import registry, remuneration
from sostenuto.api.deps import AppSettings, Db, RunStarter, role_gate
from sostenuto.api.params import Code
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, InvalidInput

router = APIRouter(include_in_schema=False)

# Only a CMO's admin: the role that sets its tariffs and distribution weights.
CmoTreasurer = Annotated[
    Principal,
    Depends(role_gate("tariff.add", "distribution-rule.set", does="use a CMO's remuneration")),
]
# The CMO's figures of a run, in the order the page shows them.
RUN_FIGURES = (
    ("collected_minor", "Collected"),
    ("paid_to_members_minor", "Paid to members"),
    ("forwarded_minor", "Forwarded to partner CMOs"),
    ("received_minor", "Received from partner CMOs"),
    ("admin_fees_minor", "Administration fees"),
    ("held_minor", "Held until claimed"),
)


def _tariffs(session: Any, caller: Principal) -> list[dict[str, Any]]:
    licences = {x.id: x for x in registry.list_licences(session, caller, cmo_id=caller.cmo_id)}
    licensees = {x.id: x.name for x in registry.list_licensees(session, caller)}
    rows = []
    for tariff in remuneration.list_tariffs(session, caller):
        licence = licences.get(tariff.licence_id)
        if licence is None:  # another CMO's licence: its tariffs are not this office's
            continue
        money = remuneration.format_amount
        rows.append(
            {
                "licence": licence,
                "licensee": licensees.get(licence.licensee_id, f"licensee {licence.licensee_id}"),
                "currency": tariff.currency,
                "training_fee": money(tariff.training_fee_minor, tariff.currency),
                "bands": len(tariff.training_bands),
                "revenue_share": f"{tariff.revenue_share_bp / 100:g} %",
                "minimum": money(tariff.revenue_minimum_minor, tariff.currency),
                "per_output": money(tariff.per_output_minor, tariff.currency),
                "valid_from": tariff.valid_from,
                "valid_to": tariff.valid_to,
            }
        )
    return rows


def _runs(session: Any, caller: Principal) -> list[dict[str, Any]]:
    runs = []
    for period in remuneration.list_periods(session):
        run = remuneration.get_run(session, caller, period)
        currencies = run.summary.get("currencies", {})
        runs.append(
            {
                "period": run.period,
                "id": run.id,
                "created_at": run.created_at,
                "sha256": run.result_sha256,
                "figures": [
                    {
                        "currency": currency,
                        "cells": [
                            remuneration.format_amount(int(figures.get(key, 0)), currency)
                            for key, _ in RUN_FIGURES
                        ],
                    }
                    for currency, figures in sorted(currencies.items())
                ],
                "statements": len(remuneration.list_statements(session, caller, period=period)),
            }
        )
    return runs


def _page(
    request: Request,
    caller: Principal,
    database: Any,
    *,
    period: str | None = None,
    ran: str | None = None,
    outcome: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    from sostenuto.web import templates

    with database.reader() as session:
        context = {
            "tariffs": _tariffs(session, caller),
            "runs": _runs(session, caller),
            "figures": [heading for _, heading in RUN_FIGURES],
            "run_period": period or remuneration.last_ended_quarter(dt.datetime.now(dt.UTC).date()),
            "ran": ran,
            "outcome": outcome,
            "run_error": error,
        }
    return templates.TemplateResponse(request, "office_runs.html", context, status_code=status)


@router.get("/office/remuneration", response_class=HTMLResponse)
def remuneration_page(
    request: Request,
    caller: CmoTreasurer,
    database: Db,
    ran: Code | None = None,
    outcome: Literal["created", "unchanged"] | None = None,
) -> Any:
    # ``ran`` names a period to show as just run; only a period with a stored run is named.
    with database.reader() as session:
        shown = ran if ran in remuneration.list_periods(session) else None
    return _page(request, caller, database, ran=shown, outcome=outcome if shown else None)


@router.post("/office/remuneration/runs", response_model=None)
def run_distribution(
    request: Request,
    caller: RunStarter,
    database: Db,
    settings: AppSettings,
    period: Annotated[Code, Form()],
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    """Run the period from the log (the service refuses an open period, a changed one and
    every role but a CMO's admin), then show it; a refusal is shown beside the form."""
    if confirm != "yes":
        return _page(
            request,
            caller,
            database,
            period=period,
            error="Tick the box to confirm that you mean to distribute every CMO's money for "
            f"{period}, then send the form again.",
            status=422,
        )
    try:
        result = remuneration.run_period(database, settings, caller, period)
    except (InvalidInput, Conflict) as refused:
        return _page(
            request,
            caller,
            database,
            period=period,
            error=refused.message,
            status=refused.http_status,
        )
    outcome = "created" if result.created else "unchanged"
    return RedirectResponse(
        f"/office/remuneration?ran={result.period}&outcome={outcome}#run-{result.period}",
        status_code=303,
    )
