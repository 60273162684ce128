"""``sostenuto label FILE``, ``sostenuto inspect FILE`` and ``sostenuto keys init|show``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from sostenuto.cli import _context
from sostenuto.cli.output import console, print_json
from sostenuto.errors import InvalidInput
from sostenuto.label import LAYERS, init_keys, inspect_path, label_output, show_keys
from sostenuto.settings import get_settings

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
    layers: Annotated[str, typer.Option(help="Comma-separated layers.")] = ",".join(LAYERS),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Label FILE as AI-generated: watermark, tags and a signed C2PA manifest, in the log."""
    with console.status("labelling…"):
        result, record = label_output(
            _context.database(),
            get_settings(),
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
        print_json({"result": dataclasses.asdict(result), "watermark": dataclasses.asdict(record)})
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
    with console.status("inspecting…"):
        found = inspect_path(_context.database(), get_settings(), file, watermark=not no_watermark)
    if as_json:
        print_json({**dataclasses.asdict(found), "ai_generated": found.ai_generated})
        return
    verdict = (
        "[bold red]AI-generated[/bold red]" if found.ai_generated else "[bold]no AI label[/bold]"
    )
    console.print(f"{file.name}: {verdict}")
    for line in found.summary:
        console.print(f"  • {line}", highlight=False)


@keys_app.command("init")
def keys_init(
    organisation: Annotated[
        str, typer.Option(help="Organisation named in the certificates.")
    ] = "Sostenuto",
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
) -> None:
    """Create the root CA and the ES256 signing certificate under the keys directory."""
    info = init_keys(get_settings().keys_dir, organisation=organisation, force=force)
    print_json(dataclasses.asdict(info))


@keys_app.command("show")
def keys_show() -> None:
    """Show the signing certificate, its root and their fingerprints."""
    print_json(dataclasses.asdict(show_keys(get_settings().keys_dir)))
