"""Identification on the hard rows only, in memory, with fixed query sets: for trying changes.

    python benchmarks/identify_hard.py [--n 200] [--nulls 600] [--rows "white 5,mixed"]

Builds a fresh index of the registered benchmark tracks (benchmarks/identify.py's split and
decoded cache) with the code on the path, answers the same queries every run (fixed seeds;
degraded at 16 kHz and resampled to 8 kHz in memory, so figures differ a little from the
full benchmark's) and prints top-1 at the default threshold and above the largest score of
the unregistered queries, the tail of those scores and the search CPU. A few minutes, where
benchmarks/identify.py takes a quarter of an hour; run two code versions side by side with
PYTHONPATH=<other checkout>/src.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
import degradations as dg
import identify as bi
import sostenuto
from sostenuto.identify import DEFAULT_THRESHOLD, Index, fingerprint_samples, search

RATE = 16000


def to8k(x: np.ndarray) -> np.ndarray:
    return resample_poly(x, 1, 2).astype(np.float32)


ROWS = {
    "white 5 dB, 5 s": (5.0, lambda x, r, bed: dg.white_noise(x, 5, r), 1.0),
    "pink 5 dB, 10 s": (10.0, lambda x, r, bed: dg.pink_noise(x, 5, r), 0.5),
    "white 0 dB, 10 s": (10.0, lambda x, r, bed: dg.white_noise(x, 0, r), 0.5),
    "pink 0 dB, 10 s": (10.0, lambda x, r, bed: dg.pink_noise(x, 0, r), 0.5),
    "mixed 6 dB under, 10 s": (10.0, lambda x, r, bed: dg.mix_under(x, bed, 6.0), 0.5),
    "white 15 dB, 3 s": (3.0, lambda x, r, bed: dg.white_noise(x, 15, r), 0.3),
    "clean 3 s": (3.0, lambda x, r, bed: x, 0.3),
    "speed +5 %, 10 s": (10.0, lambda x, r, bed: dg.speed(x, 1.05), 0.3),
    "speed -5 %, 10 s": (10.0, lambda x, r, bed: dg.speed(x, 0.95), 0.3),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--n", type=int, default=200, help="queries in the first row; others scaled"
    )
    parser.add_argument("--nulls", type=int, default=600)
    parser.add_argument("--rows", default="", help="comma-separated substrings to keep")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print("code:", sostenuto.__file__, flush=True)
    music = corpus.music_files()
    registered = sorted(p for name in bi.REGISTERED_PACKAGES for p in music[name])
    unregistered = sorted(
        p for name, group in music.items() if name not in bi.REGISTERED_PACKAGES for p in group
    )
    audio = {p: bi.decoded(p) for p in registered + unregistered}
    began = time.process_time()
    prints = [(p.name, fingerprint_samples(to8k(audio[p]))) for p in registered]
    index_cpu = time.process_time() - began
    tmp = tempfile.TemporaryDirectory()
    index = Index.create(Path(tmp.name) / "index")
    index.add_many(prints)
    print(f"indexed {len(prints)} tracks in {index_cpu:.1f} s CPU", flush=True)

    keep = [s.strip() for s in args.rows.split(",") if s.strip()]
    results: dict[str, list[tuple[bool, float]]] = {}
    cpu: list[float] = []
    for row_number, (name, (seconds, degrade, share)) in enumerate(ROWS.items()):
        if keep and not any(k in name for k in keep):
            continue
        rng = np.random.default_rng(1000 + row_number)
        n = max(10, round(args.n * share))
        candidates = [p for p in registered if audio[p].size > (seconds + 2) * RATE]
        answers: list[tuple[bool, float]] = []
        for _ in range(n):
            source = candidates[rng.integers(len(candidates))]
            samples = audio[source]
            start = rng.integers(0, samples.size - int(seconds * RATE))
            excerpt = samples[start : start + int(seconds * RATE)]
            bed = audio[unregistered[rng.integers(len(unregistered))]]
            degraded = np.clip(degrade(excerpt, rng, bed), -1, 1).astype(np.float32)
            fp = fingerprint_samples(to8k(degraded), query=True)
            t = time.thread_time()
            found = search(index, fp, threshold=0.0)
            cpu.append(time.thread_time() - t)
            top = found[0] if found else None
            answers.append((top is not None and top.key == source.name, top.score if top else 0.0))
        results[name] = answers
        hits = sum(ok and s >= DEFAULT_THRESHOLD for ok, s in answers)
        print(f"  {name:28s} n={n:4d}  at the threshold: {100 * hits / n:5.1f} %", flush=True)

    rng = np.random.default_rng(7)
    nulls: list[float] = []
    for _, excerpt in bi.null_excerpts(audio, unregistered, args.nulls, rng):
        fp = fingerprint_samples(to8k(excerpt), query=True)
        t = time.thread_time()
        found = search(index, fp, threshold=0.0)
        cpu.append(time.thread_time() - t)
        nulls.append(found[0].score if found else 0.0)
    null_max = max(nulls) if nulls else 0.0
    print(
        f"nulls: {len(nulls)}, max {null_max:.2f}, 99.9th {np.percentile(nulls, 99.9):.2f}, "
        f"99th {np.percentile(nulls, 99):.2f}"
    )
    calibrated = max(null_max, 0.0)
    print(f"{'row':28s} {'n':>4s} {'default':>8s} {'>null max':>10s}")
    summary = {}
    for name, answers in results.items():
        n = len(answers)
        at10 = 100 * sum(ok and s >= DEFAULT_THRESHOLD for ok, s in answers) / n
        atcal = 100 * sum(ok and s > calibrated for ok, s in answers) / n
        summary[name] = {"n": n, "at_default": at10, "above_null_max": atcal}
        print(f"{name:28s} {n:4d} {at10:6.1f}% {atcal:9.1f}%")
    print(
        f"search CPU median {1000 * np.median(cpu):.1f} ms, "
        f"p95 {1000 * np.percentile(cpu, 95):.1f} ms"
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": summary, "null_max": null_max, "nulls": nulls}))


if __name__ == "__main__":
    main()
