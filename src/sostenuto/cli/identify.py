"""``sostenuto screen``, ``sostenuto check-output``, ``sostenuto identify calibrate`` and
``sostenuto identify index …``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sostenuto import identify
from sostenuto.cli import _context
from sostenuto.cli.output import console, err_console, print_json, print_table
from sostenuto.errors import InvalidInput
from sostenuto.settings import get_settings

identify_app = typer.Typer(help="Audio identification: the fingerprint index.")
index_app = typer.Typer(help="Add, remove and inspect fingerprints in the catalogue index.")

Threshold = Annotated[
    float | None,
    typer.Option(
        help="Least match evidence (-log10 chance probability) to report "
        f"[default: the catalogue's calibrated threshold, else {identify.DEFAULT_THRESHOLD:g}]."
    ),
]


def register(root: typer.Typer) -> None:
    root.command("screen")(screen)
    root.command("check-output")(check_output)
    root.add_typer(identify_app, name="identify", no_args_is_help=True)
    identify_app.add_typer(index_app, name="index", no_args_is_help=True)


def _progress(label: str, *, on_stderr: bool = False) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console if on_stderr else console,
    )


def screen(
    source: Annotated[Path, typer.Argument(help="Corpus folder, or a manifest of paths.")],
    licensee: Annotated[int, typer.Option(help="Licensee id whose corpus this is.")],
    use: Annotated[str, typer.Option(help="Intended use, e.g. train-genai.")],
    territory: Annotated[str, typer.Option(help="ISO 3166 territory, e.g. ES.")],
    model: Annotated[str | None, typer.Option(help="The licensee's AI model: id or name.")] = None,
    output: Annotated[Path | None, typer.Option(help="Report folder (default: data dir).")] = None,
    threshold: Threshold = None,
    declare: Annotated[
        bool, typer.Option("--declare", help="Declare the usable files to the transparency log.")
    ] = False,
    ray_address: Annotated[
        str | None, typer.Option(help="Run on this Ray cluster (address or 'auto').")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Screen a training corpus against the registry and ask consent for each recording."""
    request = identify.ScreenRequest(
        source=source,
        licensee_id=licensee,
        use=use,
        territory=territory,
        model=model,
        output_dir=output,
        threshold=threshold,
        declare=declare,
        ray_address=ray_address,
    )
    with _progress("screening") as bar:
        task = bar.add_task("screening", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = identify.screen_corpus(
            _context.database(), get_settings(), _context.principal(), request, progress=advance
        )
    if as_json:
        print_json(report.as_dict())
        return
    print_table([report.summary], title=f"screening {report.screen_id}")
    for fmt in ("html", "csv", "json"):
        console.print(f"report: {report.output_dir / f'report.{fmt}'}")
    if "declaration" in report.meta:
        entry = report.meta["declaration"]
        console.print(f"declared as log entry {entry['index']} ({entry['entry_id']})")


def check_output(
    file: Annotated[Path, typer.Argument(help="A generated audio file.")],
    threshold: Threshold = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Report registered recordings that a generated track reproduces, and where."""
    with console.status("fingerprinting…"):
        report = identify.check_output(
            _context.database(), get_settings(), _context.principal(), file, threshold=threshold
        )
    if as_json:
        print_json(report.as_dict())
        return
    if not report.segments:
        console.print(f"{file.name}: no registered recording found")
        return
    print_table(
        [
            {
                "recording": s["recording_id"] or s["key"],
                "isrc": s["isrc"],
                "title": s["title"],
                "in output (s)": f"{s['query_start']:.1f}–{s['query_end']:.1f}",
                "in recording (s)": f"{s['reference_start']:.1f}–{s['reference_end']:.1f}",
                "score": s["score"],
            }
            for s in report.segments
        ],
        title=f"{file.name}: {report.regurgitated_seconds} s of registered recordings",
    )


def _seconds(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"--seconds takes lengths like 5,10, not {text!r}") from None


@identify_app.command("calibrate")
def calibrate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Folders, manifests or files of music NOT in the catalogue."),
    ],
    count: Annotated[int, typer.Option(help="Excerpts to search (at least 100).")] = 1000,
    seconds: Annotated[
        str, typer.Option(help="Excerpt lengths in seconds, taking turns.")
    ] = "5,10",
    fp_rate: Annotated[float, typer.Option(help="Target false-positive rate.")] = 0.001,
    seed: Annotated[int, typer.Option(help="Seed of the excerpt draw.")] = 0,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Store it as the catalogue's threshold.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure the catalogue's match threshold on unregistered music (false positives ≤ rate)."""
    settings = get_settings()
    with _progress("calibrating", on_stderr=True) as bar:  # stdout stays clean for --json
        task = bar.add_task("calibrating", total=count)
        calibration = identify.calibrate_catalogue(
            settings,
            _context.principal(),
            paths,
            count=count,
            seconds=_seconds(seconds),
            fp_rate=fp_rate,
            seed=seed,
            save=save,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    saved = str(identify.calibration_path(settings)) if save else None
    if as_json:
        print_json({**calibration.as_dict(), "saved": saved})
        return
    print_table(
        [
            {
                "queries": calibration.queries,
                "max": calibration.max_score,
                "99th": calibration.p99,
                "99.9th": calibration.p999,
                "threshold": calibration.threshold,
                "saved": saved or "not saved (--no-save)",
            }
        ],
        title=f"threshold for ≤ {calibration.fp_rate:g} false positives, "
        f"{calibration.catalogue_tracks} tracks",
    )
    for left in calibration.left_out:
        console.print(f"left out (holds {left.key}, score {left.score:.1f}): {left.path}")
    for skipped in calibration.skipped:
        console.print(f"skipped ({skipped.reason}): {skipped.path}")


@index_app.command("add")
def index_add(
    files: Annotated[list[Path], typer.Argument(help="Audio files to fingerprint.")],
    recording: Annotated[
        int | None, typer.Option(help="The registered recording this one file is.")
    ] = None,
    key: Annotated[
        list[str] | None, typer.Option(help="Free-form key per file (default: file name).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace tracks with the same key.")] = False,
) -> None:
    """Fingerprint FILES into the catalogue: one registered recording, or keyed files."""
    settings = get_settings()
    if recording is not None:
        if len(files) != 1 or key:
            raise InvalidInput("--recording takes exactly one file and no --key")
        added = identify.register_recording_audio(
            _context.database(), settings, recording, files[0], principal=_context.principal()
        )
        console.print(
            f"recording {added.recording_id}: {added.duration_s:.1f} s, {added.hashes} hashes"
        )
        return
    keys = key or [path.name for path in files]
    if len(keys) != len(files):
        raise InvalidInput("give one --key per file, or none")
    with _progress("fingerprinting") as bar:
        task = bar.add_task("fingerprinting", total=len(files))
        infos = identify.index_files(
            settings,
            _context.principal(),
            list(zip(keys, files, strict=True)),
            replace=replace,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    console.print(f"added {len(infos)} track(s)")


@index_app.command("remove")
def index_remove(
    keys: Annotated[list[str] | None, typer.Argument(help="Free-form keys to remove.")] = None,
    recording: Annotated[int | None, typer.Option(help="A registered recording.")] = None,
) -> None:
    """Remove tracks (a tombstone now; space comes back with ``compact``)."""
    settings = get_settings()
    if recording is not None:
        identify.unregister_recording_audio(
            _context.database(), settings, recording, principal=_context.principal()
        )
        console.print(f"recording {recording} removed")
    if keys:
        removed = identify.remove_from_catalogue(settings, _context.principal(), keys)
        console.print(f"removed {removed} track(s)")
    if recording is None and not keys:
        raise InvalidInput("name keys to remove, or --recording")


@index_app.command("stats")
def index_stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Tracks, hours, segments and bytes of the catalogue index."""
    settings = get_settings()
    stats = identify.catalogue_stats(settings)
    threshold = identify.active_threshold(settings)
    row = {
        "tracks": stats.tracks,
        "hours": round(stats.hours, 3),
        "segments": stats.segments,
        "removed (not yet compacted)": stats.removed_tracks,
        "postings": stats.postings,
        "disk bytes": stats.disk_bytes,
        "bytes per hour": round(stats.bytes_per_hour),
        "threshold": threshold.value,
        "threshold source": threshold.source,
    }
    if as_json:
        print_json(row)
    else:
        print_table([row], title="identification index")


@index_app.command("compact")
def index_compact() -> None:
    """Merge segments and drop removed tracks for good."""
    stats = identify.compact_catalogue(get_settings(), _context.principal())
    console.print(f"compacted: {stats.tracks} tracks in {stats.segments} segment(s)")
