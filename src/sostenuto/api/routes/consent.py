"""Consent over HTTP: decisions (single, batch, performer), rules, exports, jurisdictions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from sostenuto import consent, declarations
from sostenuto.api.deps import (
    AppSettings,
    Caller,
    CmoAdmin,
    Db,
    RuleRevoker,
    SignedIn,
    TenantOrAuditor,
)
from sostenuto.api.params import Code, Codes, Cursor, Id, Note, PageSize, TextId
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.paging import DEFAULT_LIMIT, Page

router = APIRouter(prefix="/api/v1/consent", tags=["consent"])


class DecisionRequest(BaseModel):
    licensee_id: Id
    recording_id: Id | None = Field(default=None, description="The recording, by row id ...")
    isrc: Code | None = Field(
        default=None, description="... or by ISRC (name exactly one).", examples=["SEA012600010"]
    )
    use: Code = Field(examples=["train-genai"])
    territory: Code = Field(examples=["ES"])
    on_date: dt.date | None = None
    model_id: Id | None = Field(
        default=None, description="The model version asked about (a licence may name one)."
    )


class BatchRequest(BaseModel):
    licensee_id: Id
    recording_ids: list[Id] | None = Field(default=None, min_length=1, max_length=1_000_000)
    isrcs: list[Code] | None = Field(
        default=None,
        min_length=1,
        max_length=1_000_000,
        description="The recordings by ISRC instead of row ids (name exactly one list).",
    )
    use: Code
    territory: Code
    on_date: dt.date | None = None
    model_id: Id | None = Field(
        default=None, description="The model version asked about (a licence may name one)."
    )


class PerformerDecisionRequest(BaseModel):
    licensee_id: Id
    performer_id: Id | None = None
    isni: Code | None = Field(default=None, description="The performer by ISNI ...")
    ipn: Code | None = Field(default=None, description="... or by IPN (name exactly one).")
    use: Code
    territory: Code
    on_date: dt.date | None = None
    model_id: Id | None = Field(
        default=None, description="The model version asked about (a licence may name one)."
    )


class RuleRequest(BaseModel):
    scope: Literal["recording", "performer", "cmo"]
    scope_id: Id
    uses: Codes = Field(min_length=1)
    territories: Codes = Field(default_factory=lambda: ["WW"])
    licensee_id: Id | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    conditions: Codes = Field(default_factory=list)
    note: Note | None = None


class OptOutRequest(BaseModel):
    performer_id: Id
    uses: Codes = Field(default_factory=lambda: ["train-ai"])
    territories: Codes = Field(default_factory=lambda: ["WW"])
    valid_from: dt.date | None = None
    note: Note | None = None


class RevokeRequest(BaseModel):
    effective_from: dt.date | None = None


@router.post("/decisions")
def post_decision(body: DecisionRequest, caller: TenantOrAuditor, database: Db) -> dict[str, Any]:
    """Decide one recording for one licensee, use, territory and day. A licensee's answer is
    stored under its id; a CMO admin's or an auditor's is a preview (``stored: false``)."""
    with database.transaction() as session:
        result = consent.decide(
            session,
            caller,
            licensee_id=body.licensee_id,
            recording_id=body.recording_id,
            isrc=body.isrc,
            use=body.use,
            territory=body.territory,
            on_date=body.on_date,
            model_id=body.model_id,
        )
    return result.as_json()


@router.post("/decisions/batch")
def post_batch(body: BatchRequest, caller: TenantOrAuditor, database: Db) -> Response:
    """Decide up to 10^6 recordings at once. The answer lists each distinct basis once and,
    per recording, the index of its basis; decision ids are ``<batch_id>.<index>``."""
    with database.transaction() as session:
        batch = consent.decide_batch(
            session,
            caller,
            licensee_id=body.licensee_id,
            recording_ids=body.recording_ids,
            isrcs=body.isrcs,
            use=body.use,
            territory=body.territory,
            on_date=body.on_date,
            model_id=body.model_id,
        )
    # orjson straight to bytes: a 10^5-entry answer is serialised in milliseconds.
    return Response(orjson.dumps(batch.compact()), media_type="application/json")


@router.post("/performer-decisions")
def post_performer_decision(
    body: PerformerDecisionRequest, caller: TenantOrAuditor, database: Db
) -> dict[str, Any]:
    """Decide a use of a performer as a person (a voice model), whatever the recording."""
    with database.transaction() as session:
        result = consent.decide_performer(
            session,
            caller,
            licensee_id=body.licensee_id,
            performer_id=body.performer_id,
            isni=body.isni,
            ipn=body.ipn,
            use=body.use,
            territory=body.territory,
            on_date=body.on_date,
            model_id=body.model_id,
        )
    return result.as_json()


@router.get("/decisions/{decision_id}")
def get_decision(decision_id: TextId, caller: SignedIn, database: Db) -> dict[str, Any]:
    """A stored decision, as it was taken; a licensee sees only its own."""
    with database.reader() as session:
        return consent.get_decision(session, caller, decision_id).as_json()


@router.get("/rules")
def get_rules(
    caller: Caller,
    database: Db,
    scope: Code | None = None,
    scope_id: Id | None = None,
    licensee_id: Id | None = None,
) -> list[dict[str, Any]]:
    with database.reader() as session:
        found = consent.list_rules(
            session, caller, scope=scope, scope_id=scope_id, licensee_id=licensee_id
        )
    return [rule.as_json() for rule in found]


def _published(
    database: Database, settings: Settings, caller: Principal, rule: consent.RuleView
) -> dict[str, Any]:
    """The rule, once its change is declared in the public log (rules for any licensee)."""
    receipt = declarations.publish_rule_change(database, settings, caller, rule)
    return declarations.rule_with_entry(rule, receipt)


@router.post("/rules/permit", status_code=201)
def post_permit(
    body: RuleRequest, caller: CmoAdmin, database: Db, settings: AppSettings
) -> dict[str, Any]:
    with database.transaction() as session:
        rule = consent.permit(session, caller, **body.model_dump())
    return _published(database, settings, caller, rule)


@router.post("/rules/prohibit", status_code=201)
def post_prohibit(
    body: RuleRequest, caller: CmoAdmin, database: Db, settings: AppSettings
) -> dict[str, Any]:
    fields = body.model_dump()
    if fields.pop("conditions"):
        raise InvalidInput("a prohibition carries no conditions")
    with database.transaction() as session:
        rule = consent.prohibit(session, caller, **fields)
    return _published(database, settings, caller, rule)


@router.post("/rules/opt-out", status_code=201)
def post_opt_out(
    body: OptOutRequest, caller: CmoAdmin, database: Db, settings: AppSettings
) -> dict[str, Any]:
    with database.transaction() as session:
        rule = consent.opt_out(session, caller, **body.model_dump())
    return _published(database, settings, caller, rule)


@router.post("/rules/{rule_id}/revoke")
def post_revoke(
    rule_id: Id, body: RevokeRequest, caller: RuleRevoker, database: Db, settings: AppSettings
) -> dict[str, Any]:
    with database.transaction() as session:
        rule = consent.revoke_rule(session, caller, rule_id, effective_from=body.effective_from)
    return _published(database, settings, caller, rule)


@router.post("/rules/{rule_id}/publish")
def post_publish(
    rule_id: Id, caller: CmoAdmin, database: Db, settings: AppSettings
) -> dict[str, Any]:
    """Declare a rule's current state in the log again (idempotent: same change, same entry)."""
    return declarations.publish_rule(database, settings, caller, rule_id).as_json()


@router.get("/exports/{party}/{party_id}")
def get_export(
    party: Literal["cmo", "performer"],
    party_id: Id,
    database: Db,
    export_format: str = Query(
        "odrl", alias="format", max_length=16, description="odrl, tdmrep or aipref"
    ),
) -> dict[str, Any]:
    """A CMO's or a performer's reservations (public)."""
    with database.reader() as session:
        return consent.export_reservations(
            session,
            format=export_format,
            cmo_id=party_id if party == "cmo" else None,
            performer_id=party_id if party == "performer" else None,
        )


@router.get("/jurisdictions")
def get_jurisdictions(database: Db) -> list[dict[str, Any]]:
    """The jurisdiction rules in force (public)."""
    with database.reader() as session:
        return [found.as_json() for found in consent.list_jurisdictions(session)]


@router.get("/decisions", response_model=Page[consent.DecisionListing])
def list_decisions(
    database: Db,
    caller: SignedIn,
    recording_id: Id | None = None,
    isrc: Code | None = None,
    licensee_id: Id | None = None,
    use: Code | None = None,
    outcome: Literal["permit", "deny"] | None = None,
    on_from: dt.date | None = None,
    on_to: dt.date | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> Page[consent.DecisionListing]:
    """Stored decisions and batches, one page at a time: a licensee its own, a CMO admin
    those on its repertoire, an auditor all."""
    with database.reader() as session:
        return consent.list_decisions(
            session,
            caller,
            recording_id=recording_id,
            isrc=isrc,
            licensee_id=licensee_id,
            use=use,
            outcome=outcome,
            on_from=on_from,
            on_to=on_to,
            cursor=cursor,
            limit=limit,
        )
