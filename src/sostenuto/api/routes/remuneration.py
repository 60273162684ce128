"""Remuneration over HTTP: tariffs, rules, revenue reports, runs, statements, held claims.

A CMO's admin may run an ended period from the transparency log (``POST /runs``); a run
from a usage file and a correction stay the operator's (``sostenuto remuneration run``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from sostenuto import remuneration
from sostenuto.api.deps import (
    AppSettings,
    Caller,
    CmoAdmin,
    Db,
    LicenseeOrCmoAdmin,
    RunStarter,
    SignedIn,
)
from sostenuto.api.params import Code, Count, Id, Minor
from sostenuto.storage.models.remuneration import Statement

router = APIRouter(prefix="/api/v1/remuneration", tags=["remuneration"])


class BandModel(BaseModel):
    fee_minor: Minor
    max_recordings: Count | None = None
    max_revenue_minor: Minor | None = None


class TariffRequest(BaseModel):
    licence_id: Id
    currency: Code = Field(examples=["SEK"])
    valid_from: dt.date
    valid_to: dt.date | None = None
    training_fee_minor: Minor = 0
    training_bands: list[BandModel] = Field(default=[], max_length=64)
    revenue_share_bp: Count = Field(default=0, description="1/10 000ths of revenue: 500 = 5 %")
    revenue_minimum_minor: Minor = 0
    per_output_minor: Minor = 0


class RuleRequest(BaseModel):
    featured_weight: Count
    non_featured_weight: Count


class RevenueReportRequest(BaseModel):
    licence_id: Id
    period: Code = Field(examples=["2026-Q3"])
    currency: Code
    revenue_minor: Minor


class RunRequest(BaseModel):
    # A usage file or ``replace`` is the operator's: named in a body, refused, never ignored.
    model_config = ConfigDict(extra="forbid")

    period: Code = Field(examples=["2026-Q3"], description="YYYY, YYYY-Qn or YYYY-MM")


class ClaimRequest(BaseModel):
    performer_id: Id
    cmo_id: Id


def _statement(s: Statement, *, full: bool) -> dict[str, Any]:
    head: dict[str, Any] = {
        "period": s.period,
        "party_kind": s.party_kind,
        "party_id": s.party_id,
        "party_name": s.document.get("party", {}).get("name"),
        "totals_minor": s.totals,
        "sha256": s.sha256,
        "log_entries": s.log_entries or [],
    }
    if full:
        head["document"] = s.document
    return head


@router.get("/tariffs")
def list_tariffs(
    database: Db, caller: Caller, licence_id: Id | None = None
) -> list[dict[str, Any]]:
    with database.reader() as session:
        return [
            remuneration.tariff_json(t)
            for t in remuneration.list_tariffs(session, caller, licence_id=licence_id)
        ]


@router.post("/tariffs", status_code=201)
def add_tariff(body: TariffRequest, database: Db, caller: CmoAdmin) -> dict[str, Any]:
    spec = remuneration.TariffSpec(
        **body.model_dump(exclude={"training_bands"}),
        training_bands=tuple(remuneration.Band(**b.model_dump()) for b in body.training_bands),
    )
    with database.transaction() as session:
        return remuneration.tariff_json(remuneration.add_tariff(session, caller, spec))


@router.put("/rules/{cmo_id}")
def set_rule(cmo_id: Id, body: RuleRequest, database: Db, caller: CmoAdmin) -> dict[str, int]:
    with database.transaction() as session:
        rule = remuneration.set_distribution_rule(
            session,
            caller,
            cmo_id=cmo_id,
            featured=body.featured_weight,
            non_featured=body.non_featured_weight,
        )
        return {
            "cmo_id": rule.cmo_id,
            "featured_weight": rule.featured_weight,
            "non_featured_weight": rule.non_featured_weight,
        }


@router.post("/revenue-reports", status_code=201)
def report_revenue(
    body: RevenueReportRequest, database: Db, caller: LicenseeOrCmoAdmin
) -> dict[str, Any]:
    with database.transaction() as session:
        report = remuneration.report_revenue(session, caller, **body.model_dump())
        return {
            "id": report.id,
            "licence_id": report.licence_id,
            "period": report.period,
            "currency": report.currency,
            "revenue_minor": report.revenue_minor,
        }


@router.post("/runs")
def start_run(
    body: RunRequest, database: Db, settings: AppSettings, caller: RunStarter
) -> dict[str, Any]:
    """Distribute an ended period from the transparency log's usage and the stored tariffs,
    and declare its statements to the log. The same inputs change nothing (``created`` is
    false, the stored run is returned); a period already distributed from other inputs is
    refused (409): a correction, like a run from a usage file, is the local operator's
    (``sostenuto remuneration run PERIOD --replace``). The summary is cut to the caller,
    as ``GET /runs/{period}`` cuts it."""
    result = remuneration.run_period(database, settings, caller, body.period)
    return {
        "id": result.run_id,
        "period": result.period,
        "created": result.created,
        "result_sha256": result.result_sha256,
        "statements": result.statements,
        "declared": result.declared,
        "summary": remuneration.visible_summary(caller, result.summary),
    }


@router.get("/runs/{period}")
def get_run(period: Code, database: Db, caller: SignedIn) -> dict[str, Any]:
    with database.reader() as session:
        run = remuneration.get_run(session, caller, period)
        return {
            "id": run.id,
            "period": run.period,
            "attribution": run.attribution,
            "result_sha256": run.result_sha256,
            "summary": run.summary,
            "created_at": run.created_at.isoformat(),
        }


@router.get("/statements/{period}")
def list_statements(
    period: Code,
    database: Db,
    caller: SignedIn,
    kind: Literal["performer", "cmo", "licensee"] | None = None,
) -> list[dict[str, Any]]:
    with database.reader() as session:
        rows = remuneration.list_statements(session, caller, period=period, party_kind=kind)
        return [_statement(s, full=False) for s in rows]


@router.get("/statements/{period}/{kind}/{party_id}", response_model=None)
def get_statement(
    period: Code,
    kind: Code,
    party_id: Id,
    database: Db,
    caller: SignedIn,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    with database.reader() as session:
        statement = remuneration.get_statement(
            session, caller, period=period, party_kind=kind, party_id=party_id
        )
        if format == "csv":
            return PlainTextResponse(
                remuneration.statement_csv(statement.document), media_type="text/csv"
            )
        return _statement(statement, full=True)


@router.post("/claims/{period}/settle")
def settle_claim(
    period: Code, body: ClaimRequest, database: Db, caller: CmoAdmin
) -> dict[str, Any]:
    with database.transaction() as session:
        paid = remuneration.settle_claim(
            session, caller, period=period, performer_id=body.performer_id, cmo_id=body.cmo_id
        )
    return {"period": period, "performer_id": body.performer_id, "settled_minor": paid}
