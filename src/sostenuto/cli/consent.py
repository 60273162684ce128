"""``sostenuto consent …``: decisions, rules, exports and jurisdiction rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import orjson
import typer

from sostenuto import consent, declarations
from sostenuto.cli import _context
from sostenuto.cli.output import console, print_json, print_table
from sostenuto.errors import InvalidInput
from sostenuto.settings import get_settings

consent_app = typer.Typer(help="Consent decisions, rules and exports.", no_args_is_help=True)
decision_app = typer.Typer(help="Stored decisions.", no_args_is_help=True)
jurisdiction_app = typer.Typer(help="Jurisdiction rules (law as data).", no_args_is_help=True)

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


def register(root: typer.Typer) -> None:
    consent_app.add_typer(decision_app, name="decision")
    consent_app.add_typer(jurisdiction_app, name="jurisdiction")
    root.add_typer(consent_app, name="consent")


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@consent_app.command("check")
def check(
    licensee: Licensee,
    use: Use,
    territory: Territory,
    recording: Annotated[int | None, typer.Option("--recording", help="Recording id.")] = None,
    isrc: Annotated[str | None, typer.Option("--isrc", help="Recording ISRC.")] = None,
    date: OnDate = None,
    model: Annotated[
        int | None, typer.Option("--model", help="Model version id (a licence may name one).")
    ] = None,
) -> None:
    """May this licensee use this recording for this use, here, on this day?"""
    with _context.database().transaction() as session:
        result = consent.decide(
            session,
            _context.principal(),
            licensee_id=licensee,
            recording_id=recording,
            isrc=isrc,
            use=use,
            territory=territory,
            on_date=_day(date),
            model_id=model,
        )
    print_json(result.as_json())


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
    output: Annotated[
        Path | None, typer.Option("--output", help="Write every decision here as JSON.")
    ] = None,
) -> None:
    """Decide a whole list of recordings in one batch (stored as one record)."""
    ids, isrcs = _read_recordings(recordings)
    with _context.database().transaction() as session:
        result = consent.decide_batch(
            session,
            _context.principal(),
            licensee_id=licensee,
            recording_ids=ids,
            isrcs=isrcs,
            use=use,
            territory=territory,
            on_date=_day(date),
        )
    if output is not None:
        output.write_bytes(orjson.dumps(result.compact()))
    summary = result.compact()
    for bulky in ("recording_ids", "isrcs", "basis_index"):
        summary.pop(bulky, None)
    print_json(summary)


def _rule_out(rule: consent.RuleView) -> None:
    """Print the rule once its change is in the public log (when it is for the public)."""
    receipt = declarations.publish_rule_change(
        _context.database(), get_settings(), _context.principal(), rule
    )
    print_json(declarations.rule_with_entry(rule, receipt))


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
    with _context.database().transaction() as session:
        rule = consent.permit(
            session,
            _context.principal(),
            scope=scope,
            scope_id=scope_id,
            uses=use,
            territories=territory or ["WW"],
            licensee_id=licensee,
            valid_from=_day(valid_from),
            valid_to=_day(valid_to),
            conditions=condition or [],
            note=note,
        )
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
    with _context.database().transaction() as session:
        rule = consent.prohibit(
            session,
            _context.principal(),
            scope=scope,
            scope_id=scope_id,
            uses=use,
            territories=territory or ["WW"],
            licensee_id=licensee,
            valid_from=_day(valid_from),
            valid_to=_day(valid_to),
            note=note,
        )
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
    with _context.database().transaction() as session:
        rule = consent.opt_out(
            session,
            _context.principal(),
            performer_id=performer,
            uses=use or ["train-ai"],
            territories=territory or ["WW"],
            valid_from=_day(valid_from),
            note=note,
        )
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
    with _context.database().transaction() as session:
        rule = consent.revoke_rule(
            session, _context.principal(), rule_id, effective_from=_day(effective_from)
        )
    _rule_out(rule)


@consent_app.command("publish")
def publish(rule_id: Annotated[int, typer.Argument(help="Rule id.")]) -> None:
    """Declare a rule's current state in the transparency log again (idempotent)."""
    receipt = declarations.publish_rule(
        _context.database(), get_settings(), _context.principal(), rule_id
    )
    print_json(receipt.as_json())


@consent_app.command("rules")
def rules(
    scope: Annotated[str | None, typer.Option("--scope")] = None,
    scope_id: Annotated[int | None, typer.Option("--id")] = None,
    licensee: RuleLicensee = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List consent rules, newest first."""
    with _context.database().reader() as session:
        found = consent.list_rules(
            session, _context.principal(), scope=scope, scope_id=scope_id, licensee_id=licensee
        )
    if as_json:
        print_json([rule.as_json() for rule in found])
        return
    print_table(
        (
            {
                "id": r.id,
                "effect": r.effect,
                "scope": f"{r.scope} {r.scope_id}",
                "licensee": r.licensee_id or "any",
                "uses": ",".join(r.uses),
                "territories": ",".join(r.territories),
                "from": r.valid_from,
                "to": r.valid_to,
                "revoked from": r.revoked_from,
                "conditions": ",".join(r.conditions),
            }
            for r in found
        ),
        title="Consent rules",
    )


@decision_app.command("show")
def decision_show(decision_id: Annotated[str, typer.Argument(help="Decision id.")]) -> None:
    """Show a stored decision exactly as it was taken."""
    with _context.database().reader() as session:
        result = consent.get_decision(session, _context.principal(), decision_id)
    print_json(result.as_json())


@consent_app.command("export")
def export(
    export_format: Annotated[str, typer.Option("--format", help="odrl, tdmrep or aipref.")],
    cmo: Annotated[int | None, typer.Option("--cmo", help="CMO id.")] = None,
    performer: Annotated[int | None, typer.Option("--performer", help="Performer id.")] = None,
) -> None:
    """Export a CMO's or a performer's reservations in a machine-readable form."""
    with _context.database().reader() as session:
        document = consent.export_reservations(
            session, format=export_format, cmo_id=cmo, performer_id=performer
        )
    print_json(document)


@jurisdiction_app.command("list")
def jurisdiction_list() -> None:
    """Show the jurisdiction rules in force."""
    with _context.database().reader() as session:
        found = consent.list_jurisdictions(session)
    print_table(
        (
            {
                "territory": j.territory,
                "extended licensing": j.extended_licensing,
                "ECL uses": ",".join(j.ecl_uses),
                "TDM opt-out needed": j.tdm_opt_out_required,
            }
            for j in found
        ),
        title="Jurisdiction rules",
    )


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
    """Create or replace one territory's rule."""
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
    print_json(found.as_json())


@jurisdiction_app.command("load")
def jurisdiction_load(
    file: Annotated[
        Path | None, typer.Option("--file", exists=True, help="JSON file (default: the seed).")
    ] = None,
) -> None:
    """Load jurisdiction rules from a file; the packaged seed covers the Nordic ECL countries."""
    with _context.database().transaction() as session:
        loaded = consent.load_jurisdictions(session, _context.principal(), file)
    console.print(f"{len(loaded)} jurisdiction rules loaded")
