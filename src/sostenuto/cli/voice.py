"""``sostenuto voice enrol|screen|list|show|declare``: voiceprints and screening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from sostenuto.cli import _context
from sostenuto.cli.output import console, print_json, print_table
from sostenuto.errors import InvalidInput
from sostenuto.settings import get_settings
from sostenuto.voice import (
    Clip,
    ScreeningReport,
    enrol_voice,
    get_screening,
    list_voiceprints,
    screen_file,
    timeline_svg,
)

voice_app = typer.Typer(help="Enrol performers' voices and screen audio for them.")


def register(root: typer.Typer) -> None:
    root.add_typer(voice_app, name="voice", no_args_is_help=True)


@voice_app.command("enrol")
def enrol(
    performer: Annotated[int, typer.Argument(help="Performer id.")],
    clips: Annotated[list[Path], typer.Argument(help="Reference recordings of their voice.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Enrol PERFORMER's voice from reference CLIPS (the previous voiceprint stays on failure)."""
    with console.status(f"embedding {len(clips)} clip(s)…"):
        created = enrol_voice(
            _context.database(),
            _context.principal(),
            performer_id=performer,
            clips=[Clip.from_path(path) for path in clips],
        )
    if as_json:
        print_json([view.as_json() for view in created])
        return
    first = created[0]
    console.print(
        f"enrolled performer {first.performer_id} ({first.performer_name}): "
        f"{first.clips} clips, {first.voiced_seconds:.1f} s of voice, "
        f"model {first.model_version}; voiceprints "
        + ", ".join(f"{v.id} ({v.model_name})" for v in created)
    )


def _print_report(report: ScreeningReport) -> None:
    console.print(
        f"[bold]{report.filename}[/bold] {report.duration_s:.1f} s, "
        f"{report.voiced_seconds:.1f} s voiced, {report.voices_searched} voice(s) searched, "
        f"threshold {report.threshold:.3f} · screening {report.id}"
    )
    if report.voices_not_searched:
        console.print(
            f"[yellow]{report.voices_not_searched} enrolled voice(s) not searched[/yellow]: "
            "enrolled before the fused score; enrol them again"
        )
    print_table(
        (
            {
                "from": f"{r.start:.1f}",
                "to": f"{r.end:.1f}",
                "status": r.status,
                "performer": r.performer_name or "",
                "score": f"{r.score:.3f}" if r.score is not None else "",
                "false-match rate": f"{r.false_match_rate:.2%}"
                if r.false_match_rate is not None
                else "",
                "decision": r.decision_id or "",
            }
            for r in report.ranges
        ),
        title="voiced ranges",
    )


@voice_app.command("screen")
def screen(
    file: Annotated[Path, typer.Argument(help="Audio file to screen.")],
    licensee: Annotated[int | None, typer.Option(help="Licensee whose use is checked.")] = None,
    territory: Annotated[str | None, typer.Option(help="ISO 3166 territory of the use.")] = None,
    on: Annotated[str | None, typer.Option(help="Date of the use, YYYY-MM-DD.")] = None,
    declare: Annotated[
        bool, typer.Option("--declare", help="Declare unauthorised voices to the log.")
    ] = False,
    svg: Annotated[Path | None, typer.Option(help="Write the timeline as SVG here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Screen FILE for enrolled voices and check their voice-clone consent."""
    try:
        on_date = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise InvalidInput(f"--on takes a date as YYYY-MM-DD, got {on!r}") from None
    database, principal = _context.database(), _context.principal()
    with console.status("screening…"):
        report = screen_file(
            database,
            principal,
            Clip.from_path(file),
            licensee_id=licensee,
            territory=territory,
            on_date=on_date,
            declare_to=get_settings() if declare else None,
        )
    if svg is not None:
        svg.write_text(timeline_svg(report))
    if as_json:
        print_json(report.as_json())
        return
    _print_report(report)
    for pid, index in report.declared.items():
        console.print(f"performer {pid}: declared to the log at index {index}")
    if svg is not None:
        console.print(f"timeline written to {svg}")


@voice_app.command("show")
def show(
    screening: Annotated[str, typer.Argument(help="Screening id (vsc_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a stored screening report."""
    with _context.database().reader() as session:
        report = get_screening(session, _context.principal(), screening)
    if as_json:
        print_json(report.as_json())
    else:
        _print_report(report)


@voice_app.command("list")
def list_command(
    performer: Annotated[int | None, typer.Option(help="Only this performer.")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Include earlier, superseded versions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List enrolled voiceprints."""
    with _context.database().reader() as session:
        views = list_voiceprints(
            session, _context.principal(), performer_id=performer, include_history=history
        )
    if as_json:
        print_json([view.as_json() for view in views])
        return
    print_table(
        (
            {
                "id": v.id,
                "performer": f"{v.performer_id} {v.performer_name}",
                "model": f"{v.model_name} {v.model_version}",
                "clips": v.clips,
                "voiced s": f"{v.voiced_seconds:.1f}",
                "current": "yes" if v.current else "no",
                "created": v.created_at.isoformat(timespec="seconds"),
            }
            for v in views
        ),
        title="voiceprints",
    )
