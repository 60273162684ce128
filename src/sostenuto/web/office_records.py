"""The office's record pages: one recording of the CMO's catalogue and one performer of its
members, with what the registry and the consent rules say about them and where the transparency log
names them.

Each page reads through the services the API uses, under the admin's own rights: a recording
in full only when the CMO registered it (``recording.read-full``), a performer only when the
CMO registered them or holds a mandate from them (``performer.read``). Anything else answers
404, as the API's tenancy does, so a page never says that another CMO's record exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sostenuto import consent, declarations, registry, voice
from sostenuto.api.deps import Db
from sostenuto.api.params import Code, Id
from sostenuto.auth import Principal
from sostenuto.consent import RuleView
from sostenuto.errors import Forbidden, NotFound
from sostenuto.web import explain
from sostenuto.web.office import CmoOffice

router = APIRouter(include_in_schema=False)

# Decisions shown on a recording's page: those about uses on or after this many days ago.
DECISION_DAYS = 90
DECISIONS_SHOWN = 20
RECORDINGS_SHOWN = 200


def _rules(rules: list[RuleView], about: str) -> list[dict[str, Any]]:
    """The rules in force, each in words with what part of the repertoire it covers."""
    return [
        {"rule": rule, "about": about, "text": explain.rule_sentence(rule)}
        for rule in rules
        if explain.in_force(rule)
    ]


def _recording(session: Any, caller: Principal, isrc: str) -> registry.RecordingInfo:
    """The recording in full, or 404 when it is not in the CMO's own catalogue."""
    shown = registry.show_recording(session, caller, isrc)
    if not isinstance(shown, registry.RecordingInfo):  # another CMO's: only its public facts
        raise NotFound(f"no recording {isrc} in this CMO's catalogue", details={"isrc": isrc})
    return shown


def _performer(session: Any, caller: Principal, performer_id: int) -> registry.PerformerDetail:
    """The performer with the mandates given to this CMO, or 404 when not one of its own."""
    try:
        return registry.show_performer(session, caller, performer_id)
    except Forbidden:
        raise NotFound(
            f"no performer {performer_id} among this CMO's members",
            details={"performer_id": performer_id},
        ) from None


def _duration(duration_ms: int | None) -> str:
    if duration_ms is None:
        return "not registered"
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


def _voiceprints(session: Any, caller: Principal, performer_id: int) -> list[Any] | None:
    """The performer's current voiceprints, or None when the CMO does not represent them
    today (``voiceprint.read``: only a representing CMO sees them)."""
    try:
        return voice.list_voiceprints(session, caller, performer_id=performer_id)
    except Forbidden:
        return None


@router.get("/office/recordings/{isrc}", response_class=HTMLResponse)
def recording_page(request: Request, isrc: Code, caller: CmoOffice, database: Db) -> Any:
    from sostenuto.web import templates

    since = dt.date.today() - dt.timedelta(days=DECISION_DAYS)
    with database.reader() as session:
        recording = _recording(session, caller, isrc)
        rules = _rules(
            consent.list_rules(session, caller, scope="recording", scope_id=recording.id),
            "this recording",
        )
        for contribution in recording.contributions:
            rules += _rules(
                consent.list_rules(
                    session, caller, scope="performer", scope_id=contribution.performer_id
                ),
                f"{contribution.performer_name}'s recordings",
            )
        if recording.registered_by_cmo_id is not None:
            rules += _rules(
                consent.list_rules(
                    session, caller, scope="cmo", scope_id=recording.registered_by_cmo_id
                ),
                "the whole repertoire",
            )
        decisions = consent.list_decisions(
            session, caller, recording_id=recording.id, on_from=since, limit=DECISIONS_SHOWN
        )
        usage = declarations.uses_of_recording(session, caller, recording.id)
    return templates.TemplateResponse(
        request,
        "office_recording.html",
        {
            "r": recording,
            "duration": _duration(recording.duration_ms),
            "rules": rules,
            "decisions": decisions.items,
            "more_decisions": decisions.next_cursor is not None,
            "since": since,
            "usage": usage,
            "scanned": declarations.SCANNED,
        },
    )


@router.get("/office/performers/{performer_id}", response_class=HTMLResponse)
def performer_page(request: Request, performer_id: Id, caller: CmoOffice, database: Db) -> Any:
    from sostenuto.web import templates

    with database.reader() as session:
        detail = _performer(session, caller, performer_id)
        recordings = registry.search_recordings(
            session, caller, performer_id=performer_id, limit=RECORDINGS_SHOWN
        )
        rules = _rules(
            consent.list_rules(session, caller, scope="performer", scope_id=performer_id),
            "this performer's recordings",
        )
        voiceprints = _voiceprints(session, caller, performer_id)
        usage = declarations.uses_of_member(session, caller, performer_id)
    return templates.TemplateResponse(
        request,
        "office_performer.html",
        {
            "p": detail.performer,
            "mandates": detail.mandates,
            "recordings": recordings.items,
            "more_recordings": recordings.next_cursor is not None,
            "rules": rules,
            "voiceprints": voiceprints,
            "usage": usage,
            "scanned": declarations.SCANNED,
        },
    )
