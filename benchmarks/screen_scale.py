"""Corpus screening at scale: in-process and on a local Ray cluster with 1 and 2 workers.

    python benchmarks/screen_scale.py                  # 2 000 files: minutes
    python benchmarks/screen_scale.py --files 100000   # the AI developer's corpus (hours)

The corpus is real music (benchmarks/corpus.py: Debian game-music packages) cut into
``--seconds`` excerpts at random offsets, written as 8 kHz WAV and, every fourth file, as
FLAC (cheap re-encodings: a corpus holds the same music many times over). Half of the source
tracks are registered as demo recordings with their audio, so the verdicts mix identified
(permitted or denied for Aurora Audio Labs' ``train-genai`` in Spain) and unregistered files.

Measured per mode (in-process; Ray with ``num_cpus`` 1 and 2): files/s, seconds of audio per
second, and the scaling efficiency of two Ray workers over one. Every mode's verdicts must be
byte-identical (the report's per-file rows as canonical JSON). Resumability: a driver process
is killed (SIGKILL) part-way through an in-process screening and started again; every file
must then have one verdict in the state file and the report must equal the uninterrupted one.
Prints a table and writes benchmarks/results/screen_scale.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import music_files
from sostenuto.audio import decode, write_wav
from sostenuto.auth import Principal
from sostenuto.identify import ScreenRequest, register_recording_audio, screen_corpus
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording

RESULTS = Path(__file__).resolve().parent / "results"
RATE = 8000
LICENSEE = 1  # Aurora Audio Labs in the demo registry
REQUEST = {"licensee_id": LICENSEE, "use": "train-genai", "territory": "ES"}
console = Console(stderr=True)


def _lab() -> Principal:
    return Principal(name="bench-lab", role="licensee", licensee_id=LICENSEE)


def _sources(count: int, seed: int) -> list[Path]:
    every = sorted(p for files in music_files().values() for p in files)
    rng = np.random.default_rng(seed)
    return [every[i] for i in sorted(rng.choice(len(every), count, replace=False))]


def build_world(root: Path, sources: int, files: int, seconds: float, seed: int) -> dict[str, Any]:
    """The registry with half the sources registered, and the corpus folder of ``files``."""
    settings = Settings(data_dir=root / "data")
    database = Database(settings.resolved_database_url)
    database.migrate()
    with database.transaction() as session:
        load_demo(session)
        recordings = list(session.scalars(select(Recording.id).order_by(Recording.id)))
    tracks = []
    for path in _sources(sources, seed):
        audio = decode(path, sample_rate=RATE)
        if audio.duration >= 2 * seconds:
            tracks.append((path, audio.samples))
    registered = tracks[: min(len(recordings), len(tracks) // 2)]
    (root / "reference").mkdir(exist_ok=True)
    for (_path, samples), recording in zip(registered, recordings, strict=False):
        wav = write_wav(root / "reference" / f"{recording}.wav", samples, RATE)
        register_recording_audio(database, settings, recording, wav)
    corpus = root / "corpus"
    rng = np.random.default_rng(seed + 1)
    length = int(seconds * RATE)
    audio_seconds = 0.0
    for n in range(files):
        _, samples = tracks[n % len(tracks)]
        start = int(rng.integers(0, samples.size - length))
        piece = samples[start : start + length] * float(rng.uniform(0.5, 1.0))
        folder = corpus / f"{n // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        if n % 4 == 3:
            soundfile.write(str(folder / f"{n:06d}.flac"), piece, RATE, subtype="PCM_16")
        else:
            write_wav(folder / f"{n:06d}.wav", piece, RATE)
        audio_seconds += length / RATE
    database.dispose()
    return {
        "sources": len(tracks),
        "registered": len(registered),
        "files": files,
        "audio_s": audio_seconds,
    }


def _verdicts(report_dir: Path) -> str:
    """The report's per-file rows, canonical: what must match byte for byte. A consent
    decision's id is left out: each screening asks anew and gets ids of its own."""
    report = json.loads((report_dir / "report.json").read_text())
    rows = []
    for row in report["files"]:
        row = {k: v for k, v in row.items() if k != "path"} | {"file": Path(row["path"]).name}
        for match in row.get("recordings") or []:
            if isinstance(match.get("decision"), dict):
                match["decision"].pop("id", None)
        rows.append(row)
    return json.dumps(sorted(rows, key=lambda r: r["file"]), sort_keys=True)


def _screen(root: Path, output: Path, ray_address: str | None) -> float:
    settings = Settings(data_dir=root / "data")
    database = Database(settings.resolved_database_url)
    request = ScreenRequest(
        source=root / "corpus",
        output_dir=output,
        ray_address=ray_address,
        **REQUEST,  # type: ignore[arg-type]
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(output.name)
        started = time.perf_counter()
        screen_corpus(
            database,
            settings,
            _lab(),
            request,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        elapsed = time.perf_counter() - started
    database.dispose()
    return elapsed


def _on_ray(root: Path, output: Path, cpus: int) -> float:
    import ray

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        return _screen(root, output, "auto")
    finally:
        ray.shutdown()


def killed_and_resumed(root: Path, output: Path, files: int, fraction: float) -> dict[str, Any]:
    """SIGKILL an in-process screening driver once ``fraction`` of the files are done, then
    run it again to the end; count the verdicts in the state file."""
    state = output / "state.jsonl"
    driver = subprocess.Popen(
        [sys.executable, __file__, "--drive", str(root), str(output)],
        stderr=subprocess.DEVNULL,
    )
    done = 0
    while driver.poll() is None:
        done = len(state.read_bytes().splitlines()) if state.exists() else 0
        if done >= fraction * files:
            driver.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    driver.wait()
    killed_at = len(state.read_bytes().splitlines()) if state.exists() else 0
    elapsed = _screen(root, output, None)
    paths = [json.loads(line)["path"] for line in state.read_text().splitlines()]
    return {
        "killed_after_files": killed_at,
        "resume_s": elapsed,
        "verdict_lines": len(paths),
        "distinct_files": len(set(paths)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--sources", type=int, default=24, help="real tracks to cut from")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="kept; default a temp dir")
    parser.add_argument("--quick", action="store_true", help="300 files from 8 tracks")
    parser.add_argument("--drive", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:  # the driver process the resumability check kills
        _screen(args.drive[0], args.drive[1], None)
        return
    if args.quick:
        args.files, args.sources = 300, 8
    root = args.workdir or Path(tempfile.mkdtemp(prefix="sostenuto-screen-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    console.print(f"building {args.files} files in {root}")
    started = time.perf_counter()
    world = build_world(root, args.sources, args.files, args.seconds, args.seed)
    world["build_s"] = time.perf_counter() - started
    rows: dict[str, dict[str, Any]] = {}
    rows["in-process"] = {"elapsed_s": _screen(root, root / "screen-local", None)}
    reference = _verdicts(root / "screen-local")
    if not args.no_ray:
        for cpus in (1, 2):
            name = f"ray, {cpus} worker{'s' if cpus > 1 else ''}"
            output = root / f"screen-ray-{cpus}"
            rows[name] = {"elapsed_s": _on_ray(root, output, cpus)}
            rows[name]["identical"] = _verdicts(output) == reference
    rows["in-process"]["identical"] = True
    for row in rows.values():
        row["files_per_s"] = args.files / row["elapsed_s"]
        row["audio_x_realtime"] = world["audio_s"] / row["elapsed_s"]
    resume = killed_and_resumed(root, root / "screen-resumed", args.files, 0.4)
    resume["identical"] = _verdicts(root / "screen-resumed") == reference
    resume["each_file_once"] = resume["verdict_lines"] == resume["distinct_files"] == args.files
    summary = json.loads((root / "screen-local" / "report.json").read_text())["summary"]
    efficiency = None
    if "ray, 1 worker" in rows and "ray, 2 workers" in rows:
        efficiency = rows["ray, 2 workers"]["files_per_s"] / (
            2 * rows["ray, 1 worker"]["files_per_s"]
        )
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1min": os.getloadavg()[0],
        },
        "corpus": world,
        "summary": summary,
        "modes": rows,
        "ray_scaling_efficiency": efficiency,
        "resume_after_sigkill": resume,
        "verdicts_sha256": hashlib.sha256(reference.encode()).hexdigest(),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.files >= 100_000 else f"-{args.files}"
    out = RESULTS / f"screen_scale{suffix}.json"
    out.write_text(json.dumps(result, indent=1))
    table = Table(title=f"Screening {args.files} files ({world['audio_s'] / 3600:.1f} h of audio)")
    for column in ("mode", "seconds", "files/s", "x real time", "identical verdicts"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    for name, row in rows.items():
        table.add_row(
            name,
            f"{row['elapsed_s']:.1f}",
            f"{row['files_per_s']:.1f}",
            f"{row['audio_x_realtime']:.0f}",
            "yes" if row["identical"] else "NO",
        )
    Console().print(table)
    Console().print(
        f"summary {summary}; Ray 2-worker efficiency {efficiency:.2f}"
        if efficiency is not None
        else f"summary {summary}"
    )
    Console().print(
        f"killed after {resume['killed_after_files']} files, resumed in {resume['resume_s']:.1f} s:"
        f" {resume['verdict_lines']} verdicts for {resume['distinct_files']} files,"
        f" report identical: {resume['identical']}; written {out}"
    )


if __name__ == "__main__":
    main()
