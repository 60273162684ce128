"""``sostenuto label FILE``, ``sostenuto inspect FILE`` and ``sostenuto keys init|show``."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, plain
from sostenuto.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from sostenuto import label as labelling
    from sostenuto.cli._remote import Remote
else:
    labelling = lazy_module("sostenuto.label")

# The label layers, in order (``sostenuto.label.LAYERS``; a test keeps the two equal).
ALL_LAYERS = ("watermark", "metadata", "c2pa")

keys_app = typer.Typer(
    help="Manage the C2PA signing key and certificate chain.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.command("label")(label)
    root.command("inspect")(inspect)
    root.add_typer(keys_app, name="keys")


def _reservations(values: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, use = value.partition("=")
        if not sep:
            raise InvalidInput(
                f"--reserve takes ENTRY=USE, e.g. c2pa.ai_training=notAllowed: {value!r}"
            )
        parsed[key if key.startswith("c2pa.") else f"c2pa.{key}"] = use
    return parsed


def label(
    file: Annotated[Path, typer.Argument(help="The generated audio file to label.")],
    licensee: Annotated[int, typer.Option(help="Licensee id whose output this is.")],
    model: Annotated[int, typer.Option(help="Id of the model that generated it.")],
    composite: Annotated[
        bool,
        typer.Option(
            "--composite", help="Partly generated (compositeWithTrainedAlgorithmicMedia)."
        ),
    ] = False,
    licence: Annotated[str | None, typer.Option(help="Licence reference to record.")] = None,
    consent: Annotated[str | None, typer.Option(help="Consent decision reference.")] = None,
    reserve: Annotated[
        list[str] | None,
        typer.Option(help="A performers' reservation, ENTRY=USE (e.g. ai_training=notAllowed)."),
    ] = None,
    reservation_note: Annotated[str | None, typer.Option(help="Text for constrained uses.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output path (default FILE.labelled.EXT).")
    ] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Replace FILE itself.")] = False,
    layers: Annotated[str, typer.Option(help="Comma-separated layers.")] = ",".join(ALL_LAYERS),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Label FILE as AI-generated: watermark, tags and a signed C2PA manifest, in the log."""
    if not file.is_file():
        raise NotFound(f"no such file: {file}", details={"path": str(file)})
    if (api := _context.remote()) is not None:
        _label_remotely(
            api,
            file,
            licensee,
            model,
            composite,
            licence,
            consent,
            reserve,
            reservation_note,
            out,
            in_place,
            layers,
        )
        return
    with console.status("labelling…", spinner="dots") if not as_json else nullcontext():
        result, record = labelling.label_output(
            _context.database(),
            _context.settings(),
            _context.principal(),
            file,
            licensee_id=licensee,
            model_id=model,
            source_type="compositeWithTrainedAlgorithmicMedia"
            if composite
            else "trainedAlgorithmicMedia",
            licence_ref=licence,
            consent_ref=consent,
            reservations=_reservations(reserve or []),
            reservation_note=reservation_note,
            output=out,
            in_place=in_place,
            layers=[layer.strip() for layer in layers.split(",") if layer.strip()],
        )
    if as_json:
        emit(plain({"result": dataclasses.asdict(result), "watermark": dataclasses.asdict(record)}))
        return
    console.print(f"[bold]{result.path}[/bold] ({result.file_format}): {', '.join(result.layers)}")
    console.print(f"watermark id {record.watermark_id:08x}, log entry {record.log_entry_id}")
    if result.watermark_snr_db is not None:
        console.print(f"watermark SNR {result.watermark_snr_db:.1f} dB")


def inspect(
    file: Annotated[Path, typer.Argument(help="Any audio file.")],
    no_watermark: Annotated[
        bool, typer.Option("--no-watermark", help="Skip the watermark.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether and how FILE is labelled as AI-generated, and which layers verify."""
    if not file.is_file():
        raise NotFound(f"no such file: {file}", details={"path": str(file)})
    if (api := _context.remote()) is not None:
        answer = api.call(
            "label.inspect",
            query={"watermark": not no_watermark},
            files={"file": (file.name, file.read_bytes(), "application/octet-stream")},
        )
    else:
        with console.status("inspecting…") if not as_json else nullcontext():
            found = labelling.inspect_path(
                _context.database(), _context.settings(), file, watermark=not no_watermark
            )
        answer = plain({**dataclasses.asdict(found), "ai_generated": found.ai_generated})
    if as_json:
        emit(answer)
        return
    verdict = (
        "[bold red]AI-generated[/bold red]"
        if answer["ai_generated"]
        else "[bold]no AI label[/bold]"
    )
    console.print(f"{file.name}: {verdict}")
    for line in answer["summary"]:
        console.print(f"  • {line}", highlight=False)


@keys_app.command("init")
def keys_init(
    organisation: Annotated[
        str, typer.Option(help="Organisation named in the certificates.")
    ] = "Sostenuto",
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
) -> None:
    """Create the root CA and the ES256 signing certificate under the keys directory."""
    _context.local_only("keys init", "the signing key lives on the server's machine")
    info = labelling.init_keys(_context.settings().keys_dir, organisation=organisation, force=force)
    emit(plain(dataclasses.asdict(info)))


@keys_app.command("show")
def keys_show() -> None:
    """Show the signing certificate, its root and their fingerprints."""
    _context.local_only("keys show", "the signing key lives on the server's machine")
    emit(plain(dataclasses.asdict(labelling.show_keys(_context.settings().keys_dir))))


def _label_remotely(
    api: Remote,
    file: Path,
    licensee: int,
    model: int,
    composite: bool,
    licence: str | None,
    consent: str | None,
    reserve: list[str] | None,
    reservation_note: str | None,
    out: Path | None,
    in_place: bool,
    layers: str,
) -> None:
    """Upload FILE to the server's labeller and write the labelled file it answers."""
    if in_place and out is not None:
        raise InvalidInput("give --out or --in-place, not both")
    target = file if in_place else out or file.with_name(f"{file.stem}.labelled{file.suffix}")
    response = api.call(
        "label.apply",
        data={
            "licensee_id": licensee,
            "model_id": model,
            "composite": "true" if composite else "false",
            "licence_ref": licence,
            "consent_ref": consent,
            "reservations": ",".join(reserve or []) or None,
            "reservation_note": reservation_note,
            "layers": layers,
        },
        files={"file": (file.name, file.read_bytes(), "application/octet-stream")},
        raw=True,
    )
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(response.content)
    partial.replace(target)  # the labelled file appears whole or not at all
    answer = {
        "path": str(target),
        "layers": response.headers.get("X-Sostenuto-Layers", "").split(","),
        "watermark_id": response.headers.get("X-Sostenuto-Watermark-Id"),
        "log_entry_id": response.headers.get("X-Sostenuto-Log-Entry"),
    }
    if _context.json_output():
        emit(answer)
    else:
        console.print(f"[bold]{target}[/bold]: {', '.join(answer['layers'])}")
        console.print(f"watermark id {answer['watermark_id']}, log entry {answer['log_entry_id']}")
