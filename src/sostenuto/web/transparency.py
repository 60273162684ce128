"""Pages: the models with declared training, and each model's training-content summary."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto.api.deps import Caller, Db
from sostenuto.api.params import Id
from sostenuto.declarations import training_summary
from sostenuto.transparency import models_with_runs

router = APIRouter(include_in_schema=False)


@router.get("/transparency", response_class=HTMLResponse)
def summaries(request: Request, database: Db) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request, "transparency_models.html", {"models": models_with_runs(database)}
    )


@router.get("/transparency/models/{model_id}", response_class=HTMLResponse)
def summary_page(request: Request, model_id: Id, database: Db, caller: Caller) -> HTMLResponse:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request,
        "transparency_summary.html",
        {"s": training_summary(database, caller, model_id), "model_id": model_id},
    )
