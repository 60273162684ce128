"""Search and keyset paging at registry scale, side by side with plain SQL OFFSET paging.

    python benchmarks/search.py            # 10^6 recordings on SQLite and PostgreSQL
    python benchmarks/search.py --quick    # 10^5 recordings
    python benchmarks/search.py --pg-recordings 100000   # a smaller PostgreSQL registry

Builds a registry of synthetic recordings (``sostenuto.registry.synthetic``, written with
direct inserts; the SQLite file is cached under ``~/.cache/sostenuto/``, the PostgreSQL one in
schema ``bench_search`` of ``SOSTENUTO_BENCH_POSTGRES_URL``) plus stored decisions of one
licensee among others, then measures through the services (``search_recordings``,
``list_decisions``):

- search by ISRC, first page, p50 / p99 (target p99 <= 50 ms),
- search by title prefix, first page of 100, p50 / p99 (target p99 <= 50 ms),
- paging through every decision of one licensee, 1 000 a page (target >= 50 000 rows/s),

and the peer, plain SQL on the same data: the title prefix as ``title LIKE 'Prefix%'`` and
the licensee's decisions paged with ``LIMIT 1000 OFFSET k``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from sostenuto.auth import OPERATOR, PUBLIC
from sostenuto.consent import list_decisions
from sostenuto.registry import search_recordings
from sostenuto.registry.synthetic import WORDS, synthetic_recordings
from sostenuto.storage import Database

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path.home() / ".cache" / "sostenuto"
PG_URL = os.environ.get(
    "SOSTENUTO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "bench_search"
TARGET_P99_MS = 50.0
TARGET_ROWS_PER_S = 50_000
CHUNK = 50_000
AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.date(2026, 6, 1)
console = Console(width=150)


def _recording_rows(count: int) -> Iterator[tuple[Any, ...]]:
    for rec in synthetic_recordings(count, performers=max(1, count // 10), seed=7):
        yield (rec.isrc, rec.title, rec.duration_ms, rec.fixation_year, 1)


def _decision_rows(count: int, licensees: int, recordings: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(11)
    for i in range(count):
        outcome = "permit" if rng.random() < 0.7 else "deny"
        yield (
            f"dec_{rng.getrandbits(96):024x}",
            1 + i % licensees,
            1 + rng.randrange(recordings),
            outcome,
        )


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


SEED_SQL = (
    "INSERT INTO cmo (id, code, name, country, identifiers)"
    " VALUES (1, 'BENCH', 'Bench', 'ES', '{}')",
    "INSERT INTO licensee (id, name, kind) VALUES (1, 'Listed', 'developer')",
    "INSERT INTO licensee (id, name, kind) VALUES (2, 'Other one', 'developer')",
    "INSERT INTO licensee (id, name, kind) VALUES (3, 'Other two', 'developer')",
)


def build_sqlite(recordings: int, decisions: int) -> Database:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"search-{recordings}-{decisions}.sqlite"
    done = path.with_suffix(".done")
    if path.exists() and done.exists():
        console.print(f"SQLite: cached {path}")
        database = Database(f"sqlite:///{path}")
        database.migrate()
        return database
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for sql in SEED_SQL:
        connection.execute(sql)
    for chunk in _chunks(_recording_rows(recordings)):
        connection.executemany(
            "INSERT INTO recording (isrc, title, duration_ms, fixation_year,"
            " registered_by_cmo_id) VALUES (?, ?, ?, ?, ?)",
            chunk,
        )
    stamp = AT.strftime("%Y-%m-%d %H:%M:%S.%f")
    for chunk in _chunks(_decision_rows(decisions, 3, recordings)):
        connection.executemany(
            "INSERT INTO decision (id, decided_at, licensee_id, recording_id, use, territory,"
            " on_date, outcome, basis) VALUES (?, ?, ?, ?, 'train-genai', 'ES', ?, ?, '{}')",
            [(i, stamp, lic, rec, DAY.isoformat(), outcome) for i, lic, rec, outcome in chunk],
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    done.touch()
    console.print(f"SQLite: built {path} in {time.perf_counter() - started:.0f} s")
    return Database(f"sqlite:///{path}")


def build_postgres(recordings: int, decisions: int) -> Database:
    admin = create_engine(PG_URL)
    marker = f"{recordings}-{decisions}"
    with admin.begin() as connection:
        found = connection.execute(
            text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :s"
            ),
            {"s": PG_SCHEMA},
        ).scalar()
        if found == marker:
            admin.dispose()
            console.print(f"PostgreSQL: cached schema {PG_SCHEMA}")
            return Database(PG_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()
    started = time.perf_counter()
    database = Database(PG_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
    database.migrate()
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql in SEED_SQL:
            cursor.execute(sql)
        with cursor.copy(
            "COPY recording (isrc, title, duration_ms, fixation_year, registered_by_cmo_id)"
            " FROM STDIN"
        ) as copy:
            for row in _recording_rows(recordings):
                copy.write_row(row)
        with cursor.copy(
            "COPY decision (id, decided_at, licensee_id, recording_id, use, territory, on_date,"
            " outcome, basis) FROM STDIN"
        ) as copy:
            for i, lic, rec, outcome in _decision_rows(decisions, 3, recordings):
                copy.write_row((i, AT, lic, rec, "train-genai", "ES", DAY, outcome, "{}"))
        cursor.execute(f"COMMENT ON SCHEMA {PG_SCHEMA} IS '{marker}'")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    console.print(f"PostgreSQL: built {PG_SCHEMA} in {time.perf_counter() - started:.0f} s")
    return database


def _latencies(call: Callable[[Any], object], arguments: list[Any]) -> dict[str, float]:
    for argument in arguments[:20]:
        call(argument)
    times = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
        "queries": len(times),
    }


def measure(database: Database, recordings: int, queries: int) -> dict[str, Any]:
    rng = random.Random(3)
    isrcs = [
        rec.isrc
        for rec in synthetic_recordings(recordings, performers=max(1, recordings // 10), seed=7)
    ]
    sample = rng.sample(isrcs, min(queries, len(isrcs)))
    prefixes = [
        (rng.choice(WORDS) + " " + rng.choice(WORDS)[: rng.randint(1, 3)]).capitalize()
        for _ in range(queries)
    ]
    result: dict[str, Any] = {}
    with database.reader() as session:
        result["isrc"] = _latencies(
            lambda isrc: search_recordings(session, PUBLIC, isrc=isrc), sample
        )
        result["title_prefix"] = _latencies(
            lambda prefix: search_recordings(session, PUBLIC, title_prefix=prefix, limit=100),
            prefixes,
        )

        def peer_prefix(prefix: str) -> object:
            return session.execute(
                text(
                    "SELECT id, isrc, title, fixation_year FROM recording"
                    " WHERE title LIKE :p ORDER BY title, id LIMIT 100"
                ),
                {"p": prefix + "%"},
            ).all()

        result["peer_title_like"] = _latencies(peer_prefix, prefixes[: max(20, queries // 10)])

        started = time.perf_counter()
        rows = 0
        cursor = None
        while True:
            page = list_decisions(session, OPERATOR, licensee_id=1, cursor=cursor, limit=1000)
            rows += len(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        seconds = time.perf_counter() - started
        result["keyset_paging"] = {
            "rows": rows,
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds),
        }

        started = time.perf_counter()
        peer_rows = 0
        offset = 0
        while True:
            batch = session.execute(
                text(
                    "SELECT id, decided_at, licensee_id, model_id, use, territory, on_date,"
                    " recording_id, outcome FROM decision WHERE licensee_id = 1"
                    " ORDER BY id LIMIT 1000 OFFSET :o"
                ),
                {"o": offset},
            ).all()
            peer_rows += len(batch)
            offset += 1000
            if len(batch) < 1000:
                break
        seconds = time.perf_counter() - started
        result["peer_offset_paging"] = {
            "rows": peer_rows,
            "seconds": round(seconds, 3),
            "rows_per_s": round(peer_rows / seconds),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-recordings", type=int, default=None)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    recordings = 100_000 if args.quick else 1_000_000
    decisions = 60_000 if args.quick else 600_000  # a third of them the listed licensee's
    queries = 200 if args.quick else 1000
    runs: dict[str, Any] = {}
    sizes = {"sqlite": recordings}
    runs["sqlite"] = measure(build_sqlite(recordings, decisions), recordings, queries)
    if not args.no_postgres:
        pg_recordings = args.pg_recordings or recordings
        pg_decisions = decisions * pg_recordings // recordings
        sizes["postgresql"] = pg_recordings
        runs["postgresql"] = measure(
            build_postgres(pg_recordings, pg_decisions), pg_recordings, queries
        )

    table = Table(title="Search and paging (services) vs plain SQL")
    table.add_column("backend")
    table.add_column("recordings", justify="right")
    table.add_column("ISRC p50/p99 ms", justify="right")
    table.add_column("title prefix p50/p99 ms", justify="right")
    table.add_column("peer LIKE p50/p99 ms", justify="right")
    table.add_column("keyset rows/s", justify="right")
    table.add_column("peer OFFSET rows/s", justify="right")
    for backend, run in runs.items():
        table.add_row(
            backend,
            f"{sizes[backend]:,}",
            f"{run['isrc']['p50_ms']:.2f} / {run['isrc']['p99_ms']:.2f}",
            f"{run['title_prefix']['p50_ms']:.2f} / {run['title_prefix']['p99_ms']:.2f}",
            f"{run['peer_title_like']['p50_ms']:.2f} / {run['peer_title_like']['p99_ms']:.2f}",
            f"{run['keyset_paging']['rows_per_s']:,} ({run['keyset_paging']['rows']:,})",
            f"{run['peer_offset_paging']['rows_per_s']:,}",
        )
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = {
        "benchmark": "search",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "sizes": sizes,
        "targets": {"p99_ms": TARGET_P99_MS, "rows_per_s": TARGET_ROWS_PER_S},
        "runs": runs,
        "peer": "plain SQL: title LIKE 'Prefix%' and LIMIT 1000 OFFSET k paging",
    }
    (RESULTS / "search.json").write_text(json.dumps(out, indent=2) + "\n")
    console.print(f"wrote {RESULTS / 'search.json'}")


if __name__ == "__main__":
    main()
