"""Reservations served where other software looks for them (docs/standards.md).

A CMO may state reservations as an AIPREF ``Content-Usage`` value (checked strictly). The
rest are public reads, nothing stored: a CMO's robots.txt with AIPREF ``Content-Usage`` rules, the
``Content-Usage`` header of a recording page, TDMRep's ``/.well-known/tdmrep.json`` and the
TDM policies it points to, and the ``sos:`` ODRL profile at its IRI's path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from sostenuto import consent, declarations, registry
from sostenuto.api.deps import AppSettings, CmoAdmin, Db
from sostenuto.api.params import Code, Codes, Id, Note

router = APIRouter(tags=["standards"])
PREFIX = "/api/v1/standards"
JSON_LD = "application/ld+json"


class JsonLdResponse(JSONResponse):
    """JSON-LD, as TDMRep asks of a machine-readable policy (and the OpenAPI document says)."""

    media_type = JSON_LD


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class ContentUsageRequest(BaseModel):
    scope: Literal["recording", "performer", "cmo"]
    scope_id: Id
    content_usage: Note = Field(examples=["train-ai=n, search=y"])
    territories: Codes = Field(default_factory=lambda: ["WW"])
    valid_from: dt.date | None = None
    note: Note | None = None


@router.post(f"{PREFIX}/content-usage", status_code=201)
def post_content_usage(
    body: ContentUsageRequest, caller: CmoAdmin, database: Db, settings: AppSettings
) -> dict[str, Any]:
    """Reservations stated as an AIPREF Content-Usage value; each rule is declared in the log."""
    with database.transaction() as session:
        rules = consent.import_content_usage(session, caller, **body.model_dump())
    published = []
    for rule in rules:
        receipt = declarations.publish_rule_change(database, settings, caller, rule)
        published.append(declarations.rule_with_entry(rule, receipt))
    return {"rules": published}


@router.get(f"{PREFIX}/cmos/{{cmo_id}}/robots.txt", response_class=PlainTextResponse)
def get_robots_txt(cmo_id: Id, database: Db, request: Request) -> PlainTextResponse:
    """robots.txt for the CMO's catalogue site, one Content-Usage rule per recording page."""
    with database.reader() as session:
        text = consent.cmo_robots_txt(session, cmo_id, base_url=_base(request))
    return PlainTextResponse(text)


@router.get(f"{PREFIX}/cmos/{{cmo_id}}/tdmrep.json")
def get_cmo_tdmrep(cmo_id: Id, database: Db, request: Request) -> list[dict[str, Any]]:
    """The CMO's entries of ``/.well-known/tdmrep.json``, for its own catalogue site."""
    with database.reader() as session:
        document = consent.export_reservations(
            session, format="tdmrep", cmo_id=cmo_id, base_url=_base(request)
        )
    entries: list[dict[str, Any]] = document["tdmrep"]
    return entries


@router.get(f"{PREFIX}/{{party}}/{{party_id}}/tdm-policy", response_class=JsonLdResponse)
def get_tdm_policy(
    party: Literal["cmos", "performers"], party_id: Id, database: Db, request: Request
) -> JsonLdResponse:
    """The TDM policy a ``tdm-policy`` URL names (JSON-LD, TDMRep profile)."""
    with database.reader() as session:
        policy = consent.tdm_policy_of(
            session,
            cmo_id=party_id if party == "cmos" else None,
            performer_id=party_id if party == "performers" else None,
            base_url=_base(request),
        )
    return JsonLdResponse(policy)


@router.get(f"{PREFIX}/cmos/{{cmo_id}}/recordings/{{isrc}}")
def get_content_usage(cmo_id: Id, isrc: Code, database: Db) -> JSONResponse:
    """A recording page's AIPREF preferences, in the ``Content-Usage`` header and the body."""
    compact = registry.normalise_isrc(isrc)
    with database.reader() as session:
        value = consent.recording_content_usage(session, cmo_id, compact)
    body = {"location": f"/recordings/{compact}", "content_usage": value}
    # An empty field would be a statement of nothing; leave the header out instead.
    headers = {"Content-Usage": value} if value else {}
    return JSONResponse(body, headers=headers)


@router.get("/.well-known/tdmrep.json", include_in_schema=False)
def get_well_known_tdmrep(database: Db, request: Request) -> list[dict[str, Any]]:
    with database.reader() as session:
        return consent.tdmrep_well_known(session, base_url=_base(request))


@router.get(consent.PROFILE_PATH, include_in_schema=False)
def get_odrl_profile() -> JsonLdResponse:
    """The ``sos:`` ODRL profile, served at the path of its IRI."""
    return JsonLdResponse(consent.profile_document())
