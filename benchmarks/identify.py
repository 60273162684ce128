"""Audio identification benchmark: Sostenuto against Chromaprint (fpcalc) and audfprint2.

Real music from Debian's game-music packages (benchmarks/corpus.py) is split into registered
tracks and unregistered tracks. Queries are excerpts of registered tracks under the standard
degradations (benchmarks/degradations.py) and excerpts of unregistered tracks (false
positives). Every tool indexes the same original files and answers the same query WAV files.

    python benchmarks/identify.py            # the full run (~15 min on 2 shared cores)
    python benchmarks/identify.py --quick    # a few tracks and queries, to try it out

Chromaprint has no excerpt search of its own: its raw fingerprint is matched by sliding
bit-error rate against every reference, as AcoustID does; a match needs BER < 0.35.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
import degradations as dg
from sostenuto.audio import decode
from sostenuto.identify import (
    DEFAULT_THRESHOLD,
    SAMPLE_RATE,
    Fingerprint,
    Index,
    fingerprint_file,
    fingerprint_samples,
    load_audio,
    search,
)

RATE = 16000  # query files: every tool resamples from here itself
RESULTS = Path(__file__).with_name("results") / "identify.json"
CHROMAPRINT_BER = 0.35
REGISTERED_PACKAGES = ("wesnoth-1.16-music", "singularity-music")


@dataclass
class Query:
    path: Path
    row: str
    truth: str | None  # the reference file name, None for unregistered music


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    return time.process_time()


# -- query generation ---------------------------------------------------------------------
Degrade = Callable[[np.ndarray, np.random.Generator, dict[str, np.ndarray]], np.ndarray]


def rows() -> list[tuple[str, float, Degrade]]:
    """(row name, excerpt seconds, degradation)."""
    clean: Degrade = lambda x, rng, other: x  # noqa: E731
    table: list[tuple[str, float, Degrade]] = [
        (f"clean {n} s", float(n), clean) for n in (3, 5, 10, 30)
    ]
    table += [
        ("offset +1.37 s silence, 10 s", 10.0, lambda x, r, o: dg.offset(x, 1.37, RATE)),
        ("gain -20 dB, 10 s", 10.0, lambda x, r, o: dg.gain(x, -20)),
        ("resample via 11.025 kHz, 10 s", 10.0, lambda x, r, o: dg.resample(x, RATE, 11025)),
        ("MP3 64 kbit/s, 10 s", 10.0, lambda x, r, o: dg.mp3(x, RATE, 64)),
        ("MP3 32 kbit/s, 10 s", 10.0, lambda x, r, o: dg.mp3(x, RATE, 32)),
        ("AAC 48 kbit/s, 10 s", 10.0, lambda x, r, o: dg.aac(x, RATE, 48)),
        ("Opus 24 kbit/s, 10 s", 10.0, lambda x, r, o: dg.opus(x, RATE, 24)),
    ]
    for snr in (15, 5, 0):
        table.append(
            (f"white noise {snr} dB, 10 s", 10.0, lambda x, r, o, s=snr: dg.white_noise(x, s, r))
        )
        table.append(
            (f"pink noise {snr} dB, 10 s", 10.0, lambda x, r, o, s=snr: dg.pink_noise(x, s, r))
        )
    table += [
        ("white noise 5 dB, 5 s", 5.0, lambda x, r, o: dg.white_noise(x, 5, r)),
        ("white noise 15 dB, 3 s", 3.0, lambda x, r, o: dg.white_noise(x, 15, r)),
        (
            "mixed 6 dB under another track, 10 s",
            10.0,
            lambda x, r, o: dg.mix_under(x, o["bed"], 6.0),
        ),
        ("speed +5 %, 10 s", 10.0, lambda x, r, o: dg.speed(x, 1.05)),
        ("speed -5 %, 10 s", 10.0, lambda x, r, o: dg.speed(x, 0.95)),
    ]
    return table


def make_queries(
    folder: Path,
    registered: list[Path],
    unregistered: list[Path],
    per_row: int,
    nulls: int,
    rng: np.random.Generator,
) -> list[Query]:
    audio = {p: decode(p, sample_rate=RATE).samples for p in registered + unregistered}
    queries: list[Query] = []
    for row_number, (name, seconds, degrade) in enumerate(rows()):
        candidates = [p for p in registered if audio[p].size > (seconds + 2) * RATE]
        for k in range(per_row):
            source = candidates[rng.integers(len(candidates))]
            samples = audio[source]
            start = rng.integers(0, samples.size - int(seconds * RATE))
            excerpt = samples[start : start + int(seconds * RATE)]
            bed_source = unregistered[rng.integers(len(unregistered))]
            degraded = degrade(excerpt, rng, {"bed": audio[bed_source]})
            path = folder / f"q{row_number:02d}-{k:03d}.wav"
            soundfile.write(str(path), np.clip(degraded, -1, 1), RATE, subtype="PCM_16")
            queries.append(Query(path, name, source.name))
    for k in range(nulls):
        source = unregistered[k % len(unregistered)]
        samples = audio[source]
        seconds = (5.0, 10.0)[k % 2]
        if samples.size <= seconds * RATE:
            continue
        start = rng.integers(0, samples.size - int(seconds * RATE))
        path = folder / f"n{k:04d}.wav"
        soundfile.write(
            str(path), samples[start : start + int(seconds * RATE)], RATE, subtype="PCM_16"
        )
        queries.append(Query(path, "unregistered (false positives)", None))
    return queries


# -- Sostenuto ----------------------------------------------------------------------------
def sostenuto_index(folder: Path, registered: list[Path]) -> tuple[Index, float, list[Fingerprint]]:
    index = Index.create(folder / "sostenuto-index")
    cpu = own_cpu() + child_cpu()
    prints = [fingerprint_file(p) for p in registered]
    cpu = own_cpu() + child_cpu() - cpu
    index.add_many([(p.name, fp) for p, fp in zip(registered, prints, strict=True)])
    return index, cpu, prints


def sostenuto_answers(
    index: Index, queries: list[Query]
) -> tuple[list[tuple[str | None, float]], list[float]]:
    answers: list[tuple[str | None, float]] = []
    latencies: list[float] = []
    for query in queries:
        fingerprint = fingerprint_file(query.path, query=True)
        began = time.perf_counter()
        found = search(index, fingerprint, threshold=0.0)
        latencies.append(time.perf_counter() - began)
        answers.append((found[0].key, found[0].score) if found else (None, 0.0))
    return answers, latencies


# -- Chromaprint --------------------------------------------------------------------------
def fpcalc_raw(path: Path) -> np.ndarray:
    # fpcalc exits with 3 ("Error decoding audio frame (End of file)") whenever it reads a
    # file to its end; the fingerprint it prints is complete, so the code is not checked.
    out = subprocess.run(
        ["fpcalc", "-raw", "-plain", "-length", "0", str(path)], capture_output=True, text=True
    ).stdout.strip()
    if not out:
        return np.zeros(0, dtype=np.uint32)
    return np.array([int(v) & 0xFFFFFFFF for v in out.split(",")], dtype=np.uint32)


def chromaprint_answers(
    references: dict[str, np.ndarray], queries: list[Query]
) -> list[tuple[str | None, float]]:
    answers: list[tuple[str | None, float]] = []
    for query in queries:
        q = fpcalc_raw(query.path)
        best: tuple[str | None, float] = (None, 1.0)
        if q.size >= 4:
            for name, ref in references.items():
                if ref.size < q.size:
                    continue
                windows = np.lib.stride_tricks.sliding_window_view(ref, q.size)
                errors = np.bitwise_count(windows ^ q[None, :]).sum(axis=1)
                ber = float(errors.min()) / (32.0 * q.size)
                if ber < best[1]:
                    best = (name, ber)
        answers.append(best)
    return answers


# -- audfprint ----------------------------------------------------------------------------
_MATCHED = re.compile(r"Matched (.+?) [\d.]+ sec .*? as (.+?) at +[-\d.]+ s with +(\d+) of")


def audfprint_build(folder: Path, registered: list[Path]) -> tuple[Path, float]:
    database = folder / "audfprint.pklz"
    listing = folder / "audfprint-refs.txt"
    listing.write_text("\n".join(str(p) for p in registered) + "\n")
    cpu = child_cpu()
    subprocess.run(
        ["audfprint", "-d", str(database), "--list", "new", str(listing)],
        check=True,
        capture_output=True,
    )
    return database, child_cpu() - cpu


def audfprint_answers(
    database: Path, queries: list[Query], folder: Path
) -> list[tuple[str | None, float]]:
    listing = folder / "audfprint-queries.txt"
    listing.write_text("\n".join(str(q.path) for q in queries) + "\n")
    run = subprocess.run(
        ["audfprint", "-d", str(database), "-v", "--list", "match", str(listing)],
        capture_output=True,
        text=True,
    )
    found: dict[str, tuple[str, float]] = {}
    for line in (run.stderr + run.stdout).splitlines():
        hit = _MATCHED.search(line)
        if hit and hit.group(1) not in found:
            found[hit.group(1)] = (Path(hit.group(2)).name, float(hit.group(3)))
    return [found.get(str(q.path), (None, 0.0)) for q in queries]


# -- scoring ------------------------------------------------------------------------------
def accuracy_table(
    queries: list[Query],
    answers: dict[str, list[tuple[str | None, float]]],
    accept: dict[str, Callable[[float], bool]],
) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for row in dict.fromkeys(q.row for q in queries):
        picked = [i for i, q in enumerate(queries) if q.row == row]
        table[row] = {"queries": len(picked)}
        for tool, answer in answers.items():
            if queries[picked[0]].truth is None:
                wrong = sum(1 for i in picked if answer[i][0] and accept[tool](answer[i][1]))
                table[row][tool] = wrong / len(picked)
            else:
                right = sum(
                    1
                    for i in picked
                    if answer[i][0] == queries[i].truth and accept[tool](answer[i][1])
                )
                table[row][tool] = right / len(picked)
    return table


def extra_null_scores(
    index: Index, unregistered: list[Path], count: int, rng: np.random.Generator
) -> list[float]:
    """Best evidence for many more unregistered excerpts (5 and 10 s), cut in memory."""
    audio = [load_audio(p).samples for p in unregistered]
    scores = []
    for k in range(count):
        samples = audio[k % len(audio)]
        length = int((5.0, 10.0)[k % 2] * SAMPLE_RATE)
        if samples.size <= length:
            continue
        start = rng.integers(0, samples.size - length)
        found = search(
            index, fingerprint_samples(samples[start : start + length], query=True), threshold=0.0
        )
        scores.append(found[0].score if found else 0.0)
    return sorted(scores)


def latency_growth(
    index: Index, prints: list[Fingerprint], queries: list[Query], folder: Path, factors: list[int]
) -> list[dict[str, float]]:
    """Median search latency as the index grows, with copies of the catalogue whose hashes
    are permuted (XOR with a per-copy constant): new "tracks" with real statistics."""
    sample = [fingerprint_file(q.path, query=True) for q in queries if q.row == "clean 10 s"]
    growth: list[dict[str, float]] = []
    grown = Index.create(folder / "growth")
    made = 0
    rng = np.random.default_rng(5)
    for factor in factors:
        batch = []
        while made < factor:
            mask = np.uint32(rng.integers(1, 1 << 25)) if made else np.uint32(0)
            batch += [
                (
                    f"copy{made}-{n}",
                    Fingerprint(
                        fp.hashes ^ mask,
                        fp.times,
                        fp.bins,
                        fp.peak_times,
                        fp.peak_bins,
                        fp.duration,
                    ),
                )
                for n, fp in enumerate(prints)
            ]
            made += 1
        grown.add_many(batch)
        grown.compact()
        times = []
        for fp in sample:
            began = time.perf_counter()
            search(grown, fp)
            times.append(time.perf_counter() - began)
        stats = grown.stats()
        growth.append(
            {
                "tracks": stats.tracks,
                "hours": round(stats.hours, 2),
                "postings": stats.postings,
                "median_latency_ms": round(1000 * float(np.median(times)), 2),
            }
        )
        print(
            f"  index {stats.tracks} tracks ({stats.hours:.1f} h): "
            f"median search {growth[-1]['median_latency_ms']} ms",
            flush=True,
        )
    return growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run to try it out")
    args = parser.parse_args()
    per_row, nulls, n_registered = (3, 40, 10) if args.quick else (10, 300, 40)
    extra_nulls = 200 if args.quick else 1000
    factors = [1, 4] if args.quick else [1, 4, 16, 32]
    rng = np.random.default_rng(2026)
    # Packages stay whole on one side: warzone2100's two albums reuse long passages of each
    # other, which would make "unregistered" queries that really are registered audio.
    music = corpus.music_files()
    pool = sorted(p for name in REGISTERED_PACKAGES for p in music[name])
    registered = sorted(pool[i] for i in rng.permutation(len(pool))[:n_registered])
    unregistered = sorted(
        p for name, group in music.items() if name not in REGISTERED_PACKAGES for p in group
    )
    if args.quick:
        unregistered = unregistered[:10]
    print(
        f"{len(registered)} registered tracks, {len(unregistered)} unregistered; "
        f"{os.cpu_count()} cores (shared machine)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="identify-bench-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        queries = make_queries(folder, registered, unregistered, per_row, nulls, rng)
        print(f"{len(queries)} queries made in {time.perf_counter() - began:.0f} s", flush=True)
        ref_seconds = sum(float(decode(p, sample_rate=8000).duration) for p in registered)
        hours = ref_seconds / 3600

        index, sos_cpu, prints = sostenuto_index(folder, registered)
        print(f"sostenuto: indexed in {sos_cpu:.1f} s CPU", flush=True)
        cpu = child_cpu()
        references = {p.name: fpcalc_raw(p) for p in registered}
        fp_cpu = child_cpu() - cpu
        print(f"fpcalc: fingerprinted in {fp_cpu:.1f} s CPU", flush=True)
        afp_db, afp_cpu = audfprint_build(folder, registered)
        print(f"audfprint: indexed in {afp_cpu:.1f} s CPU", flush=True)

        began = time.perf_counter()
        sos, latencies = sostenuto_answers(index, queries)
        sos_wall = time.perf_counter() - began
        print(f"sostenuto: answered in {sos_wall:.0f} s", flush=True)
        began = time.perf_counter()
        chroma = chromaprint_answers(references, queries)
        print(f"chromaprint: answered in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        afp = audfprint_answers(afp_db, queries, folder)
        print(f"audfprint: answered in {time.perf_counter() - began:.0f} s", flush=True)

        answers = {"sostenuto": sos, "chromaprint": chroma, "audfprint": afp}
        accept: dict[str, Callable[[float], bool]] = {
            "sostenuto": lambda s: s >= DEFAULT_THRESHOLD,
            "chromaprint": lambda ber: ber < CHROMAPRINT_BER,
            "audfprint": lambda count: count > 0,
        }
        table = accuracy_table(queries, answers, accept)
        # Each tool at its own threshold for a false-positive rate of at most 0.1 % on the
        # shared unregistered queries: the fair comparison.
        goodness = {
            "sostenuto": lambda s: s,
            "chromaprint": lambda ber: 1.0 - ber,
            "audfprint": lambda count: count,
        }
        calibrated: dict[str, float] = {}
        for tool, answer in answers.items():
            null = sorted(
                goodness[tool](score) if key else -1.0
                for (key, score), q in zip(answer, queries, strict=True)
                if q.truth is None
            )
            allowed = int(0.001 * len(null))
            calibrated[tool] = null[len(null) - 1 - allowed]
        accept_calibrated: dict[str, Callable[[float], bool]] = {
            tool: (lambda s, t=tool: goodness[t](s) > calibrated[t]) for tool in answers
        }
        table_calibrated = accuracy_table(queries, answers, accept_calibrated)
        began = time.perf_counter()
        null_scores = extra_null_scores(index, unregistered, extra_nulls, rng)
        print(
            f"sostenuto: {extra_nulls} more unregistered queries in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        growth = latency_growth(index, prints, queries, folder, factors)
        afp_bytes = afp_db.stat().st_size
        sos_stats = index.stats()

    speed = {
        "sostenuto": ref_seconds / sos_cpu,
        "chromaprint": ref_seconds / fp_cpu,
        "audfprint": ref_seconds / afp_cpu,
    }
    size = {
        "sostenuto": sos_stats.bytes_per_hour,
        "chromaprint": sum(r.size * 4 for r in references.values()) / hours,
        "audfprint": afp_bytes / hours,
    }
    width = max(len(r) for r in table) + 2
    header = f"{'n':>5}{'Sostenuto':>11}{'Chromaprint':>13}{'audfprint':>11}"

    def show(title: str, rows_: dict[str, dict[str, float]]) -> None:
        print(f"\n{title:<{width}}{header}")
        for row, values in rows_.items():
            print(
                f"{row:<{width}}{int(values['queries']):>5}"
                f"{values['sostenuto']:>11.1%}{values['chromaprint']:>13.1%}"
                f"{values['audfprint']:>11.1%}"
            )

    show("top-1 at default thresholds (last row: FP rate)", table)
    show("top-1 at each tool's threshold for FP <= 0.1 %", table_calibrated)
    print(
        f"\n{'speed (x real time, one core, decoding included)':<{width}}"
        f"{'':>5}{speed['sostenuto']:>11.0f}{speed['chromaprint']:>13.0f}"
        f"{speed['audfprint']:>11.0f}"
    )
    print(
        f"{'index bytes per hour of audio':<{width}}{'':>5}{size['sostenuto']:>11.0f}"
        f"{size['chromaprint']:>13.0f}{size['audfprint']:>11.0f}"
    )
    print(
        f"Sostenuto search latency: median {1000 * np.median(latencies):.1f} ms, "
        f"p95 {1000 * np.percentile(latencies, 95):.1f} ms "
        f"(fingerprinting the query not included)"
    )
    false_positives = sum(1 for score in null_scores if score >= DEFAULT_THRESHOLD)
    print(
        f"Sostenuto on {len(null_scores)} more unregistered queries: {false_positives} above "
        f"the threshold {DEFAULT_THRESHOLD} ({false_positives / len(null_scores):.2%}); "
        f"evidence max {null_scores[-1]:.2f}, "
        f"99.9th percentile {np.percentile(null_scores, 99.9):.2f}"
    )
    print(f"thresholds for FP <= 0.1 % on the shared unregistered queries: {calibrated}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores, shared with other work",
                "registered_tracks": len(registered),
                "registered_hours": round(hours, 3),
                "unregistered_tracks": len(unregistered),
                "queries": len(queries),
                "threshold": {
                    "sostenuto": DEFAULT_THRESHOLD,
                    "chromaprint_ber": CHROMAPRINT_BER,
                    "audfprint": "its default (-N 5)",
                },
                "top1": table,
                "top1_at_calibrated_thresholds": table_calibrated,
                "calibrated_thresholds": calibrated,
                "speed_x_realtime_per_core": speed,
                "index_bytes_per_hour": size,
                "sostenuto_latency_ms": {
                    "median": 1000 * float(np.median(latencies)),
                    "p95": 1000 * float(np.percentile(latencies, 95)),
                },
                "sostenuto_extra_unregistered": {
                    "count": len(null_scores),
                    "false_positives": false_positives,
                    "max_evidence": null_scores[-1],
                    "p99_9_evidence": float(np.percentile(null_scores, 99.9)),
                },
                "latency_growth": growth,
            },
            indent=1,
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
