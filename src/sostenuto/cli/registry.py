"""``sostenuto registry …``: CMOs, agreements, performers, mandates, recordings, licences."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from sostenuto import registry
from sostenuto.cli import _context
from sostenuto.cli.output import console, err_console, print_json, print_table
from sostenuto.errors import InvalidInput
from sostenuto.settings import get_settings

registry_app = typer.Typer(
    help="The registry: CMOs, performers, recordings, licences.", no_args_is_help=True
)
cmo_app = typer.Typer(help="Collective management organisations.", no_args_is_help=True)
agreement_app = typer.Typer(help="Reciprocal representation agreements.", no_args_is_help=True)
performer_app = typer.Typer(help="Performers.", no_args_is_help=True)
mandate_app = typer.Typer(help="Mandates of performers to CMOs.", no_args_is_help=True)
recording_app = typer.Typer(help="Recordings of a CMO's catalogue.", no_args_is_help=True)
contribution_app = typer.Typer(help="Performers' contributions.", no_args_is_help=True)
licensee_app = typer.Typer(help="AI developers and platforms.", no_args_is_help=True)
model_app = typer.Typer(help="Models of licensees.", no_args_is_help=True)
licence_app = typer.Typer(help="Licences CMOs grant.", no_args_is_help=True)

Day = Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])]
CmoRef = Annotated[str, typer.Option("--cmo", help="CMO code or id.")]
Territories = Annotated[
    list[str], typer.Option("--territory", help="ISO 3166-1 alpha-2 or WW; repeatable.")
]
Uses = Annotated[list[str], typer.Option("--use", help="A use, e.g. train-genai; repeatable.")]
From = Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")]
To = Annotated[
    dt.datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: open-ended)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(root: typer.Typer) -> None:
    for app, name in (
        (cmo_app, "cmo"),
        (agreement_app, "agreement"),
        (performer_app, "performer"),
        (mandate_app, "mandate"),
        (recording_app, "recording"),
        (contribution_app, "contribution"),
        (licensee_app, "licensee"),
        (model_app, "model"),
        (licence_app, "licence"),
    ):
        registry_app.add_typer(app, name=name)
    root.add_typer(registry_app, name="registry")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _show(value: Any) -> None:
    print_json(_plain(value))


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{key}={item}" for key, item in value.items())
    return value


def _rows(values: list[Any], as_json: bool, title: str) -> None:
    if as_json:
        print_json([_plain(value) for value in values])
    else:
        rows = [{k: _cell(v) for k, v in _plain(value).items()} for value in values]
        print_table(rows, title=title)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise InvalidInput(f"invalid identifier {value!r}: write it as scheme=value")
        pairs[key.strip()] = item.strip()
    return pairs


# ---------------------------------------------------------------- CMOs and agreements


@cmo_app.command("add")
def cmo_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. AIE.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country.")],
    identifier: Annotated[
        list[str] | None, typer.Option(help="scheme=value, e.g. cisac=123; repeatable.")
    ] = None,
) -> None:
    """Register a CMO (local operator only)."""
    with _context.database().transaction() as session:
        cmo = registry.add_cmo(
            session,
            _context.principal(),
            code=code,
            name=name,
            country=country,
            identifiers=_pairs(identifier or []),
        )
    _show(cmo)


@cmo_app.command("list")
def cmo_list(as_json: AsJson = False) -> None:
    """Every CMO (public)."""
    with _context.database().reader() as session:
        cmos = registry.list_cmos(session, _context.principal())
    _rows(cmos, as_json, "CMOs")


@agreement_app.command("add")
def agreement_add(
    cmo: CmoRef,
    partner: Annotated[str, typer.Option(help="The CMO whose members are represented.")],
    territory: Territories,
    use: Uses,
    fee: Annotated[str, typer.Option(help="Administration fee as a fraction, e.g. 0.10.")],
    valid_from: From,
    valid_to: To = None,
) -> None:
    """``--cmo`` represents the members of ``--partner`` in the territories, for the uses."""
    with _context.database().transaction() as session:
        agreement = registry.add_agreement(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id,
            partner_cmo_id=registry.resolve_cmo(session, partner).id,
            territories=territory,
            uses=use,
            admin_fee=fee,
            valid_from=valid_from.date(),
            valid_to=_day(valid_to),
        )
    _show(agreement)


@agreement_app.command("list")
def agreement_list(cmo: CmoRef, as_json: AsJson = False) -> None:
    """Agreements a CMO is party to."""
    with _context.database().reader() as session:
        cmo_id = registry.resolve_cmo(session, cmo).id
        agreements = registry.list_agreements(session, _context.principal(), cmo_id=cmo_id)
    _rows(agreements, as_json, "Reciprocal agreements")


# ---------------------------------------------------------------- performers and mandates


@performer_app.command("add")
def performer_add(
    name: Annotated[str, typer.Option(help="The performer's name.")],
    isni: Annotated[str | None, typer.Option(help="ISNI (16 characters).")] = None,
    ipn: Annotated[str | None, typer.Option(help="International Performer Number.")] = None,
    nationality: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2.")] = None,
    residence: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2.")] = None,
    cmo: Annotated[str | None, typer.Option(help="Registering CMO (code or id).")] = None,
) -> None:
    """Register a performer."""
    with _context.database().transaction() as session:
        cmo_id = registry.resolve_cmo(session, cmo).id if cmo else None
        performer = registry.add_performer(
            session,
            _context.principal(),
            name=name,
            isni=isni,
            ipn=ipn,
            nationality=nationality,
            residence=residence,
            cmo_id=cmo_id,
        )
    _show(performer)


@performer_app.command("show")
def performer_show(performer_id: int) -> None:
    """A performer and the mandates you may see."""
    with _context.database().reader() as session:
        detail = registry.show_performer(session, _context.principal(), performer_id)
    _show(detail)


@mandate_app.command("add")
def mandate_add(
    performer: Annotated[int, typer.Option(help="Performer id.")],
    cmo: CmoRef,
    territory: Territories,
    use: Uses,
    valid_from: From,
    valid_to: To = None,
) -> None:
    """Record a mandate; refused if it overlaps another for a territory and a use."""
    with _context.database().transaction() as session:
        mandate = registry.add_mandate(
            session,
            _context.principal(),
            performer_id=performer,
            cmo_id=registry.resolve_cmo(session, cmo).id,
            territories=territory,
            uses=use,
            valid_from=valid_from.date(),
            valid_to=_day(valid_to),
        )
    _show(mandate)


@mandate_app.command("list")
def mandate_list(
    cmo: Annotated[str | None, typer.Option(help="CMO code or id.")] = None,
    performer: Annotated[int | None, typer.Option(help="Performer id.")] = None,
    on: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only those in force then.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Mandates of a CMO or of a performer."""
    with _context.database().reader() as session:
        cmo_id = registry.resolve_cmo(session, cmo).id if cmo else None
        mandates = registry.list_mandates(
            session, _context.principal(), cmo_id=cmo_id, performer_id=performer, on_date=_day(on)
        )
    _rows(mandates, as_json, "Mandates")


@mandate_app.command("end")
def mandate_end(
    mandate_id: int,
    on: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Its last day.")],
) -> None:
    """End a mandate on a day (never extends it)."""
    with _context.database().transaction() as session:
        mandate = registry.end_mandate(session, _context.principal(), mandate_id, on=on.date())
    _show(mandate)


# ---------------------------------------------------------------- recordings


@recording_app.command("add")
def recording_add(
    cmo: CmoRef,
    isrc: Annotated[str, typer.Option(help="ISRC, e.g. ES-A7Q-24-00001.")],
    title: Annotated[str, typer.Option(help="Title.")],
    duration_ms: Annotated[int | None, typer.Option(help="Duration in milliseconds.")] = None,
    year: Annotated[int | None, typer.Option(help="Year of fixation.")] = None,
    sha256: Annotated[str | None, typer.Option(help="SHA-256 of the audio file.")] = None,
    audio: Annotated[
        Path | None,
        typer.Option(
            help="Audio file: its SHA-256 is stored and it is fingerprinted.", exists=True
        ),
    ] = None,
) -> None:
    """Add a recording to a CMO's catalogue."""
    if audio is not None and sha256 is not None:
        raise InvalidInput("give --audio or --sha256, not both")
    digest = registry.file_sha256(audio) if audio is not None else sha256
    with _context.database().transaction() as session:
        recording = registry.add_recording(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id,
            isrc=isrc,
            title=title,
            duration_ms=duration_ms,
            fixation_year=year,
            audio_sha256=digest,
        )
    if audio is not None:
        registry.attach_audio(
            _context.database(), get_settings(), _context.principal(), recording.id, audio
        )
    _show(recording)


@recording_app.command("audio")
def recording_audio(
    recording: Annotated[str, typer.Argument(help="ISRC or recording id.")],
    audio: Annotated[Path, typer.Argument(help="The recording's audio file.", exists=True)],
) -> None:
    """Register a recording's audio: store its SHA-256 and fingerprint it for screening."""
    with _context.database().reader() as session:
        recording_id = registry.resolve_recording(session, recording).id
    registered = registry.attach_audio(
        _context.database(), get_settings(), _context.principal(), recording_id, audio
    )
    _show(registered)


@recording_app.command("show")
def recording_show(isrc: Annotated[str, typer.Argument(help="ISRC or recording id.")]) -> None:
    """A recording: in full for its CMO and auditors, ISRC, title and year for others."""
    with _context.database().reader() as session:
        recording = registry.show_recording(session, _context.principal(), isrc)
    _show(recording)


@contribution_app.command("add")
def contribution_add(
    isrc: Annotated[str, typer.Argument(help="ISRC or recording id.")],
    performer: Annotated[int, typer.Option(help="Performer id.")],
    kind: Annotated[str, typer.Option(help="voice or instrument.")],
    featured: Annotated[bool, typer.Option("--featured/--non-featured")] = False,
    instrument: Annotated[str | None, typer.Option(help="Instrument played.")] = None,
    weight: Annotated[str, typer.Option(help="Share weight (> 0).")] = "1",
) -> None:
    """Add a performer's contribution to a recording."""
    with _context.database().transaction() as session:
        contribution = registry.add_contribution(
            session,
            _context.principal(),
            recording=isrc,
            performer_id=performer,
            featured=featured,
            kind=kind,
            instrument=instrument,
            weight=weight,
        )
    _show(contribution)


@registry_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="CSV or DDEX-style JSON catalogue.")],
    cmo: CmoRef,
    format: Annotated[
        str | None, typer.Option("--format", help="csv or ddex-json (default: guessed).")
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Write every skipped row to this CSV file.")
    ] = None,
) -> None:
    """Bulk-import a catalogue; bad rows are reported and skipped, re-runs change nothing."""
    database = _context.database()
    with database.reader() as session:
        cmo_id = registry.resolve_cmo(session, cmo).id
    report = registry.import_catalogue(
        database, _context.principal(), path, cmo_id=cmo_id, format=format, progress=True
    )
    console.print(
        f"[bold]{report.imported}[/bold] imported, [bold]{report.updated}[/bold] updated, "
        f"[bold]{report.unchanged}[/bold] unchanged, [bold]{len(report.errors)}[/bold] rows "
        f"skipped; {report.performers_created} performers created "
        f"({report.seconds:.1f} s, {report.rate:,.0f} recordings/s)"
    )
    if report.errors:
        print_table(
            [{"line": e.line, "reason": e.reason} for e in report.errors[:20]],
            title="Skipped rows" + (" (first 20)" if len(report.errors) > 20 else ""),
        )
    if errors is not None:
        registry.write_row_errors(errors, report.errors)
        err_console.print(f"skipped rows written to {errors}")


# ---------------------------------------------------------------- licensees and licences


@licensee_app.command("add")
def licensee_add(
    name: Annotated[str, typer.Option(help="Name of the developer or platform.")],
    kind: Annotated[str, typer.Option(help="developer or platform.")],
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2.")] = None,
) -> None:
    """Register a licensee."""
    with _context.database().transaction() as session:
        licensee = registry.add_licensee(
            session, _context.principal(), name=name, kind=kind, country=country
        )
    _show(licensee)


@licensee_app.command("list")
def licensee_list(as_json: AsJson = False) -> None:
    """Licensees you may see."""
    with _context.database().reader() as session:
        licensees = registry.list_licensees(session, _context.principal())
    _rows(licensees, as_json, "Licensees")


@model_app.command("add")
def model_add(
    licensee: Annotated[str, typer.Option(help="Licensee name or id.")],
    name: Annotated[str, typer.Option(help="Model name.")],
    version: Annotated[str, typer.Option(help="Model version.")],
    purpose: Annotated[str, typer.Option(help="What the model is for.")],
) -> None:
    """Declare a model of a licensee."""
    with _context.database().transaction() as session:
        model = registry.add_model(
            session,
            _context.principal(),
            licensee_id=registry.resolve_licensee(session, licensee).id,
            name=name,
            version=version,
            purpose=purpose,
        )
    _show(model)


@model_app.command("list")
def model_list(
    licensee: Annotated[str, typer.Option(help="Licensee name or id.")], as_json: AsJson = False
) -> None:
    """Models of a licensee."""
    with _context.database().reader() as session:
        licensee_id = registry.resolve_licensee(session, licensee).id
        models = registry.list_models(session, _context.principal(), licensee_id=licensee_id)
    _rows(models, as_json, "Models")


@licence_app.command("grant")
def licence_grant(
    cmo: CmoRef,
    licensee: Annotated[str, typer.Option(help="Licensee name or id.")],
    use: Uses,
    territory: Territories,
    valid_from: From,
    valid_to: To = None,
    tariff: Annotated[str | None, typer.Option(help="Tariff reference.")] = None,
    extended: Annotated[
        bool, typer.Option("--extended", help="Extended collective licence (ECL).")
    ] = False,
    condition: Annotated[
        list[str] | None, typer.Option(help="Condition, e.g. remuneration; repeatable.")
    ] = None,
    model: Annotated[
        int | None, typer.Option("--model", help="License this model version (id) only.")
    ] = None,
) -> None:
    """Grant a licence from a CMO to a licensee (for one model version with --model)."""
    with _context.database().transaction() as session:
        licence = registry.grant_licence(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id,
            licensee_id=registry.resolve_licensee(session, licensee).id,
            uses=use,
            territories=territory,
            valid_from=valid_from.date(),
            valid_to=_day(valid_to),
            tariff_ref=tariff,
            extended=extended,
            conditions=condition or [],
            model_id=model,
        )
    _show(licence)


@licence_app.command("list")
def licence_list(
    cmo: Annotated[str | None, typer.Option(help="CMO code or id.")] = None,
    licensee: Annotated[str | None, typer.Option(help="Licensee name or id.")] = None,
    as_json: AsJson = False,
) -> None:
    """Licences you may see."""
    with _context.database().reader() as session:
        licences = registry.list_licences(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id if cmo else None,
            licensee_id=registry.resolve_licensee(session, licensee).id if licensee else None,
        )
    _rows(licences, as_json, "Licences")


@licence_app.command("suspend")
def licence_suspend(
    licence_id: int,
    effective_from: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day suspended (today)."),
    ] = None,
) -> None:
    """Suspend an active licence from a day (today by default; never in the past)."""
    with _context.database().transaction() as session:
        licence = registry.suspend_licence(
            session, _context.principal(), licence_id, effective_from=_day(effective_from)
        )
    _show(licence)


# ---------------------------------------------------------------- demo and audit


@registry_app.command("demo")
def demo() -> None:
    """Load the demo registry (once) and print a fresh API token per role."""
    from sostenuto.cli.admin import write_token_env
    from sostenuto.registry.demo import load_demo

    if not _context.principal().operator:
        raise InvalidInput("the demo is loaded by the local operator (unset SOSTENUTO_TOKEN)")
    with _context.database().transaction() as session:
        tokens = load_demo(session)
    write_token_env(get_settings().data_dir / "demo-tokens.env", tokens)
    print_json(tokens)


@registry_app.command("audit")
def audit(
    entity_type: Annotated[str | None, typer.Option(help="e.g. mandate, licence.")] = None,
    entity_id: Annotated[str | None, typer.Option(help="Id of one entity.")] = None,
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The audit trail (auditors)."""
    with _context.database().reader() as session:
        events = registry.list_audit(
            session,
            _context.principal(),
            entity_type=entity_type,
            entity_id=entity_id,
            limit=limit,
        )
    if as_json:
        print_json([_plain(event) for event in events])
    else:
        print_table(
            [
                {
                    "id": e.id,
                    "at": e.at.isoformat(timespec="seconds"),
                    "actor": e.actor,
                    "action": e.action,
                    "entity": f"{e.entity_type}:{e.entity_id}",
                }
                for e in events
            ],
            title="Audit trail",
        )
