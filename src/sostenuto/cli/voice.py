"""``sostenuto voice enrol|screen|list|show|declare``: voiceprints and screening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, print_json, print_table
from sostenuto.errors import InvalidInput

if TYPE_CHECKING:
    from sostenuto import voice
    from sostenuto.voice import EnrolmentReport, ScreeningReport
else:
    voice = lazy_module("sostenuto.voice")  # torch and the speaker model: only when used

voice_app = typer.Typer(help="Enrol performers' voices and screen audio for them.")


def register(root: typer.Typer) -> None:
    root.add_typer(voice_app, name="voice", no_args_is_help=True)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder gives every audio file directly inside it, sorted."""
    from sostenuto.audio import AUDIO_SUFFIXES

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise InvalidInput(f"no audio files in folder {str(path)!r}")
            out.extend(found)
        else:
            out.append(path)
    return out


@voice_app.command("enrol")
def enrol(
    performer: Annotated[int, typer.Argument(help="Performer id.")],
    clips: Annotated[
        list[Path], typer.Argument(help="Reference recordings of their voice, or folders of them.")
    ],
    accept_short: Annotated[
        bool,
        typer.Option(
            "--accept-short",
            help="Enrol even with less voice than recommended (the print misses more).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Enrol PERFORMER's voice from reference CLIPS (files or folders), all checked in one pass;
    any problem is reported for every clip at once and nothing is enrolled."""
    files = _expand(clips)
    if (api := _context.remote()) is not None:
        created = api.call(
            "voice.voiceprints.enrol",
            path={"performer_id": performer},
            data={"accept_short": "true" if accept_short else "false"},
            files=[("clips", (f.name, f.read_bytes(), "application/octet-stream")) for f in files],
        )
        emit(created, title="voiceprints")
        return
    with console.status(f"checking and embedding {len(files)} clip(s)…"):
        done = voice.enrol_with_report(
            _context.database(),
            _context.principal(),
            performer_id=performer,
            clips=[voice.Clip.from_path(path) for path in files],
            accept_short=accept_short,
        )
    if as_json:
        print_json([view.as_json() for view in done.voiceprints])
        return
    _print_enrolment(done.report)
    first = done.voiceprints[0]
    console.print(
        f"enrolled performer {first.performer_id} ({first.performer_name}): "
        f"{first.clips} clips, {first.voiced_seconds:.1f} s of voice, "
        f"model {first.model_version}; voiceprints "
        + ", ".join(f"{v.id} ({v.model_name})" for v in done.voiceprints)
    )


def _print_enrolment(report: EnrolmentReport) -> None:
    print_table(
        (
            {
                "clip": c.name,
                "seconds": f"{c.seconds:.1f}",
                "voice s": f"{c.voiced_seconds:.1f}",
                "level dBFS": f"{c.level_dbfs:.1f}" if c.level_dbfs is not None else "",
                "similarity": f"{c.similarity:.2f}" if c.similarity is not None else "",
                "problem": c.problem or "; ".join(c.warnings),
            }
            for c in report.clips
        ),
        title=f"{report.voiced_seconds:.1f} s of voice (recommended "
        f"{report.recommended_seconds:.0f} s)",
    )
    for warning in report.warnings:
        console.print(f"[yellow]warning[/yellow]: {warning}")


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
                "margin": f"{r.margin:.2f}" if r.margin is not None else "",
                "pitch": f"{r.pitch_shift:+d}" if r.pitch_shift else "",
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
    if (api := _context.remote()) is not None:
        answer = api.call(
            "voice.screenings.add",
            data={
                "licensee_id": licensee,
                "territory": territory,
                "on_date": on_date,
                "declare": "true" if declare else "false",
            },
            files={"file": (file.name, file.read_bytes(), "application/octet-stream")},
        )
        report = voice.ScreeningReport.from_json(answer)
    else:
        database, principal = _context.database(), _context.principal()
        with console.status("screening…"):
            report = voice.screen_file(
                database,
                principal,
                voice.Clip.from_path(file),
                licensee_id=licensee,
                territory=territory,
                on_date=on_date,
                declare_to=_context.settings() if declare else None,
            )
    if svg is not None:
        svg.write_text(voice.timeline_svg(report))
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
    if (api := _context.remote()) is not None:
        found = api.call("voice.screenings.show", path={"screening_id": screening})
        report = voice.ScreeningReport.from_json(found)
    else:
        with _context.database().reader() as session:
            report = voice.get_screening(session, _context.principal(), screening)
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
    views: list[dict[str, Any]]
    if (api := _context.remote()) is not None:
        query = {"performer_id": performer, "history": history}
        views = api.call("voice.voiceprints.list", query=query)
    else:
        with _context.database().reader() as session:
            found = voice.list_voiceprints(
                session, _context.principal(), performer_id=performer, include_history=history
            )
        views = [view.as_json() for view in found]
    if as_json:
        print_json(views)
        return
    print_table(
        (
            {
                "id": v["id"],
                "performer": f"{v['performer_id']} {v['performer_name']}",
                "model": f"{v['model_name']} {v['model_version']}",
                "clips": v["clips"],
                "voiced s": f"{v['voiced_seconds']:.1f}",
                "current": "yes" if v["current"] else "no",
                "created": str(v["created_at"])[:19],
            }
            for v in views
        ),
        title="voiceprints",
    )
