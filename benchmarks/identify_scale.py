"""Catalogue-scale identification: the compact index from 10^3 to 10^5 tracks.

The real registered tracks of benchmarks/identify.py (wesnoth and singularity music) are
indexed from their audio; the rest of the catalogue is synthetic tracks whose postings are
drawn from the real tracks' empirical hash statistics:

- hashes: the pair field ``d12 | d23`` (14 bits) and the context field ``ratio | band |
  span`` (11 bits) each drawn from its empirical distribution over the real tracks' hashes
  (independently: drawing whole observed hashes would pile 10^9 postings on the ~10^6 hashes
  a few hours of music happen to contain); as many hashes per second as a real track,
  durations drawn from the real tracks', times uniform over the track;
- verification peaks: a real track's peaks turned around in time and mirrored in
  frequency (music-like peak density and structure that no query holds), so a synthetic
  track that becomes a candidate costs a real decode and a real verification.

Queries are 10 s excerpts of registered tracks (clean) and 5 s excerpts at 5 dB white
noise, and 5 / 10 s excerpts of real unregistered tracks (other packages): the false
positives. At each size: build rate, bytes per hour of audio on disk, search CPU time
p50 / p99 (query already fingerprinted), registered queries found, unregistered flagged at
the default threshold. Finally the same queries go through ``RayShardPool`` with 4 shards
on a local Ray cluster and must give the answers of the in-process ``ShardedIndex``.

    python benchmarks/identify_scale.py                # 10^3, 10^4, 10^5 tracks
    python benchmarks/identify_scale.py --quick        # 10^3 and 3·10^3 tracks, few queries
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import corpus
from sostenuto.identify import (
    DEFAULT_THRESHOLD,
    Fingerprint,
    Index,
    RayShardPool,
    ShardedIndex,
    fingerprint_samples,
    load_audio,
    search,
    shard_of,
)
from sostenuto.identify._index import EncodedTrack
from sostenuto.identify._params import FRAME_SECONDS, SAMPLE_RATE, VERSION
from sostenuto.identify._reference import encode_peaks

RESULTS = Path(__file__).with_name("results") / "identify_scale.json"
CACHE = corpus.CACHE.parent / "bench-identify-scale"
REGISTERED_PACKAGES = ("wesnoth-1.16-music", "singularity-music")
SEGMENT_TRACKS = 5000  # synthetic tracks per segment (bounds the build's memory)
MAX_BIN = 120  # the log-frequency axis has 121 bins


def cpu() -> float:
    return time.process_time()


# -- real audio -----------------------------------------------------------------------------
def audio_of(path: Path) -> np.ndarray:
    """8 kHz mono samples of ``path``, decoded once and cached."""
    digest = hashlib.sha1(f"{path}|{path.stat().st_size}".encode()).hexdigest()[:16]
    cached = CACHE / "audio" / f"{digest}.npy"
    if cached.exists():
        return np.load(cached)
    samples = load_audio(path).samples
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.save(cached, samples)
    return samples


def corpus_files() -> tuple[list[Path], list[Path]]:
    """Registered and unregistered tracks, split by package as benchmarks/identify.py does."""
    music = corpus.music_files()
    registered = sorted(p for name in REGISTERED_PACKAGES for p in music[name])
    others = sorted(
        p for name, group in music.items() if name not in REGISTERED_PACKAGES for p in group
    )
    return registered, others


# -- empirical statistics and synthetic tracks -----------------------------------------------
@dataclass(frozen=True)
class HashStatistics:
    """What the synthetic tracks are drawn from: the real reference tracks' statistics."""

    pair_p: np.ndarray  # over the 14-bit d12 | d23 field
    context_p: np.ndarray  # over the 11-bit ratio | band | span field
    hashes_per_second: np.ndarray  # one per real track
    durations: np.ndarray
    blobs: list[tuple[bytes, int]]  # mirrored peaks of each real track, and their count

    @classmethod
    def of(cls, prints: list[Fingerprint]) -> HashStatistics:
        hashes = np.concatenate([fp.hashes for fp in prints]).astype(np.int64)
        pair = np.bincount(hashes >> 11, minlength=1 << 14).astype(np.float64)
        context = np.bincount(hashes & 0x7FF, minlength=1 << 11).astype(np.float64)
        blobs = []
        for fp in prints:
            frames = int(fp.duration / FRAME_SECONDS)
            assert fp.hashed is not None
            times = frames - fp.peak_times[::-1]
            bins = MAX_BIN - fp.peak_bins[::-1]
            order = np.lexsort((bins, times))
            blob = encode_peaks(times[order], bins[order], fp.hashed[::-1][order])
            blobs.append((blob, int(times.size)))
        return cls(
            pair / pair.sum(),
            context / context.sum(),
            np.array([len(fp) / fp.duration for fp in prints]),
            np.array([fp.duration for fp in prints]),
            blobs,
        )


_TABLE_BITS = 22


def _draw(p: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` values drawn with probabilities ``p``, by one gather into a table of 2^22
    equally likely entries (the inverse CDF; values rarer than 2^-22 are drawn at most that
    often): ten times faster than ``Generator.choice`` for 10^8 draws."""
    edges = np.cumsum(p) * (1 << _TABLE_BITS)
    table = np.searchsorted(edges, np.arange(1 << _TABLE_BITS) + 0.5, side="right")
    table = np.minimum(table, p.size - 1).astype(np.uint16)
    return table[rng.integers(0, 1 << _TABLE_BITS, count)]


def synthetic_tracks(
    stats: HashStatistics, first: int, count: int, seed: int
) -> list[EncodedTrack]:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, stats.durations.size, count)
    durations = stats.durations[rng.integers(0, stats.durations.size, count)]
    sizes = np.rint(durations * stats.hashes_per_second[pick]).astype(np.int64)
    total = int(sizes.sum())
    pair = _draw(stats.pair_p, total, rng).astype(np.uint32)
    hashes = (pair << np.uint32(11)) | _draw(stats.context_p, total, rng).astype(np.uint32)
    del pair
    frames = np.repeat((durations / FRAME_SECONDS).astype(np.int64), sizes)
    times = (rng.random(total) * frames).astype(np.int32)
    bounds = np.cumsum(sizes)[:-1]
    tracks = []
    for n, (h, t) in enumerate(zip(np.split(hashes, bounds), np.split(times, bounds), strict=True)):
        blob, peaks = stats.blobs[int(pick[n])]
        tracks.append(
            EncodedTrack(f"synthetic-{first + n:07d}", float(durations[n]), h, t, peaks, blob)
        )
    return tracks


# -- queries ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    kind: str  # "clean 10 s", "white 5 dB, 5 s" or "unregistered"
    truth: str | None
    fingerprint: Fingerprint


def white(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    power = float(np.mean(samples.astype(np.float64) ** 2)) or 1e-12
    noise = rng.standard_normal(samples.size) * np.sqrt(power / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def make_queries(
    registered: dict[str, np.ndarray],
    unregistered: list[np.ndarray],
    per_kind: int,
    nulls: int,
    rng: np.random.Generator,
) -> list[Query]:
    keys = sorted(registered)
    queries: list[Query] = []
    for kind, seconds, snr in (("clean 10 s", 10.0, None), ("white 5 dB, 5 s", 5.0, 5.0)):
        for _ in range(per_kind):
            key = keys[int(rng.integers(len(keys)))]
            samples = registered[key]
            start = int(rng.integers(0, samples.size - int(seconds * SAMPLE_RATE)))
            excerpt = samples[start : start + int(seconds * SAMPLE_RATE)]
            if snr is not None:
                excerpt = white(excerpt, snr, rng)
            queries.append(Query(kind, key, fingerprint_samples(excerpt, query=True)))
    made = 0
    while made < nulls:
        samples = unregistered[made % len(unregistered)]
        seconds = (5.0, 10.0)[made % 2]
        made += 1
        if samples.size <= seconds * SAMPLE_RATE:
            continue
        start = int(rng.integers(0, samples.size - int(seconds * SAMPLE_RATE)))
        excerpt = samples[start : start + int(seconds * SAMPLE_RATE)]
        queries.append(Query("unregistered", None, fingerprint_samples(excerpt, query=True)))
    return queries


# -- measuring -------------------------------------------------------------------------------
def measure(
    index: Index, queries: list[Query]
) -> tuple[dict[str, object], list[list[tuple[str, float]]]]:
    """Latency and answers of every query against ``index`` (CPU time of the search)."""
    times: list[float] = []
    answers: list[list[tuple[str, float]]] = []
    found: dict[str, list[bool]] = {}
    flagged = 0
    nulls = 0
    for query in queries:
        began = cpu()
        matches = search(index, query.fingerprint)
        times.append(cpu() - began)
        answers.append([(m.key, round(m.score, 6)) for m in matches])
        if query.truth is None:
            nulls += 1
            flagged += bool(matches)
        else:
            top = matches[0].key if matches else None
            found.setdefault(query.kind, []).append(top == query.truth)
    ms = 1000 * np.array(times)
    row: dict[str, object] = {
        "latency_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "latency_p99_ms": round(float(np.percentile(ms, 99)), 1),
        "latency_max_ms": round(float(ms.max()), 1),
        "found": {kind: round(100 * float(np.mean(v)), 1) for kind, v in found.items()},
        "unregistered": nulls,
        "false_positives": flagged,
        "fp_rate_percent": round(100 * flagged / max(nulls, 1), 3),
    }
    return row, answers


def grow(
    index: Index,
    stats: HashStatistics,
    have: int,
    target: int,
    seed: int,
) -> Iterator[float]:
    """Add synthetic tracks until the index holds ``target``; yields each batch's CPU."""
    while have < target:
        count = min(SEGMENT_TRACKS, target - have)
        began = cpu()
        index.add_encoded(synthetic_tracks(stats, have, count, seed + have))
        have += count
        yield cpu() - began


# -- Ray ---------------------------------------------------------------------------------------
def ray_check(
    folder: Path,
    real: list[EncodedTrack],
    stats: HashStatistics,
    tracks: int,
    queries: list[Query],
    seed: int,
) -> dict[str, object]:
    """A 4-shard catalogue of the same tracks: Ray actors against the in-process fan-out."""
    sharded = ShardedIndex.create(folder / "sharded", shards=4)
    for shard in range(4):
        sharded.shards[shard].add_encoded([t for t in real if shard_of(t.key, 4) == shard])
    have = len(real)
    while have < tracks:
        count = min(SEGMENT_TRACKS, tracks - have)
        batch = synthetic_tracks(stats, have, count, seed + have)
        for shard in range(4):
            sharded.shards[shard].add_encoded([t for t in batch if shard_of(t.key, 4) == shard])
        have += count
    sharded = sharded.reload()
    import ray

    # A local cluster owned by this process (ray.shutdown ends it; no shared head node).
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        pool = RayShardPool(sharded.root)
        same = 0
        began = time.perf_counter()
        for query in queries:
            local = [(m.key, m.score) for m in sharded.search(query.fingerprint)]
            remote = [(m.key, m.score) for m in pool.search(query.fingerprint)]
            same += local == remote
        wall = time.perf_counter() - began
        pool.close()
    finally:
        ray.shutdown()
    return {
        "tracks": tracks,
        "shards": 4,
        "queries": len(queries),
        "identical_answers": same,
        "wall_s_both": round(wall, 1),
    }


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--per-kind", type=int, default=50, help="registered queries per kind")
    parser.add_argument("--nulls", type=int, default=500, help="unregistered queries")
    parser.add_argument("--ray-tracks", type=int, default=10000, help="catalogue for Ray")
    parser.add_argument("--ray-queries", type=int, default=100)
    parser.add_argument("--folder", default=None, help="where to build (default: a temp dir)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.per_kind, args.nulls = "1000,3000", 10, 60
        args.ray_tracks, args.ray_queries = 1000, 20
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(2027)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="identify-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"building under {folder}; {os.cpu_count()} cores (shared machine)", flush=True)

    registered_files, unregistered_files = corpus_files()
    began = cpu()
    registered = {p.name: audio_of(p) for p in registered_files}
    unregistered = [audio_of(p) for p in unregistered_files]
    print(f"decoded {len(registered)} + {len(unregistered)} tracks in {cpu() - began:.1f} s CPU")
    began = cpu()
    prints = {key: fingerprint_samples(samples) for key, samples in registered.items()}
    real = [EncodedTrack.of(key, fp) for key, fp in prints.items()]
    fingerprint_cpu = cpu() - began
    stats = HashStatistics.of(list(prints.values()))
    queries = make_queries(registered, unregistered, args.per_kind, args.nulls, rng)
    print(
        f"{len(real)} real tracks ({sum(fp.duration for fp in prints.values()) / 3600:.2f} h, "
        f"{stats.hashes_per_second.mean():.1f} hashes/s), {len(queries)} queries",
        flush=True,
    )

    index = Index.create(folder / "index")
    began = cpu()
    index.add_encoded(real)
    real_cpu = cpu() - began
    have = len(real)
    build_cpu = real_cpu
    rows: list[dict[str, object]] = []
    answers_at: dict[int, list[list[tuple[str, float]]]] = {}
    for size in sizes:
        for batch_cpu in grow(index, stats, have, size, seed=7):
            build_cpu += batch_cpu
        have = max(have, size)
        index = index.reload()
        info = index.stats()
        row, answers = measure(index, queries)
        answers_at[size] = answers
        row = {
            "tracks": info.tracks,
            "hours": round(info.hours, 1),
            "postings": info.postings,
            "segments": info.segments,
            "disk_bytes": info.disk_bytes,
            "mb_per_hour": round(info.bytes_per_hour / 1e6, 3),
            "bytes_per_posting": round(info.disk_bytes / max(info.postings, 1), 2),
            "build_tracks_per_cpu_s": round(info.tracks / build_cpu, 1),
            "build_hours_per_cpu_s": round(info.hours / build_cpu, 2),
            **row,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not args.quick:  # keep what is measured if a later size runs out of time
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.with_suffix(".partial.json").write_text(json.dumps(rows, indent=1))
    step = max(1, len(queries) // args.ray_queries)
    ray = ray_check(folder, real, stats, args.ray_tracks, queries[::step], seed=7)
    print(json.dumps(ray), flush=True)
    result = {
        "fingerprint_version": VERSION,
        "threshold": DEFAULT_THRESHOLD,
        "real_tracks": len(real),
        "real_fingerprint_cpu_s": round(fingerprint_cpu, 1),
        "real_index_cpu_s": round(real_cpu, 2),
        "queries": {
            kind: sum(q.kind == kind for q in queries) for kind in sorted({q.kind for q in queries})
        },
        "sizes": rows,
        "ray": ray,
        "quick": args.quick,
    }
    show(result)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1))
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)


def show(result: dict[str, object]) -> None:
    print()
    print(
        "| tracks | hours | MB/h | B/posting | build h/CPU s | p50 ms | p99 ms "
        "| clean 10 s | 5 dB 5 s | FP |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in result["sizes"]:  # type: ignore[attr-defined]
        found = row["found"]
        print(
            f"| {row['tracks']} | {row['hours']} | {row['mb_per_hour']} | "
            f"{row['bytes_per_posting']} | {row['build_hours_per_cpu_s']} | "
            f"{row['latency_p50_ms']} | {row['latency_p99_ms']} | "
            f"{found.get('clean 10 s', '-')} % | {found.get('white 5 dB, 5 s', '-')} % | "
            f"{row['false_positives']}/{row['unregistered']} |"
        )
    ray = result["ray"]
    print(
        f"Ray, {ray['shards']} shards, {ray['tracks']} tracks: "  # type: ignore[index]
        f"{ray['identical_answers']}/{ray['queries']} identical answers"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
