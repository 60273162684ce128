"""``/api/v1/consent/requests``: a performer asks its CMO; the CMO's admin applies or declines."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sostenuto import consent, declarations
from sostenuto.api.deps import AppSettings, Db, PerformerOnly, RequestDecider, RequestReader
from sostenuto.api.params import Code, Codes, Id, Note

router = APIRouter(prefix="/api/v1/consent/requests", tags=["consent"])


class ChangeRequest(BaseModel):
    action: Literal["permit", "prohibit", "revoke"]
    uses: Codes = Field(default_factory=list, examples=[["voice-clone"]])
    territories: Codes = Field(default_factory=lambda: ["WW"])
    licensee_id: Id | None = Field(default=None, description="Only for this licensee.")
    rule_id: Id | None = Field(default=None, description="The rule to lift (action revoke).")
    cmo_id: Id | None = Field(
        default=None, description="The CMO asked, where several represent the performer."
    )
    note: Note | None = None


class ApplyRequest(BaseModel):
    note: Note | None = None


class DeclineRequest(BaseModel):
    reason: Note


def _plain(request: consent.RequestView) -> dict[str, Any]:
    return dataclasses.asdict(request)


@router.post("", status_code=201)
def post_request(body: ChangeRequest, caller: PerformerOnly, database: Db) -> dict[str, Any]:
    """A performer asks its CMO to permit, refuse or lift a use; nothing changes until the
    CMO's admin applies it."""
    with database.transaction() as session:
        return _plain(consent.request_change(session, caller, **body.model_dump()))


@router.get("")
def get_requests(
    caller: RequestReader, database: Db, status: Code | None = None
) -> list[dict[str, Any]]:
    """Requests, newest first: a performer its own, a CMO admin those addressed to its CMO."""
    with database.reader() as session:
        return [_plain(r) for r in consent.list_requests(session, caller, status=status)]


@router.post("/{request_id}/apply")
def post_apply(
    request_id: Id,
    caller: RequestDecider,
    database: Db,
    settings: AppSettings,
    body: ApplyRequest | None = None,
) -> dict[str, Any]:
    """The CMO's admin applies a request: the rule it makes or lifts is the CMO's act,
    within its mandate, and is declared in the log when it holds for every licensee."""
    with database.transaction() as session:
        request, rule = consent.apply_request(
            session, caller, request_id, note=body.note if body else None
        )
    receipt = declarations.publish_rule_change(database, settings, caller, rule)
    return {"request": _plain(request), "rule": declarations.rule_with_entry(rule, receipt)}


@router.post("/{request_id}/decline")
def post_decline(
    request_id: Id, body: DeclineRequest, caller: RequestDecider, database: Db
) -> dict[str, Any]:
    """The CMO's admin declines a request, saying why."""
    with database.transaction() as session:
        return _plain(consent.decline_request(session, caller, request_id, reason=body.reason))
