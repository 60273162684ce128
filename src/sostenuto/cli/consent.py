"""``sostenuto consent …``: decisions, rules, exports and jurisdiction rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, plain, print_json
from sostenuto.errors import Denied, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sostenuto import consent, declarations
    from sostenuto.auth import Principal
else:
    consent = lazy_module("sostenuto.consent")
    declarations = lazy_module("sostenuto.declarations")

consent_app = typer.Typer(help="Consent decisions, rules and exports.", no_args_is_help=True)
decision_app = typer.Typer(help="Stored decisions.", no_args_is_help=True)
jurisdiction_app = typer.Typer(help="Jurisdiction rules (law as data).", no_args_is_help=True)
request_app = typer.Typer(
    help="A performer's requests to its CMO, which the CMO's admin applies or declines.",
    no_args_is_help=True,
)

Licensee = Annotated[int, typer.Option("--licensee", help="Licensee id.")]
Use = Annotated[str, typer.Option("--use", help="A use of the vocabulary, e.g. train-genai.")]
Territory = Annotated[str, typer.Option("--territory", help="ISO 3166-1 alpha-2 code.")]
OnDate = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="Day asked about (default today)."),
]
Scope = Annotated[str, typer.Option("--scope", help="recording, performer or cmo.")]
ScopeId = Annotated[int, typer.Option("--id", help="Id of the recording, performer or CMO.")]
Uses = Annotated[list[str], typer.Option("--use", help="A use; repeat for several.")]
Territories = Annotated[
    list[str] | None, typer.Option("--territory", help="Territory (default WW); repeatable.")
]
RuleLicensee = Annotated[
    int | None, typer.Option("--licensee", help="Only for this licensee (default: any).")
]
From = Annotated[
    dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day in force.")
]
To = Annotated[
    dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day in force.")
]
Note = Annotated[str | None, typer.Option("--note", help="Free text kept with the rule.")]
Model = Annotated[
    int | None, typer.Option("--model", help="Model version id (a licence may name one).")
]
FailOnDeny = Annotated[
    bool,
    typer.Option("--fail-on-deny", help="Exit with code 11 when anything asked is denied."),
]


def register(root: typer.Typer) -> None:
    consent_app.add_typer(decision_app, name="decision")
    consent_app.add_typer(jurisdiction_app, name="jurisdiction")
    consent_app.add_typer(request_app, name="request")
    root.add_typer(consent_app, name="consent")


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _decide(
    operation: str,
    asked: dict[str, Any],
    local: Callable[[Session, Principal], Any],
    *,
    fail_on_deny: bool,
) -> None:
    """Ask the server, or decide here (stored for a licensee); print the answer, and with
    ``fail_on_deny`` make a denial the command's failure."""
    if (api := _context.remote()) is not None:
        answer = api.call(operation, json=asked)
    else:
        with _context.database().transaction() as session:
            answer = local(session, _context.principal()).as_json()
    emit(answer)
    if fail_on_deny and answer.get("outcome") != "permit":
        raise Denied(f"denied: {answer.get('reason', 'no permission')}")


@consent_app.command("check")
def check(
    licensee: Licensee,
    use: Use,
    territory: Territory,
    recording: Annotated[int | None, typer.Option("--recording", help="Recording id.")] = None,
    isrc: Annotated[str | None, typer.Option("--isrc", help="Recording ISRC.")] = None,
    date: OnDate = None,
    model: Model = None,
    fail_on_deny: FailOnDeny = False,
) -> None:
    """May this licensee use this recording for this use, here, on this day?"""
    asked: dict[str, Any] = {
        "licensee_id": licensee,
        "recording_id": recording,
        "isrc": isrc,
        "use": use,
        "territory": territory,
        "on_date": _day(date),
        "model_id": model,
    }
    _decide(
        "consent.decide",
        asked,
        lambda session, who: consent.decide(session, who, **asked),
        fail_on_deny=fail_on_deny,
    )


@consent_app.command("check-performer")
def check_performer(
    licensee: Licensee,
    use: Use,
    territory: Territory,
    performer: Annotated[int | None, typer.Option("--performer", help="Performer id.")] = None,
    isni: Annotated[str | None, typer.Option("--isni", help="Performer ISNI.")] = None,
    ipn: Annotated[str | None, typer.Option("--ipn", help="Performer IPN.")] = None,
    date: OnDate = None,
    model: Model = None,
    fail_on_deny: FailOnDeny = False,
) -> None:
    """May this licensee use this performer as a person (a voice model, a style)?"""
    asked: dict[str, Any] = {
        "licensee_id": licensee,
        "performer_id": performer,
        "isni": isni,
        "ipn": ipn,
        "use": use,
        "territory": territory,
        "on_date": _day(date),
        "model_id": model,
    }
    _decide(
        "consent.decide-performer",
        asked,
        lambda session, who: consent.decide_performer(session, who, **asked),
        fail_on_deny=fail_on_deny,
    )


def _read_recordings(path: Path) -> tuple[list[int] | None, list[str] | None]:
    """Recording ids, or ISRCs, one a line ('#' starts a comment); not both kinds."""
    ids: list[int] = []
    isrcs: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.isdigit():
            ids.append(int(text))
        elif len(text) >= 12 and text[:2].isalpha():
            isrcs.append(text)
        else:
            raise InvalidInput(f"{path}:{number}: neither a recording id nor an ISRC: {text!r}")
        if ids and isrcs:
            raise InvalidInput(f"{path}:{number}: mixes recording ids and ISRCs; use one kind")
    return (None, isrcs) if isrcs else (ids, None)


@consent_app.command("batch")
def batch(
    licensee: Licensee,
    use: Use,
    territory: Territory,
    recordings: Annotated[
        Path,
        typer.Option(
            "--recordings", exists=True, help="File with one recording id or ISRC a line."
        ),
    ],
    date: OnDate = None,
    model: Model = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write every decision here as JSON.")
    ] = None,
    fail_on_deny: FailOnDeny = False,
) -> None:
    """Decide a whole list of recordings in one batch (stored as one record)."""
    ids, isrcs = _read_recordings(recordings)
    asked: dict[str, Any] = {
        "licensee_id": licensee,
        "recording_ids": ids,
        "isrcs": isrcs,
        "use": use,
        "territory": territory,
        "on_date": _day(date),
        "model_id": model,
    }
    if (api := _context.remote()) is not None:
        answer = api.call("consent.decide-batch", json=asked)
    else:
        with _context.database().transaction() as session:
            answer = consent.decide_batch(session, _context.principal(), **asked).compact()
    if output is not None:
        output.write_bytes(orjson.dumps(answer))
    summary = {
        k: v for k, v in answer.items() if k not in ("recording_ids", "isrcs", "basis_index")
    }
    emit(summary)
    denied = int(answer["size"]) - int(answer["permitted"])
    if fail_on_deny and denied:
        raise Denied(f"{denied} of {answer.get('size', '?')} recordings denied")


def _rule_out(rule: consent.RuleView) -> None:
    """Print the rule once its change is in the public log (when it is for the public)."""
    receipt = declarations.publish_rule_change(
        _context.database(), _context.settings(), _context.principal(), rule
    )
    emit(declarations.rule_with_entry(rule, receipt))


def _remote_rule(operation: str, body: dict[str, Any], rule_id: int | None = None) -> bool:
    """Send a rule change to the server, if there is one; the server publishes it."""
    if (api := _context.remote()) is None:
        return False
    emit(api.call(operation, path={"rule_id": rule_id} if rule_id else None, json=body))
    return True


@consent_app.command("permit")
def permit_command(
    scope: Scope,
    scope_id: ScopeId,
    use: Uses,
    territory: Territories = None,
    licensee: RuleLicensee = None,
    valid_from: From = None,
    valid_to: To = None,
    condition: Annotated[
        list[str] | None, typer.Option("--condition", help="remuneration, attribution, labelling.")
    ] = None,
    note: Note = None,
) -> None:
    """Permit exactly these uses for a recording, a performer or a CMO's members."""
    body: dict[str, Any] = {
        "scope": scope,
        "scope_id": scope_id,
        "uses": use,
        "territories": territory or ["WW"],
        "licensee_id": licensee,
        "valid_from": _day(valid_from),
        "valid_to": _day(valid_to),
        "conditions": condition or [],
        "note": note,
    }
    if _remote_rule("consent.rules.permit", body):
        return
    with _context.database().transaction() as session:
        rule = consent.permit(session, _context.principal(), **body)
    _rule_out(rule)


@consent_app.command("prohibit")
def prohibit_command(
    scope: Scope,
    scope_id: ScopeId,
    use: Uses,
    territory: Territories = None,
    licensee: RuleLicensee = None,
    valid_from: From = None,
    valid_to: To = None,
    note: Note = None,
) -> None:
    """Prohibit these uses (and every narrower one); a prohibition always wins."""
    body: dict[str, Any] = {
        "scope": scope,
        "scope_id": scope_id,
        "uses": use,
        "territories": territory or ["WW"],
        "licensee_id": licensee,
        "valid_from": _day(valid_from),
        "valid_to": _day(valid_to),
        "note": note,
    }
    if _remote_rule("consent.rules.prohibit", body):
        return
    with _context.database().transaction() as session:
        rule = consent.prohibit(session, _context.principal(), **body)
    _rule_out(rule)


@consent_app.command("opt-out")
def opt_out_command(
    performer: Annotated[int, typer.Option("--performer", help="Performer id.")],
    use: Annotated[
        list[str] | None, typer.Option("--use", help="Uses reserved (default train-ai).")
    ] = None,
    territory: Territories = None,
    valid_from: From = None,
    note: Note = None,
) -> None:
    """Record a performer's reservation; it beats every licence, extended ones included."""
    body: dict[str, Any] = {
        "performer_id": performer,
        "uses": use or ["train-ai"],
        "territories": territory or ["WW"],
        "valid_from": _day(valid_from),
        "note": note,
    }
    if _remote_rule("consent.rules.opt-out", body):
        return
    with _context.database().transaction() as session:
        rule = consent.opt_out(session, _context.principal(), **body)
    _rule_out(rule)


@consent_app.command("revoke")
def revoke(
    rule_id: Annotated[int, typer.Argument(help="Rule id.")],
    effective_from: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day without effect (today)."),
    ] = None,
) -> None:
    """End a rule from a day on; decisions already taken are kept as they were."""
    body: dict[str, Any] = {"effective_from": _day(effective_from)}
    if _remote_rule("consent.rules.revoke", body, rule_id):
        return
    with _context.database().transaction() as session:
        rule = consent.revoke_rule(
            session, _context.principal(), rule_id, effective_from=_day(effective_from)
        )
    _rule_out(rule)


@consent_app.command("publish")
def publish(rule_id: Annotated[int, typer.Argument(help="Rule id.")]) -> None:
    """Declare a rule's current state in the transparency log again (idempotent)."""
    if (api := _context.remote()) is not None:
        emit(api.call("consent.rules.publish", path={"rule_id": rule_id}))
        return
    receipt = declarations.publish_rule(
        _context.database(), _context.settings(), _context.principal(), rule_id
    )
    emit(receipt.as_json())


@consent_app.command("rules")
def rules(
    scope: Annotated[str | None, typer.Option("--scope")] = None,
    scope_id: Annotated[int | None, typer.Option("--id")] = None,
    licensee: RuleLicensee = None,
) -> None:
    """List consent rules, newest first."""
    asked: dict[str, Any] = {"scope": scope, "scope_id": scope_id, "licensee_id": licensee}
    if (api := _context.remote()) is not None:
        found = api.call("consent.rules.list", query=asked)
    else:
        with _context.database().reader() as session:
            found = [
                r.as_json() for r in consent.list_rules(session, _context.principal(), **asked)
            ]
    if _context.json_output():
        emit(found)
        return
    emit(
        [
            {
                "id": r["id"],
                "effect": r["effect"],
                "scope": f"{r['scope']} {r['scope_id']}",
                "licensee": r.get("licensee_id") or "any",
                "uses": ",".join(r["uses"]),
                "territories": ",".join(r["territories"]),
                "from": r.get("valid_from"),
                "to": r.get("valid_to"),
                "revoked from": r.get("revoked_from"),
                "conditions": ",".join(r.get("conditions") or []),
            }
            for r in found
        ],
        title="Consent rules",
    )


@decision_app.command("show")
def decision_show(decision_id: Annotated[str, typer.Argument(help="Decision id.")]) -> None:
    """Show a stored decision exactly as it was taken."""
    if (api := _context.remote()) is not None:
        emit(api.call("consent.decisions.show", path={"decision_id": decision_id}))
        return
    with _context.database().reader() as session:
        result = consent.get_decision(session, _context.principal(), decision_id)
    emit(result.as_json())


@decision_app.command("list")
def decision_list(
    recording: Annotated[int | None, typer.Option("--recording", help="Recording id.")] = None,
    isrc: Annotated[str | None, typer.Option("--isrc", help="Recording ISRC.")] = None,
    licensee: RuleLicensee = None,
    use: Annotated[str | None, typer.Option("--use", help="Only this use.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="permit or deny.")] = None,
    on_from: From = None,
    on_to: To = None,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Next page's cursor.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows a page.")] = 100,
) -> None:
    """Stored decisions, newest first: a licensee its own, a CMO those on its repertoire."""
    asked: dict[str, Any] = {
        "recording_id": recording,
        "isrc": isrc,
        "licensee_id": licensee,
        "use": use,
        "outcome": outcome,
        "on_from": _day(on_from),
        "on_to": _day(on_to),
        "cursor": cursor,
        "limit": limit,
    }
    if (api := _context.remote()) is not None:
        page = api.call("consent.decisions.list", query=asked)
    else:
        with _context.database().reader() as session:
            page = plain(consent.list_decisions(session, _context.principal(), **asked))
    if _context.json_output():
        emit(page)
        return
    rows = [
        {
            "id": d["id"],
            "day": d["on_date"],
            "licensee": d["licensee_id"],
            "model": d["model_id"],
            "use": d["use"],
            "territory": d["territory"],
            "recording": d["recording_id"] if d["kind"] == "decision" else f"{d['size']} (batch)",
            "outcome": d["outcome"] or f"{d['permitted']} of {d['size']} permitted",
        }
        for d in page["items"]
    ]
    emit({**page, "items": rows}, title="Decisions")


@consent_app.command("export")
def export(
    export_format: Annotated[str, typer.Option("--format", help="odrl, tdmrep or aipref.")],
    cmo: Annotated[int | None, typer.Option("--cmo", help="CMO id.")] = None,
    performer: Annotated[int | None, typer.Option("--performer", help="Performer id.")] = None,
) -> None:
    """Export a CMO's or a performer's reservations in a machine-readable form (JSON)."""
    if (api := _context.remote()) is not None:
        if (cmo is None) == (performer is None):
            raise InvalidInput("name exactly one of --cmo and --performer")
        party, party_id = ("cmo", cmo) if cmo is not None else ("performer", performer)
        path = {"party": party, "party_id": party_id}
        document = api.call("consent.exports.show", path=path, query={"format": export_format})
    else:
        with _context.database().reader() as session:
            document = consent.export_reservations(
                session, format=export_format, cmo_id=cmo, performer_id=performer
            )
    print_json(document)  # a document for machines, whatever the output mode


@jurisdiction_app.command("list")
def jurisdiction_list() -> None:
    """Show the jurisdiction rules in force."""
    if (api := _context.remote()) is not None:
        found = api.call("consent.jurisdictions.list")
    else:
        with _context.database().reader() as session:
            found = [j.as_json() for j in consent.list_jurisdictions(session)]
    emit(found, title="Jurisdiction rules")


@jurisdiction_app.command("set")
def jurisdiction_set(
    territory: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code.")],
    ecl: Annotated[bool, typer.Option("--ecl/--no-ecl", help="Extended licensing allowed.")],
    use: Annotated[
        list[str] | None, typer.Option("--use", help="A use ECL may cover; repeatable.")
    ] = None,
    tdm_opt_out: Annotated[
        bool, typer.Option("--tdm-opt-out/--no-tdm-opt-out", help="TDM needs a reservation.")
    ] = True,
    note: Note = None,
) -> None:
    """Create or replace one territory's rule (on the server's machine)."""
    _context.local_only("consent jurisdiction set", "the law as data is the operator's")
    with _context.database().transaction() as session:
        found = consent.set_jurisdiction(
            session,
            _context.principal(),
            territory=territory,
            extended_licensing=ecl,
            ecl_uses=use or [],
            tdm_opt_out_required=tdm_opt_out,
            note=note,
        )
    emit(found.as_json())


@jurisdiction_app.command("load")
def jurisdiction_load(
    file: Annotated[
        Path | None, typer.Option("--file", exists=True, help="JSON file (default: the seed).")
    ] = None,
) -> None:
    """Load jurisdiction rules from a file; the packaged seed covers the Nordic ECL countries."""
    _context.local_only("consent jurisdiction load", "the law as data is the operator's")
    with _context.database().transaction() as session:
        loaded = consent.load_jurisdictions(session, _context.principal(), file)
    if _context.json_output():
        emit({"loaded": len(loaded)})
    else:
        console.print(f"{len(loaded)} jurisdiction rules loaded")


# ---------------------------------------------------------------- performers' requests


def _request_row(r: dict[str, Any]) -> dict[str, Any]:
    what = f"rule {r['rule_id']}" if r["action"] == "revoke" else ",".join(r["uses"])
    return {
        "id": r["id"],
        "status": r["status"],
        "performer": r["performer_id"],
        "asks": f"{r['action']} {what} in {','.join(r['territories'])}",
        "licensee": r.get("licensee_id") or "any",
        "rule": r.get("result_rule_id"),
        "reason": r.get("reason"),
    }


@request_app.command("add")
def request_add(
    action: Annotated[str, typer.Argument(help="permit, prohibit or revoke.")],
    use: Annotated[list[str] | None, typer.Option("--use", help="A use; repeatable.")] = None,
    territory: Territories = None,
    licensee: RuleLicensee = None,
    rule: Annotated[int | None, typer.Option("--rule", help="The rule to lift (revoke).")] = None,
    cmo: Annotated[int | None, typer.Option("--cmo", help="The CMO asked, if several.")] = None,
    note: Note = None,
) -> None:
    """Ask your CMO (as a performer) to permit, refuse or lift a use; it applies or declines."""
    body: dict[str, Any] = {
        "action": action,
        "uses": use or [],
        "territories": territory or ["WW"],
        "licensee_id": licensee,
        "rule_id": rule,
        "cmo_id": cmo,
        "note": note,
    }
    if (api := _context.remote()) is not None:
        emit(api.call("consent.requests.add", json=body))
        return
    with _context.database().transaction() as session:
        emit(plain(consent.request_change(session, _context.principal(), **body)))


@request_app.command("list")
def request_list(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, applied or declined.")
    ] = None,
) -> None:
    """Requests, newest first: a performer its own, a CMO admin those addressed to its CMO."""
    if (api := _context.remote()) is not None:
        found = api.call("consent.requests.list", query={"status": status})
    else:
        with _context.database().reader() as session:
            found = plain(consent.list_requests(session, _context.principal(), status=status))
    if _context.json_output():
        emit(found)
    else:
        emit([_request_row(r) for r in found], title="Requests to a CMO")


@request_app.command("apply")
def request_apply(
    request_id: Annotated[int, typer.Argument(help="Request id.")], note: Note = None
) -> None:
    """Apply a performer's request (a CMO admin): the rule is your CMO's act, in the log."""
    if (api := _context.remote()) is not None:
        path = {"request_id": request_id}
        answer = api.call("consent.requests.apply", path=path, json={"note": note})
    else:
        with _context.database().transaction() as session:
            request, rule = consent.apply_request(
                session, _context.principal(), request_id, note=note
            )
        receipt = declarations.publish_rule_change(
            _context.database(), _context.settings(), _context.principal(), rule
        )
        answer = {"request": plain(request), "rule": declarations.rule_with_entry(rule, receipt)}
    if _context.json_output():
        emit(answer)
        return
    rule_json, entry = answer["rule"], answer["rule"].get("log_entry")
    console.print(
        f"request {request_id} applied: rule {rule_json['id']} ({rule_json['effect']} "
        f"{','.join(rule_json['uses'])} in {','.join(rule_json['territories'])}) from "
        f"{rule_json['valid_from']}"
        + (f"; log entry {entry['index']}" if entry else "; not for the public log"),
        highlight=False,
    )


@request_app.command("decline")
def request_decline(
    request_id: Annotated[int, typer.Argument(help="Request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (the performer reads it).")],
) -> None:
    """Decline a performer's request (a CMO admin), saying why."""
    if (api := _context.remote()) is not None:
        path = {"request_id": request_id}
        emit(api.call("consent.requests.decline", path=path, json={"reason": reason}))
        return
    with _context.database().transaction() as session:
        emit(
            plain(consent.decline_request(session, _context.principal(), request_id, reason=reason))
        )
