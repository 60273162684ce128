"""Watermark benchmark on real music: robustness, false alarms, imperceptibility, speed.

    python benchmarks/labelling.py            # 40 tracks marked, every corpus track unmarked
    python benchmarks/labelling.py --quick    # 6 tracks, a smoke run
    python benchmarks/labelling.py --no-peer  # skip resemble-perth

Each marked track is a 30 s segment of a Debian game-music track (benchmarks/corpus.py),
written as 16-bit WAV, attacked (MP3 128/64 kbit/s, AAC 128 kbit/s, Opus 64 kbit/s,
resampling to 22.05 kHz, +-3 dB gain, white noise at 20 dB SNR), then a 10 s excerpt at a
random offset is decoded and searched. False alarms: every corpus track, unmarked, whole and
in 10 s excerpts. Imperceptibility: SNR, segmental SNR (20 ms frames, clamped to
[-10, 35] dB) and log-spectral distance (dB, 2048-point STFT) of the marked file against the
original. Speed: CPU seconds (process time, one core) per second of audio.

The peer is resemble-perth (Perth, a neural watermark with no payload) run from its own
virtual environment (``--perth-python``, default ~/.cache/sostenuto/perth-venv); it is given
the same segments (the first ``--peer-tracks`` of them: it embeds at about real time on a
CPU) and the same attacks, and counts as detected when its score exceeds 0.5.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CACHE, music_files
from sostenuto.audio import decode
from sostenuto.label import _watermark as wm

RESULTS = Path(__file__).resolve().parent / "results" / "labelling.json"
PLOT = RESULTS.with_suffix(".png")
PERTH_PYTHON = Path.home() / ".cache" / "sostenuto" / "perth-venv" / "bin" / "python"
SEGMENT_S = 30.0
EXCERPT_S = 10.0
TARGETS = {
    "clean": 0.99,
    "mp3-128k": 0.99,
    "resample-22.05k": 0.99,
    "gain+3dB": 0.99,
    "gain-3dB": 0.99,
    "mp3-64k": 0.95,
    "noise-20dB": 0.95,
}
console = Console()


def _ffmpeg(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True
    )
    return dst


def _numpy_attack(change: Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> Any:
    def attack(src: Path, dst: Path, rng: np.random.Generator) -> Path:
        audio, rate = soundfile.read(str(src), dtype="float64", always_2d=True)
        soundfile.write(str(dst), np.clip(change(audio, rng), -1, 1), rate, subtype="PCM_16")
        return dst

    return attack


def _noise(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    power = float(np.mean(audio**2))
    return audio + rng.normal(0.0, math.sqrt(power / 100.0), audio.shape)


ATTACKS: dict[str, tuple[str, Any]] = {
    "clean": (".wav", None),
    "mp3-128k": (".mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
    "mp3-64k": (".mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    "aac-128k": (".m4a", ["-c:a", "aac", "-b:a", "128k"]),
    "opus-64k": (".opus", ["-c:a", "libopus", "-b:a", "64k"]),
    "resample-22.05k": (".wav", ["-ar", "22050", "-c:a", "pcm_s16le"]),
    "gain+3dB": (".wav", _numpy_attack(lambda a, _: a * 10 ** (3 / 20))),
    "gain-3dB": (".wav", _numpy_attack(lambda a, _: a * 10 ** (-3 / 20))),
    "noise-20dB": (".wav", _numpy_attack(_noise)),
}


def _attack(name: str, src: Path, folder: Path, rng: np.random.Generator) -> Path:
    suffix, how = ATTACKS[name]
    if how is None:
        return src
    dst = folder / f"{src.stem}.{name}{suffix}"
    if isinstance(how, list):
        return _ffmpeg(src, dst, *how)
    result: Path = how(src, dst, rng)
    return result


def _segsnr(ref: np.ndarray, test: np.ndarray, rate: int) -> float:
    frame = int(0.02 * rate)
    n = (ref.size // frame) * frame
    r = ref[:n].reshape(-1, frame)
    e = (test[:n] - ref[:n]).reshape(-1, frame)
    energy = np.sum(r**2, axis=1)
    keep = energy > 1e-8 * frame  # silent frames say nothing about audibility
    snr = 10 * np.log10(energy[keep] / (np.sum(e[keep] ** 2, axis=1) + 1e-20))
    return float(np.mean(np.clip(snr, -10, 35))) if keep.any() else float("nan")


def _lsd(ref: np.ndarray, test: np.ndarray) -> float:
    from scipy import signal

    _, _, a = signal.stft(ref, nperseg=2048)
    _, _, b = signal.stft(test, nperseg=2048)
    pa = 10 * np.log10(np.abs(a) ** 2 + 1e-10)
    pb = 10 * np.log10(np.abs(b) ** 2 + 1e-10)
    return float(np.mean(np.sqrt(np.mean((pa - pb) ** 2, axis=0))))


def _quality(orig: Path, marked: Path) -> dict[str, float]:
    a, rate = soundfile.read(str(orig), dtype="float64", always_2d=True)
    b, _ = soundfile.read(str(marked), dtype="float64", always_2d=True)
    ref, test = a.mean(axis=1), b.mean(axis=1)
    if a.shape[1] != b.shape[1]:  # Perth writes mono: compare the mono mixes
        a, b = ref[:, None], test[:, None]
    snr = 10 * math.log10(np.sum(a**2) / (np.sum((b - a) ** 2) + 1e-20))
    return {"snr_db": snr, "segsnr_db": _segsnr(ref, test, rate), "lsd_db": _lsd(ref, test)}


def _excerpt(samples: np.ndarray, rate: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    length = int(EXCERPT_S * rate)
    if samples.shape[0] <= length:
        return samples, 0.0
    start = int(rng.integers(0, samples.shape[0] - length))
    return samples[start : start + length], start / rate


def _bit_accuracy(raw: int | None, truth: int) -> float:
    if raw is None:
        return 0.0
    return 1.0 - bin((raw ^ truth) & 0xFFFFFFFF).count("1") / 32.0


def _segment(path: Path) -> tuple[np.ndarray, int] | None:
    audio = decode(path, mono=False)
    samples = audio.samples if audio.samples.ndim == 2 else audio.samples[:, None]
    rate = audio.sample_rate
    if samples.shape[0] < (EXCERPT_S + 2) * rate:
        return None
    start = int(min(20.0 * rate, max(0, samples.shape[0] - SEGMENT_S * rate)))
    return samples[start : start + int(SEGMENT_S * rate)], rate


def run_ours(
    tracks: list[Path], folder: Path, rng: np.random.Generator, peer: bool
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    embed_cpu = audio_s = detect_cpu = detect_audio = 0.0
    peer_jobs: list[tuple[Path, Path]] = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("marking and attacking", total=len(tracks))
        for index, track in enumerate(tracks):
            bar.advance(task)
            if not console.is_terminal:
                console.log(f"marked {index + 1}/{len(tracks)}: {track.name}")
            segment = _segment(track)
            if segment is None:
                continue
            samples, rate = segment
            watermark_id = int(rng.integers(0, 2**32))
            orig = folder / f"t{index}.orig.wav"
            soundfile.write(str(orig), samples, rate, subtype="PCM_16")
            host, _ = soundfile.read(str(orig), dtype="float32", always_2d=True)
            start = time.process_time()
            marked, _report = wm.embed(host, rate, watermark_id)
            embed_cpu += time.process_time() - start
            audio_s += host.shape[0] / rate
            marked_path = folder / f"t{index}.wav"
            soundfile.write(str(marked_path), marked, rate, subtype="PCM_16")
            row: dict[str, Any] = {
                "track": track.name,
                "package": track.relative_to(CACHE).parts[0],
                "id": watermark_id,
            }
            row.update(_quality(orig, marked_path))
            for name in ATTACKS:
                attacked = _attack(name, marked_path, folder, rng)
                mono16 = decode(attacked, sample_rate=wm.RATE).samples
                piece, _ = _excerpt(mono16, wm.RATE, rng)
                start = time.process_time()
                found = wm.detect(piece)
                detect_cpu += time.process_time() - start
                detect_audio += piece.size / wm.RATE
                row[name] = {
                    "found": bool(found.found and found.watermark_id == watermark_id),
                    "wrong_id": bool(found.found and found.watermark_id != watermark_id),
                    "bit_accuracy": _bit_accuracy(found.raw_id, watermark_id),
                    "z": found.z,
                }
            rows.append(row)
            if peer:
                peer_jobs.append((orig, folder / f"t{index}.perth.wav"))
    summary: dict[str, Any] = {
        "tracks": len(rows),
        "packages": sorted({row["package"] for row in rows}),
        "attacks": {},
    }
    for name in ATTACKS:
        results = [row[name] for row in rows]
        summary["attacks"][name] = {
            "detection_rate": float(np.mean([r["found"] for r in results])),
            "bit_accuracy": float(np.mean([r["bit_accuracy"] for r in results])),
            "wrong_ids": int(sum(r["wrong_id"] for r in results)),
            "median_z": float(np.median([r["z"] for r in results])),
            "min_z": float(np.min([r["z"] for r in results])),
        }
    for key in ("snr_db", "segsnr_db", "lsd_db"):
        values = [row[key] for row in rows]
        summary[key] = {"min": float(np.min(values)), "mean": float(np.mean(values))}
    summary["embed_x_realtime"] = audio_s / embed_cpu
    summary["detect_x_realtime_10s"] = detect_audio / detect_cpu
    summary["rows"] = rows
    summary["peer_jobs"] = [(str(a), str(b)) for a, b in peer_jobs]
    return summary


def run_false_alarms(tracks: list[Path], rng: np.random.Generator, excerpts: int) -> dict[str, Any]:
    trials = detections = 0
    p_values: list[float] = []
    whole_cpu = whole_audio = 0.0
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("unmarked music", total=len(tracks))
        for number_of, track in enumerate(tracks):
            bar.advance(task)
            if not console.is_terminal and number_of % 10 == 0:
                console.log(f"unmarked {number_of + 1}/{len(tracks)}")
            mono16 = decode(track, sample_rate=wm.RATE).samples
            pieces = [mono16] + [_excerpt(mono16, wm.RATE, rng)[0] for _ in range(excerpts)]
            for number, piece in enumerate(pieces):
                start = time.process_time()
                found = wm.detect(piece)
                if number == 0:
                    whole_cpu += time.process_time() - start
                    whole_audio += piece.size / wm.RATE
                trials += 1
                detections += int(found.found)
                p_values.append(found.p_sync)
    p = np.array(p_values)
    return {
        "trials": trials,
        "files": len(tracks),
        "detections": detections,
        "sync_p_below": {str(t): float(np.mean(p <= t)) for t in (0.5, 0.1, 0.01, 1e-3)},
        "bound_per_trial": wm.SYNC_P_THRESHOLD * 2.0**-wm.CRC_BITS,
        "detect_x_realtime_whole": whole_audio / whole_cpu if whole_cpu else None,
    }


def run_perth(
    python: Path, jobs: list[tuple[str, str]], folder: Path, rng: np.random.Generator
) -> dict[str, Any]:
    def call(job: dict[str, Any]) -> dict[str, Any]:
        result = subprocess.run(
            [str(python), str(Path(__file__).with_name("_perth_worker.py"))],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=True,
        )
        loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return loaded

    with console.status("resemble-perth: embedding"):
        embedded = call({"embed": jobs})
    detect_paths: dict[str, list[str]] = {name: [] for name in ATTACKS}
    unmarked: list[str] = []
    quality: list[dict[str, float]] = []
    for orig, marked in jobs:
        quality.append(_quality(Path(orig), Path(marked)))
        for name in ATTACKS:
            attacked = _attack(name, Path(marked), folder, rng)
            audio = decode(attacked)
            piece, _ = _excerpt(audio.samples, audio.sample_rate, rng)
            path = folder / f"{Path(marked).stem}.{name}.excerpt.wav"
            soundfile.write(str(path), piece, audio.sample_rate, subtype="PCM_16")
            detect_paths[name].append(str(path))
        audio = decode(orig)
        piece, _ = _excerpt(audio.samples, audio.sample_rate, rng)
        path = folder / f"{Path(orig).stem}.unmarked.excerpt.wav"
        soundfile.write(str(path), piece, audio.sample_rate, subtype="PCM_16")
        unmarked.append(str(path))
    with console.status("resemble-perth: detecting"):
        detected = call(
            {"detect": [p for paths in detect_paths.values() for p in paths] + unmarked}
        )
    scores = detected["scores"]
    embed_cpu = sum(c for c, _ in embedded["embed_seconds"])
    embed_audio = sum(a for _, a in embedded["embed_seconds"])
    detect_cpu = sum(c for c, _ in detected["detect_seconds"])
    detect_audio = sum(a for _, a in detected["detect_seconds"])
    return {
        "attacks": {
            name: {
                "detection_rate": float(np.mean([scores[p] > 0.5 for p in paths])),
                "median_score": float(np.median([scores[p] for p in paths])),
            }
            for name, paths in detect_paths.items()
        },
        "false_detections": int(sum(scores[p] > 0.5 for p in unmarked)),
        "unmarked_trials": len(unmarked),
        "snr_db": {
            "min": min(q["snr_db"] for q in quality),
            "mean": float(np.mean([q["snr_db"] for q in quality])),
        },
        "segsnr_db": {"mean": float(np.mean([q["segsnr_db"] for q in quality]))},
        "lsd_db": {"mean": float(np.mean([q["lsd_db"] for q in quality]))},
        "embed_x_realtime": embed_audio / embed_cpu if embed_cpu else None,
        "detect_x_realtime_10s": detect_audio / detect_cpu if detect_cpu else None,
    }


def plot(results: dict[str, Any]) -> Path:
    """Detection rate per attack, Sostenuto beside Perth, with the targets marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["sostenuto"]["attacks"])
    ours = [results["sostenuto"]["attacks"][n]["detection_rate"] for n in names]
    perth = results.get("perth")
    x = np.arange(len(names))
    figure, axis = plt.subplots(figsize=(9, 3.6))
    axis.bar(x - 0.2, ours, 0.4, label="Sostenuto (32-bit id)")
    if perth:
        axis.bar(
            x + 0.2,
            [perth["attacks"][n]["detection_rate"] for n in names],
            0.4,
            label="Perth (no payload)",
        )
    for i, name in enumerate(names):
        if name in TARGETS:
            axis.plot([i - 0.4, i + 0.4], [TARGETS[name]] * 2, color="black", linewidth=1)
    axis.set_xticks(x, names, rotation=30, ha="right")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("detected, 10 s excerpts")
    axis.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(PLOT, dpi=90)
    plt.close(figure)
    return PLOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 tracks, 2 unmarked excerpts each")
    parser.add_argument("--tracks", type=int, default=None, help="marked tracks (default 40)")
    parser.add_argument("--no-peer", action="store_true", help="skip resemble-perth")
    parser.add_argument("--perth-python", type=Path, default=PERTH_PYTHON)
    parser.add_argument(
        "--peer-tracks", type=int, default=10, help="tracks given to Perth (it runs ~1x real time)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--replot", action="store_true", help="only redraw the plot from JSON")
    parser.add_argument(
        "--excerpts", type=int, default=None, help="unmarked 10 s excerpts per track (default 6)"
    )
    args = parser.parse_args()
    if args.replot:
        console.print(f"written {plot(json.loads(RESULTS.read_text()))}")
        return
    rng = np.random.default_rng(args.seed)
    everything = sorted(p for files in music_files().values() for p in files)
    count = args.tracks or (6 if args.quick else 40)
    chosen = [everything[i] for i in sorted(rng.choice(len(everything), count, replace=False))]
    unmarked = chosen if args.quick else everything
    peer = not args.no_peer and args.perth_python.exists()
    with tempfile.TemporaryDirectory(prefix="sostenuto-labelling-") as tmp:
        folder = Path(tmp)
        ours = run_ours(chosen, folder, rng, peer)
        excerpts = args.excerpts or (2 if args.quick else 6)
        false_alarms = run_false_alarms(unmarked, rng, excerpts)
        jobs = ours.pop("peer_jobs")[: args.peer_tracks]
        perth = run_perth(args.perth_python, jobs, folder, rng) if peer else None

    title = f"Watermark on {ours['tracks']} music segments, 10 s excerpts"
    if perth:
        title += f" (Perth on the first {len(jobs)})"
    table = Table(title=title)
    table.add_column("attack")
    table.add_column("Sostenuto detected", justify="right")
    table.add_column("bit accuracy", justify="right")
    table.add_column("wrong ids", justify="right")
    table.add_column("z min / median", justify="right")
    table.add_column("Perth detected", justify="right")
    table.add_column("target", justify="right")
    for name, result in ours["attacks"].items():
        table.add_row(
            name,
            f"{result['detection_rate']:.1%}",
            f"{result['bit_accuracy']:.1%}",
            str(result["wrong_ids"]),
            f"{result['min_z']:.1f} / {result['median_z']:.1f}",
            f"{perth['attacks'][name]['detection_rate']:.1%}" if perth else "-",
            f">= {TARGETS[name]:.0%}" if name in TARGETS else "",
        )
    console.print(table)
    other = Table(title="Imperceptibility, false alarms, speed (CPU time, one core)")
    other.add_column("measure")
    other.add_column("Sostenuto", justify="right")
    other.add_column("Perth", justify="right")
    other.add_column("target", justify="right")
    other.add_row(
        "SNR min / mean (dB)",
        f"{ours['snr_db']['min']:.1f} / {ours['snr_db']['mean']:.1f}",
        f"{perth['snr_db']['min']:.1f} / {perth['snr_db']['mean']:.1f}" if perth else "-",
        ">= 30",
    )
    other.add_row(
        "segmental SNR mean (dB)",
        f"{ours['segsnr_db']['mean']:.1f}",
        f"{perth['segsnr_db']['mean']:.1f}" if perth else "-",
        "",
    )
    other.add_row(
        "log-spectral distance mean (dB)",
        f"{ours['lsd_db']['mean']:.2f}",
        f"{perth['lsd_db']['mean']:.2f}" if perth else "-",
        "",
    )
    other.add_row(
        "false detections (unmarked)",
        f"{false_alarms['detections']}/{false_alarms['trials']}",
        f"{perth['false_detections']}/{perth['unmarked_trials']}" if perth else "-",
        "<= 1e-4 per file",
    )
    other.add_row(
        "embed x real time",
        f"{ours['embed_x_realtime']:.0f}",
        f"{perth['embed_x_realtime']:.1f}" if perth else "-",
        ">= 50",
    )
    other.add_row(
        "detect x real time (10 s)",
        f"{ours['detect_x_realtime_10s']:.0f}",
        f"{perth['detect_x_realtime_10s']:.1f}" if perth else "-",
        "",
    )
    console.print(other)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "note": "shared 2-core machine; other work ran at the same time",
        },
        "quick": args.quick,
        "peer_tracks": args.peer_tracks,
        "seed": args.seed,
        "targets": TARGETS,
        "sostenuto": ours,
        "false_alarms": false_alarms,
        "perth": perth,
    }
    RESULTS.write_text(json.dumps(results, indent=2, default=float))
    console.print(f"written {RESULTS} and {plot(results)}")


if __name__ == "__main__":
    main()
