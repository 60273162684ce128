"""``sostenuto registry …``: CMOs, agreements, performers, mandates, recordings, licences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, err_console, plain, print_table
from sostenuto.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from sostenuto import registry
else:
    registry = lazy_module("sostenuto.registry")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sostenuto.cli._remote import Remote

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


def _run(
    remote: Callable[[Remote], Any], local: Callable[[Session], Any], *, write: bool = False
) -> Any:
    """The answer as JSON values: from the server under ``--server``, else from the local
    database (in one transaction for a write)."""
    if (api := _context.remote()) is not None:
        return remote(api)
    database = _context.database()
    with database.transaction() if write else database.reader() as session:
        return plain(local(session))


def _cmo_id(api: Remote, ref: str) -> int:
    """A CMO named by code or id, on the server."""
    if ref.isdigit():
        return int(ref)
    for cmo in api.call("registry.cmos.list"):
        if str(cmo["code"]).casefold() == ref.casefold():
            return int(cmo["id"])
    raise NotFound(f"no CMO with code {ref!r} on {api.server}", details={"cmo": ref})


def _licensee_id(api: Remote, ref: str) -> int:
    """A licensee named by name or id, among those the server shows the caller."""
    if ref.isdigit():
        return int(ref)
    for licensee in api.call("registry.licensees.list"):
        if str(licensee["name"]).casefold() == ref.casefold():
            return int(licensee["id"])
    raise NotFound(f"no licensee named {ref!r} visible on {api.server}", details={"name": ref})


def _search(
    operation: str, search: Callable[..., Any], asked: dict[str, Any], cmo: str | None, title: str
) -> None:
    """One page of a search, here or on the server, with the CMO named by code or id."""
    page = _run(
        lambda api: api.call(
            operation, query={**asked, "cmo_id": _cmo_id(api, cmo) if cmo else None}
        ),
        lambda session: search(
            session,
            _context.principal(),
            **asked,
            cmo_id=registry.resolve_cmo(session, cmo).id if cmo else None,
        ),
    )
    emit(page, title=title)


def _rows(values: list[Any], title: str) -> None:
    if _context.json_output():
        emit(values)
    else:
        emit([{k: _cell(v) for k, v in value.items()} for value in values], title=title)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{key}={item}" for key, item in value.items())
    return value


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
    """Register a CMO (the operator, on the server's machine)."""
    _context.local_only("registry cmo add", "only the operator registers a CMO")
    with _context.database().transaction() as session:
        cmo = registry.add_cmo(
            session,
            _context.principal(),
            code=code,
            name=name,
            country=country,
            identifiers=_pairs(identifier or []),
        )
    emit(plain(cmo))


@cmo_app.command("list")
def cmo_list() -> None:
    """Every CMO (public)."""
    cmos = _run(
        lambda api: api.call("registry.cmos.list"),
        lambda session: registry.list_cmos(session, _context.principal()),
    )
    _rows(cmos, "CMOs")


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
    asked: dict[str, Any] = {
        "territories": territory,
        "uses": use,
        "admin_fee": fee,
        "valid_from": valid_from.date(),
        "valid_to": _day(valid_to),
    }
    emit(
        _run(
            lambda api: api.call(
                "registry.agreements.add",
                json={
                    "cmo_id": _cmo_id(api, cmo),
                    "partner_cmo_id": _cmo_id(api, partner),
                    **asked,
                },
            ),
            lambda session: registry.add_agreement(
                session,
                _context.principal(),
                cmo_id=registry.resolve_cmo(session, cmo).id,
                partner_cmo_id=registry.resolve_cmo(session, partner).id,
                **asked,
            ),
            write=True,
        )
    )


@agreement_app.command("list")
def agreement_list(cmo: CmoRef) -> None:
    """Agreements a CMO is party to."""
    agreements = _run(
        lambda api: api.call("registry.agreements.list", path={"cmo_id": _cmo_id(api, cmo)}),
        lambda session: registry.list_agreements(
            session, _context.principal(), cmo_id=registry.resolve_cmo(session, cmo).id
        ),
    )
    _rows(agreements, "Reciprocal agreements")


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
    asked: dict[str, Any] = {
        "name": name,
        "isni": isni,
        "ipn": ipn,
        "nationality": nationality,
        "residence": residence,
    }
    emit(
        _run(
            lambda api: api.call(
                "registry.performers.add",
                json={**asked, "cmo_id": _cmo_id(api, cmo) if cmo else None},
            ),
            lambda session: registry.add_performer(
                session,
                _context.principal(),
                **asked,
                cmo_id=registry.resolve_cmo(session, cmo).id if cmo else None,
            ),
            write=True,
        )
    )


@performer_app.command("show")
def performer_show(performer_id: int) -> None:
    """A performer and the mandates you may see."""
    emit(
        _run(
            lambda api: api.call("registry.performers.show", path={"performer_id": performer_id}),
            lambda session: registry.show_performer(session, _context.principal(), performer_id),
        )
    )


@performer_app.command("search")
def performer_search(
    name_prefix: Annotated[str | None, typer.Option(help="Names starting with this.")] = None,
    isni: Annotated[str | None, typer.Option(help="ISNI.")] = None,
    cmo: Annotated[str | None, typer.Option(help="Represented by this CMO (code or id).")] = None,
    cursor: Annotated[str | None, typer.Option(help="Next page's cursor.")] = None,
    limit: Annotated[int, typer.Option(help="Rows a page.")] = 100,
) -> None:
    """Performers you may see, by name prefix, ISNI or CMO, a page at a time."""
    asked: dict[str, Any] = {
        "name_prefix": name_prefix,
        "isni": isni,
        "cursor": cursor,
        "limit": limit,
    }
    _search("registry.performers.search", registry.search_performers, asked, cmo, "Performers")


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
    asked: dict[str, Any] = {
        "performer_id": performer,
        "territories": territory,
        "uses": use,
        "valid_from": valid_from.date(),
        "valid_to": _day(valid_to),
    }
    emit(
        _run(
            lambda api: api.call(
                "registry.mandates.add", json={**asked, "cmo_id": _cmo_id(api, cmo)}
            ),
            lambda session: registry.add_mandate(
                session,
                _context.principal(),
                **asked,
                cmo_id=registry.resolve_cmo(session, cmo).id,
            ),
            write=True,
        )
    )


@mandate_app.command("list")
def mandate_list(
    cmo: Annotated[str | None, typer.Option(help="CMO code or id.")] = None,
    performer: Annotated[int | None, typer.Option(help="Performer id.")] = None,
    on: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only those in force then.")
    ] = None,
) -> None:
    """Mandates of a CMO or of a performer."""
    mandates = _run(
        lambda api: api.call(
            "registry.mandates.list",
            query={
                "cmo_id": _cmo_id(api, cmo) if cmo else None,
                "performer_id": performer,
                "on_date": _day(on),
            },
        ),
        lambda session: registry.list_mandates(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id if cmo else None,
            performer_id=performer,
            on_date=_day(on),
        ),
    )
    _rows(mandates, "Mandates")


@mandate_app.command("end")
def mandate_end(
    mandate_id: int,
    on: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Its last day.")],
) -> None:
    """End a mandate on a day (never extends it)."""
    emit(
        _run(
            lambda api: api.call(
                "registry.mandates.end", path={"mandate_id": mandate_id}, json={"on": on.date()}
            ),
            lambda session: registry.end_mandate(
                session, _context.principal(), mandate_id, on=on.date()
            ),
            write=True,
        )
    )


@mandate_app.command("confirm")
def mandate_confirm(mandate_id: int) -> None:
    """Confirm a pending mandate of a performer your CMO represents (its transfer)."""
    emit(
        _run(
            lambda api: api.call("registry.mandates.confirm", path={"mandate_id": mandate_id}),
            lambda session: registry.confirm_mandate(session, _context.principal(), mandate_id),
            write=True,
        )
    )


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
    if audio is not None:
        _context.local_only(
            "registry recording add --audio", "the audio is fingerprinted into the server's index"
        )
    if (api := _context.remote()) is not None:
        body = {
            "cmo_id": _cmo_id(api, cmo),
            "isrc": isrc,
            "title": title,
            "duration_ms": duration_ms,
            "fixation_year": year,
            "audio_sha256": sha256,
        }
        emit(api.call("registry.recordings.add", json=body))
        return
    database = _context.database()
    if audio is not None:  # all or nothing: no recording is left without its fingerprint
        with database.reader() as session:
            cmo_id = registry.resolve_cmo(session, cmo).id
        recording, _ = registry.add_recording_with_audio(
            database,
            _context.settings(),
            _context.principal(),
            audio,
            cmo_id=cmo_id,
            isrc=isrc,
            title=title,
            duration_ms=duration_ms,
            fixation_year=year,
        )
        emit(plain(recording))
        return
    with database.transaction() as session:
        recording = registry.add_recording(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id,
            isrc=isrc,
            title=title,
            duration_ms=duration_ms,
            fixation_year=year,
            audio_sha256=sha256,
        )
    emit(plain(recording))


@recording_app.command("audio")
def recording_audio(
    recording: Annotated[str, typer.Argument(help="ISRC or recording id.")],
    audio: Annotated[Path, typer.Argument(help="The recording's audio file.", exists=True)],
) -> None:
    """Register a recording's audio: store its SHA-256 and fingerprint it for screening."""
    _context.local_only(
        "registry recording audio", "the audio is fingerprinted into the server's index"
    )
    with _context.database().reader() as session:
        recording_id = registry.resolve_recording(session, recording).id
    registered = registry.attach_audio(
        _context.database(), _context.settings(), _context.principal(), recording_id, audio
    )
    emit(plain(registered))


@recording_app.command("show")
def recording_show(isrc: Annotated[str, typer.Argument(help="ISRC or recording id.")]) -> None:
    """A recording: in full for its CMO and auditors, ISRC, title and year for others."""
    emit(
        _run(
            lambda api: api.call("registry.recordings.show", path={"isrc": isrc}),
            lambda session: registry.show_recording(session, _context.principal(), isrc),
        )
    )


@recording_app.command("search")
def recording_search(
    isrc: Annotated[str | None, typer.Option(help="ISRC.")] = None,
    title_prefix: Annotated[str | None, typer.Option(help="Titles starting with this.")] = None,
    performer: Annotated[int | None, typer.Option(help="With this performer (id).")] = None,
    cmo: Annotated[str | None, typer.Option(help="Registered by this CMO (code or id).")] = None,
    cursor: Annotated[str | None, typer.Option(help="Next page's cursor.")] = None,
    limit: Annotated[int, typer.Option(help="Rows a page.")] = 100,
) -> None:
    """Recordings by ISRC, title prefix, performer or CMO, a page at a time."""
    asked: dict[str, Any] = {
        "isrc": isrc,
        "title_prefix": title_prefix,
        "performer_id": performer,
        "cursor": cursor,
        "limit": limit,
    }
    _search("registry.recordings.search", registry.search_recordings, asked, cmo, "Recordings")


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
    asked: dict[str, Any] = {
        "performer_id": performer,
        "featured": featured,
        "kind": kind,
        "instrument": instrument,
        "weight": weight,
    }
    emit(
        _run(
            lambda api: api.call("registry.contributions.add", path={"isrc": isrc}, json=asked),
            lambda session: registry.add_contribution(
                session, _context.principal(), recording=isrc, **asked
            ),
            write=True,
        )
    )


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
    if (api := _context.remote()) is not None:
        answer = api.call(
            "registry.catalogue.import",
            query={"cmo_id": _cmo_id(api, cmo), "format": format},
            files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        )
        emit(answer)
        if errors is not None:
            registry.write_row_errors(
                errors,
                [
                    registry.RowError(e["line"], e["reason"], e.get("record"))
                    for e in answer["errors"]
                ],
            )
        return
    database = _context.database()
    with database.reader() as session:
        cmo_id = registry.resolve_cmo(session, cmo).id
    report = registry.import_catalogue(
        database,
        _context.principal(),
        path,
        cmo_id=cmo_id,
        format=format,
        progress=not _context.json_output(),
        audio_root=path.parent,  # audio_path values are relative to the catalogue file
    )
    if errors is not None:
        registry.write_row_errors(errors, report.errors)
        err_console.print(f"skipped rows written to {errors}")
    if _context.json_output():
        emit(
            {
                "imported": report.imported,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "performers_created": report.performers_created,
                "seconds": report.seconds,
                "recordings_per_second": report.rate,
                "errors": [plain(e) for e in report.errors],
            }
        )
        return
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


# ---------------------------------------------------------------- licensees and licences


@licensee_app.command("add")
def licensee_add(
    name: Annotated[str, typer.Option(help="Name of the developer or platform.")],
    kind: Annotated[str, typer.Option(help="developer or platform.")],
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2.")] = None,
) -> None:
    """Register a licensee."""
    asked: dict[str, Any] = {"name": name, "kind": kind, "country": country}
    emit(
        _run(
            lambda api: api.call("registry.licensees.add", json=asked),
            lambda session: registry.add_licensee(session, _context.principal(), **asked),
            write=True,
        )
    )


@licensee_app.command("list")
def licensee_list() -> None:
    """Licensees you may see."""
    licensees = _run(
        lambda api: api.call("registry.licensees.list"),
        lambda session: registry.list_licensees(session, _context.principal()),
    )
    _rows(licensees, "Licensees")


@model_app.command("add")
def model_add(
    licensee: Annotated[str, typer.Option(help="Licensee name or id.")],
    name: Annotated[str, typer.Option(help="Model name.")],
    version: Annotated[str, typer.Option(help="Model version.")],
    purpose: Annotated[str, typer.Option(help="What the model is for.")],
) -> None:
    """Declare a model of a licensee."""
    asked: dict[str, Any] = {"name": name, "version": version, "purpose": purpose}
    emit(
        _run(
            lambda api: api.call(
                "registry.models.add",
                path={"licensee_id": _licensee_id(api, licensee)},
                json=asked,
            ),
            lambda session: registry.add_model(
                session,
                _context.principal(),
                licensee_id=registry.resolve_licensee(session, licensee).id,
                **asked,
            ),
            write=True,
        )
    )


@model_app.command("list")
def model_list(licensee: Annotated[str, typer.Option(help="Licensee name or id.")]) -> None:
    """Models of a licensee."""
    models = _run(
        lambda api: api.call(
            "registry.models.list", path={"licensee_id": _licensee_id(api, licensee)}
        ),
        lambda session: registry.list_models(
            session,
            _context.principal(),
            licensee_id=registry.resolve_licensee(session, licensee).id,
        ),
    )
    _rows(models, "Models")


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
    asked: dict[str, Any] = {
        "uses": use,
        "territories": territory,
        "valid_from": valid_from.date(),
        "valid_to": _day(valid_to),
        "tariff_ref": tariff,
        "extended": extended,
        "conditions": condition or [],
        "model_id": model,
    }
    emit(
        _run(
            lambda api: api.call(
                "registry.licences.grant",
                json={
                    **asked,
                    "cmo_id": _cmo_id(api, cmo),
                    "licensee_id": _licensee_id(api, licensee),
                },
            ),
            lambda session: registry.grant_licence(
                session,
                _context.principal(),
                **asked,
                cmo_id=registry.resolve_cmo(session, cmo).id,
                licensee_id=registry.resolve_licensee(session, licensee).id,
            ),
            write=True,
        )
    )


@licence_app.command("list")
def licence_list(
    cmo: Annotated[str | None, typer.Option(help="CMO code or id.")] = None,
    licensee: Annotated[str | None, typer.Option(help="Licensee name or id.")] = None,
) -> None:
    """Licences you may see."""
    licences = _run(
        lambda api: api.call(
            "registry.licences.list",
            query={
                "cmo_id": _cmo_id(api, cmo) if cmo else None,
                "licensee_id": _licensee_id(api, licensee) if licensee else None,
            },
        ),
        lambda session: registry.list_licences(
            session,
            _context.principal(),
            cmo_id=registry.resolve_cmo(session, cmo).id if cmo else None,
            licensee_id=registry.resolve_licensee(session, licensee).id if licensee else None,
        ),
    )
    _rows(licences, "Licences")


@licence_app.command("suspend")
def licence_suspend(
    licence_id: int,
    effective_from: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day suspended (today)."),
    ] = None,
) -> None:
    """Suspend an active licence from a day (today by default; never in the past)."""
    emit(
        _run(
            lambda api: api.call(
                "registry.licences.suspend",
                path={"licence_id": licence_id},
                json={"effective_from": _day(effective_from)},
            ),
            lambda session: registry.suspend_licence(
                session, _context.principal(), licence_id, effective_from=_day(effective_from)
            ),
            write=True,
        )
    )


# ---------------------------------------------------------------- demo and audit


@registry_app.command("demo")
def demo() -> None:
    """Load the demo registry (once) and print a fresh API token per role."""
    from sostenuto.cli.admin import write_token_env
    from sostenuto.registry.demo import load_demo

    _context.local_only("registry demo", "the demo is loaded into the local database")
    if not _context.principal().operator:
        raise InvalidInput("the demo is loaded by the local operator (unset SOSTENUTO_TOKEN)")
    with _context.database().transaction() as session:
        tokens = load_demo(session)
    write_token_env(_context.settings().data_dir / "demo-tokens.env", tokens)
    emit(tokens)


@registry_app.command("audit")
def audit(
    entity_type: Annotated[str | None, typer.Option(help="e.g. mandate, licence.")] = None,
    entity_id: Annotated[str | None, typer.Option(help="Id of one entity.")] = None,
    limit: Annotated[int, typer.Option(help="How many events a page, newest first.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Next page's cursor.")] = None,
) -> None:
    """The audit trail (auditors; a CMO admin sees its own CMO's)."""
    asked: dict[str, Any] = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "limit": limit,
        "cursor": cursor,
    }
    page = _run(
        lambda api: api.call("registry.audit.list", query=asked),
        lambda session: registry.page_audit(session, _context.principal(), **asked),
    )
    if _context.json_output():
        emit(page)
        return
    rows = [
        {
            "id": e["id"],
            "at": e["at"],
            "actor": e["actor"],
            "action": e["action"],
            "entity": f"{e['entity_type']}:{e['entity_id']}",
        }
        for e in page["items"]
    ]
    emit({**page, "items": rows}, title="Audit trail")
