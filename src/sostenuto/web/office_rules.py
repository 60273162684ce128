"""The office's consent rules: the CMO's rules, filterable by performer or recording, and the
forms that permit, prohibit, record a performer's opt-out and revoke a rule.

Each form is sent twice: first without ``confirm`` (the page explains, in plain words, whose
future decisions the change alters, from when, and whether it is declared to the public log),
then with ``confirm=yes`` (the change is made by ``consent.permit|prohibit|opt_out|
revoke_rule``, the API's services, and declared by ``declarations.publish_rule_change``, as
the API's ``consent.rules.*`` routes do). The services bound what a CMO may say by its
mandates; their refusal is shown beside the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto import consent, declarations, registry
from sostenuto.api.deps import AppSettings, Db, role_gate
from sostenuto.api.params import Id, LogIndex
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput, SostenutoError

router = APIRouter(include_in_schema=False)

# A CMO's admin, the role that makes and revokes the CMO's consent rules.
RuleKeeper = Annotated[
    Principal, Depends(role_gate("rule.change", does="change a CMO's consent rules"))
]
Change = Literal["permit", "prohibit", "opt-out", "revoke"]
# Each form's fields as the browser sends them (text: parsed here, with errors in words).
RULE_FIELDS = (
    "scope",
    "scope_id",
    "uses",
    "territories",
    "licensee_id",
    "valid_from",
    "valid_to",
    "conditions",
    "note",
)
OPT_OUT_FIELDS = ("performer_id", "uses", "territories", "valid_from", "note")
TITLES = {
    "permit": "Permit a use",
    "prohibit": "Prohibit a use",
    "opt-out": "Record a performer's opt-out",
    "revoke": "Revoke a rule",
}


def _codes(text: str) -> list[str]:
    return [code for code in text.replace(",", " ").split() if code]


def _number(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidInput(f"{field} must be a number, not {text.strip()!r}")
    return int(text)


def _date(text: str, field: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a date as YYYY-MM-DD, not {text.strip()!r}") from None


def _rule_arguments(caller: Principal, form: dict[str, str], change: Change) -> dict[str, Any]:
    """The service's keyword arguments from the form's text; bad input named by field."""
    if change == "opt-out":
        performer = _number(form["performer_id"], "the performer id")
        if performer is None:
            raise InvalidInput("name the performer whose opt-out this is (performer id)")
        return {
            "performer_id": performer,
            "uses": _codes(form["uses"]) or ["train-ai"],
            "territories": _codes(form["territories"]) or ["WW"],
            "valid_from": _date(form["valid_from"], "the start date"),
            "note": form["note"].strip() or None,
        }
    scope = form["scope"]
    scope_id = caller.cmo_id if scope == "cmo" else _number(form["scope_id"], "the id")
    if scope_id is None:
        raise InvalidInput(f"name the {scope} the rule is about (its id)")
    arguments: dict[str, Any] = {
        "scope": scope,
        "scope_id": scope_id,
        "uses": _codes(form["uses"]),
        "territories": _codes(form["territories"]) or ["WW"],
        "licensee_id": _number(form["licensee_id"], "the licensee id"),
        "valid_from": _date(form["valid_from"], "the start date"),
        "valid_to": _date(form["valid_to"], "the end date"),
        "note": form["note"].strip() or None,
    }
    if change == "permit":
        arguments["conditions"] = _codes(form["conditions"])
    elif _codes(form["conditions"]):
        raise InvalidInput("a prohibition carries no conditions")
    if not arguments["uses"]:
        raise InvalidInput("name at least one use (for instance train-genai)")
    return arguments


def _scope_words(scope: str, scope_id: int) -> str:
    if scope == "cmo":
        return "your CMO's whole repertoire (every recording its mandates cover)"
    if scope == "performer":
        return f"performer {scope_id} (every recording they perform on)"
    return f"recording {scope_id}"


def _consequence(args: dict[str, Any], change: Change, licensees: dict[int, str]) -> list[str]:
    """What the change does, in plain words, before the admin confirms it."""
    today = dt.datetime.now(dt.UTC).date()
    start = args.get("valid_from") or today
    uses = ", ".join(args["uses"])
    territories = ", ".join(args["territories"])
    if change == "opt-out":
        scope = _scope_words("performer", args["performer_id"])
    else:
        scope = _scope_words(args["scope"], args["scope_id"])
    licensee = args.get("licensee_id")
    whose = (
        f"only {licensees.get(licensee, f'licensee {licensee}')}'s future consent decisions"
        if licensee is not None
        else "every licensee's future consent decisions"
    )
    until = f" until {args['valid_to']}" if args.get("valid_to") else ""
    said = {
        "permit": f"From {start}{until}, {whose} for {uses} in {territories} on {scope} will "
        "be permitted, unless a prohibition or a performer's opt-out says otherwise "
        "(prohibitions always win).",
        "prohibit": f"From {start}{until}, {whose} for {uses} (and every narrower use) in "
        f"{territories} on {scope} will be denied, whatever any permission says.",
        "opt-out": f"From {start}, every licensee's future consent decisions for {uses} (and "
        f"every narrower use) in {territories} on {scope} will be denied: the performer's "
        "reservation beats any permission, extended collective licences included.",
    }
    lines = [
        said[change],
        "Decisions already taken keep what they said: a rule never changes the past.",
    ]
    if licensee is None:
        lines.append(
            "The rule holds for every licensee, so the change is declared to the public "
            "transparency log, where it stays, and shown on your CMO's public reservations."
        )
    else:
        lines.append(
            "The rule is for one licensee, part of your deal with it: it stays private and "
            "is not declared to the public log."
        )
    return lines


def _revoke_consequence(
    rule: consent.RuleView, when: dt.date, licensees: dict[int, str]
) -> list[str]:
    licensee = rule.licensee_id
    whose = (
        f"{licensees.get(licensee, f'licensee {licensee}')}'s"
        if licensee is not None
        else "every licensee's"
    )
    effect = "permitted" if rule.effect == "permit" else "denied"
    lines = [
        f"From {max(when, rule.valid_from)}, rule {rule.id} no longer applies: {whose} "
        f"consent decisions for {', '.join(rule.uses)} on "
        f"{_scope_words(rule.scope, rule.scope_id)} are no longer {effect} by it.",
        "A revocation takes effect from that date and never retroactively: decisions taken "
        "before then keep what they said.",
    ]
    if licensee is None:
        lines.append("The revocation is declared to the public transparency log, where it stays.")
    return lines


def _rule_rows(
    session: Any, caller: Principal, performer: int | None, recording: int | None
) -> list[consent.RuleView]:
    if performer is not None:
        found = consent.list_rules(session, caller, scope="performer", scope_id=performer)
    elif recording is not None:
        found = consent.list_rules(session, caller, scope="recording", scope_id=recording)
    else:
        found = consent.list_rules(session, caller)
    # The office shows its own CMO's rules (the public reservations show everyone's).
    return [rule for rule in found if rule.cmo_id == caller.cmo_id]


def _page(
    request: Request,
    caller: Principal,
    database: Any,
    *,
    performer: int | None = None,
    recording: int | None = None,
    form: Change | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    done: int | None = None,
    entry: int | None = None,
    status: int = 200,
) -> Response:
    from sostenuto.web import templates

    with database.reader() as session:
        context = {
            "rules": _rule_rows(session, caller, performer, recording),
            "licensees": {x.id: x.name for x in registry.list_licensees(session, caller)},
            "performer": performer,
            "recording": recording,
            "form": form,
            "values": values or {},
            "error": error,
            "done": done,
            "entry": entry,
            "today": dt.datetime.now(dt.UTC).date(),
        }
    return templates.TemplateResponse(request, "office_rules.html", context, status_code=status)


@router.get("/office/rules", response_class=HTMLResponse)
def rules_page(
    request: Request,
    caller: RuleKeeper,
    database: Db,
    performer: Id | None = None,
    recording: Id | None = None,
    done: Id | None = None,
    entry: LogIndex | None = None,
) -> Any:
    return _page(
        request, caller, database, performer=performer, recording=recording, done=done, entry=entry
    )


def _confirm_or_apply(
    request: Request,
    caller: Principal,
    database: Any,
    settings: Any,
    change: Change,
    values: dict[str, str],
    confirm: str | None,
) -> Response:
    from sostenuto.web import templates

    try:
        arguments = _rule_arguments(caller, values, change)
        if confirm != "yes":
            with database.reader() as session:
                licensees = {x.id: x.name for x in registry.list_licensees(session, caller)}
            context = {
                "title": TITLES[change],
                "action": f"/office/rules/{change}",
                "consequence": _consequence(arguments, change, licensees),
                "values": values,
            }
            return templates.TemplateResponse(request, "office_rules_confirm.html", context)
        with database.transaction() as session:
            if change == "permit":
                rule = consent.permit(session, caller, **arguments)
            elif change == "prohibit":
                rule = consent.prohibit(session, caller, **arguments)
            else:
                rule = consent.opt_out(session, caller, **arguments)
        receipt = declarations.publish_rule_change(database, settings, caller, rule)
    except SostenutoError as refused:
        return _page(
            request,
            caller,
            database,
            form=change,
            values=values,
            error=refused.message,
            status=refused.http_status,
        )
    return _applied(rule.id, receipt)


def _applied(rule_id: int, receipt: Any) -> Response:
    logged = f"&entry={receipt.index}" if receipt is not None else ""
    return RedirectResponse(f"/office/rules?done={rule_id}{logged}#rule-{rule_id}", status_code=303)


def _rule_form(
    scope: Annotated[Literal["recording", "performer", "cmo"], Form()],
    uses: Annotated[str, Form(max_length=500)],
    scope_id: Annotated[str, Form(max_length=20)] = "",
    territories: Annotated[str, Form(max_length=500)] = "",
    licensee_id: Annotated[str, Form(max_length=20)] = "",
    valid_from: Annotated[str, Form(max_length=20)] = "",
    valid_to: Annotated[str, Form(max_length=20)] = "",
    conditions: Annotated[str, Form(max_length=500)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> dict[str, str]:
    """The fields of a permit or prohibit form, by name (as the confirmation page shows them)."""
    values = dict(
        zip(
            RULE_FIELDS,
            (
                scope,
                scope_id,
                uses,
                territories,
                licensee_id,
                valid_from,
                valid_to,
                conditions,
                note,
            ),
            strict=True,
        )
    )
    return values


# After the role gate in each route's signature: a refused role never gets its form parsed.
RuleForm = Annotated[dict[str, str], Depends(_rule_form)]


@router.post("/office/rules/permit", response_model=None)
def permit_rule(
    request: Request,
    caller: RuleKeeper,
    database: Db,
    settings: AppSettings,
    values: RuleForm,
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    return _confirm_or_apply(request, caller, database, settings, "permit", values, confirm)


@router.post("/office/rules/prohibit", response_model=None)
def prohibit_rule(
    request: Request,
    caller: RuleKeeper,
    database: Db,
    settings: AppSettings,
    values: RuleForm,
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    return _confirm_or_apply(request, caller, database, settings, "prohibit", values, confirm)


@router.post("/office/rules/opt-out", response_model=None)
def opt_out_rule(
    request: Request,
    caller: RuleKeeper,
    database: Db,
    settings: AppSettings,
    performer_id: Annotated[str, Form(max_length=20)],
    uses: Annotated[str, Form(max_length=500)] = "",
    territories: Annotated[str, Form(max_length=500)] = "",
    valid_from: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    values = dict(
        zip(OPT_OUT_FIELDS, (performer_id, uses, territories, valid_from, note), strict=True)
    )
    return _confirm_or_apply(request, caller, database, settings, "opt-out", values, confirm)


@router.post("/office/rules/{rule_id}/revoke", response_model=None)
def revoke_rule(
    request: Request,
    caller: RuleKeeper,
    database: Db,
    settings: AppSettings,
    rule_id: Id,
    effective_from: Annotated[str, Form(max_length=20)] = "",
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    """Revoke one of the CMO's rules from a date (today by default), after the page has said
    that it never reaches back; the service refuses another CMO's rule."""
    from sostenuto.web import templates

    values = {"effective_from": effective_from}
    try:
        when = _date(effective_from, "the date the revocation takes effect")
        with database.reader() as session:
            rule = consent.get_rule(session, caller, rule_id)
            consent.check_may_speak_for(caller, rule)
            licensees = {x.id: x.name for x in registry.list_licensees(session, caller)}
        if confirm != "yes":
            today = dt.datetime.now(dt.UTC).date()
            context = {
                "title": f"Revoke rule {rule_id}",
                "action": f"/office/rules/{rule_id}/revoke",
                "consequence": _revoke_consequence(rule, when or today, licensees),
                "values": values,
            }
            return templates.TemplateResponse(request, "office_rules_confirm.html", context)
        with database.transaction() as session:
            revoked = consent.revoke_rule(session, caller, rule_id, effective_from=when)
        receipt = declarations.publish_rule_change(database, settings, caller, revoked)
    except SostenutoError as refused:
        return _page(
            request,
            caller,
            database,
            form="revoke",
            values=values | {"rule_id": str(rule_id)},
            error=refused.message,
            status=refused.http_status,
        )
    return _applied(revoked.id, receipt)
