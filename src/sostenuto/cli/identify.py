"""``sostenuto screen``, ``sostenuto check-output``, ``sostenuto identify calibrate`` and
``sostenuto identify index …``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, err_console, print_json, print_table
from sostenuto.errors import InvalidInput

if TYPE_CHECKING:
    from sostenuto import identify
else:
    identify = lazy_module("sostenuto.identify")  # numpy and scipy: only when used

# ``identify.DEFAULT_THRESHOLD``, spelled out so that --help imports no numpy (a test keeps
# the two equal).
DEFAULT_THRESHOLD = 8.0

identify_app = typer.Typer(help="Audio identification: the fingerprint index.")
index_app = typer.Typer(help="Add, remove and inspect fingerprints in the catalogue index.")

Threshold = Annotated[
    float | None,
    typer.Option(
        help="Least match evidence (-log10 chance probability) to report "
        f"[default: the catalogue's calibrated threshold, else {DEFAULT_THRESHOLD:g}]."
    ),
]


def register(root: typer.Typer) -> None:
    root.command("screen")(screen)
    root.command("check-output")(check_output)
    root.add_typer(identify_app, name="identify", no_args_is_help=True)
    identify_app.add_typer(index_app, name="index", no_args_is_help=True)


def _progress(label: str) -> Progress:
    """A progress bar on stderr: stdout carries only the result (JSON under ``--json``)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
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
    _context.local_only("screen", "the corpus is fingerprinted on the server's machine")
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
            _context.database(),
            _context.settings(),
            _context.principal(),
            request,
            progress=advance,
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
    answer: dict[str, Any]
    if (api := _context.remote()) is not None:
        answer = api.call(
            "identify.outputs.check",
            query={"threshold": threshold},
            files={"file": (file.name, file.read_bytes(), "application/octet-stream")},
        )
    else:
        with err_console.status("fingerprinting…"):
            answer = identify.check_output(
                _context.database(),
                _context.settings(),
                _context.principal(),
                file,
                threshold=threshold,
            ).as_dict()
    if as_json:
        print_json(answer)
        return
    if not answer["segments"]:
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
                # What a reviewer checks: peaks found again beyond chance, how evenly, and
                # under which speed and pitch change.
                "agreement": s["agreement"],
                "coverage": s["coverage"],
                "time scale": s["time_scale"],
                "pitch (st)": s["pitch_shift"],
            }
            for s in answer["segments"]
        ],
        title=f"{file.name}: {answer['regurgitated_seconds']} s of registered recordings",
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
    whole: Annotated[
        bool,
        typer.Option("--whole/--no-whole", help="Also search every file whole (length bands)."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure the catalogue's match threshold on unregistered music (false positives ≤ rate)."""
    _context.local_only("identify calibrate", "it searches the server's own index")
    settings = _context.settings()
    with _progress("calibrating") as bar:
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
            whole_files=whole,
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
    if calibration.bands:
        print_table([b._asdict() for b in calibration.bands], title="null scores by query length")
    used_hours = sum(f.seconds for f in calibration.used) / 3600
    console.print(
        f"used {len(calibration.used)} file(s), {used_hours:.2f} h: {calibration.queries} "
        f"excerpts, {sum(f.whole_score is not None for f in calibration.used)} whole files; "
        f"left out {len(calibration.left_out)}, skipped {len(calibration.skipped)}"
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
    _context.local_only("identify index add", "it writes the server's own index")
    settings = _context.settings()
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
    _context.local_only("identify index remove", "it writes the server's own index")
    settings = _context.settings()
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
    if (api := _context.remote()) is not None:
        found = api.call("identify.index.show")
        threshold = found.pop("threshold")
        found.update(
            {"threshold": threshold.get("value"), "threshold source": threshold.get("source")}
        )
        if as_json:
            print_json(found)
        else:
            print_table([found], title="identification index")
        return
    settings = _context.settings()
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
    _context.local_only("identify index compact", "it rewrites the server's own index")
    stats = identify.compact_catalogue(_context.settings(), _context.principal())
    console.print(f"compacted: {stats.tracks} tracks in {stats.segments} segment(s)")
