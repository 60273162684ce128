"""Server time of the web pages on a registry of 10^6 recordings, SQLite and PostgreSQL.

    python benchmarks/pages.py                  # 10^6 recordings on SQLite and PostgreSQL
    python benchmarks/pages.py --quick          # 10^5 recordings
    python benchmarks/pages.py --no-postgres
    python benchmarks/pages.py --only postgresql   # one backend; pages.json keeps the other

Builds a registry with direct bulk inserts, as ``benchmarks/search.py`` does (the SQLite file
cached under ``~/.cache/sostenuto/``, the PostgreSQL one in schema ``bench_pages``): one CMO
that registered every recording, a performer per ten recordings (one contribution each, an
active mandate to the CMO), three licensees and 600 000 stored decisions spread over the last
45 days. Then drives the application in-process (``create_app`` under Starlette's
TestClient, signed in as the CMO's admin and as a performer) and times each request inside
the server with an ASGI middleware, so the figures are the server's, not the client's:

- ``/office/catalogue?title=<prefix>``: the first page of a title search,
- the next page of the same search, by its keyset cursor,
- ``/office/catalogue``: the first page, and a page deep in the catalogue by its cursor,
- ``/office``: the dashboard (counts and the decisions chart of the last 30 days),
- ``/me``: the performer's page (recordings, consent, usage, voiceprint, statements).

Target: p99 <= 200 ms for every page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from sostenuto.api import create_app
from sostenuto.auth import add_user
from sostenuto.registry.synthetic import WORDS, synthetic_recordings
from sostenuto.settings import Settings
from sostenuto.storage import Database

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path.home() / ".cache" / "sostenuto"
PG_URL = os.environ.get(
    "SOSTENUTO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "bench_pages"
TARGET_P99_MS = 200.0
CHUNK = 50_000
RECORDINGS_PER_PERFORMER = 10
DECISION_DAYS = 45
PASSWORD = "correct horse battery staple"
console = Console(width=150)

SEED_SQL = (
    "INSERT INTO cmo (id, code, name, country, identifiers)"
    " VALUES (1, 'BENCH', 'Bench', 'ES', '{}')",
    "INSERT INTO licensee (id, name, kind) VALUES (1, 'Listed', 'developer')",
    "INSERT INTO licensee (id, name, kind) VALUES (2, 'Other one', 'developer')",
    "INSERT INTO licensee (id, name, kind) VALUES (3, 'Other two', 'developer')",
)


def _recording_rows(count: int) -> Iterator[tuple[Any, ...]]:
    for rec in synthetic_recordings(count, performers=1, seed=7, contributors_per_recording=0):
        yield (rec.isrc, rec.title, rec.duration_ms, rec.fixation_year, 1)


def _performer_rows(count: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        yield (i, f"Performer {i}", "ES", 1)


def _contribution_rows(recordings: int, performers: int) -> Iterator[tuple[Any, ...]]:
    for rec in range(1, recordings + 1):
        yield (rec, 1 + (rec - 1) % performers, True, "voice", 1)


def _decision_rows(count: int, recordings: int, now: dt.datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(11)
    for i in range(count):
        when = now - dt.timedelta(seconds=rng.randrange(DECISION_DAYS * 86_400))
        yield (
            f"dec_{rng.getrandbits(96):024x}",
            when,
            1 + i % 3,
            1 + rng.randrange(recordings),
            "permit" if rng.random() < 0.7 else "deny",
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


def _accounts(database: Database) -> None:
    with database.transaction() as session:
        add_user(session, username="office", password=PASSWORD, role="cmo-admin", cmo_id=1)
        add_user(session, username="performer", password=PASSWORD, role="performer", performer_id=1)


def build_sqlite(recordings: int, decisions: int) -> Database:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"pages-{recordings}-{decisions}.sqlite"
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
    performers = max(1, recordings // RECORDINGS_PER_PERFORMER)
    since = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for sql in SEED_SQL:
        connection.execute(sql)
    inserts = (
        (
            "INSERT INTO recording (isrc, title, duration_ms, fixation_year,"
            " registered_by_cmo_id) VALUES (?, ?, ?, ?, ?)",
            _recording_rows(recordings),
        ),
        (
            "INSERT INTO performer (id, name, nationality, registered_by_cmo_id)"
            " VALUES (?, ?, ?, ?)",
            _performer_rows(performers),
        ),
        (
            "INSERT INTO contribution (recording_id, performer_id, featured, kind, weight)"
            " VALUES (?, ?, ?, ?, ?)",
            _contribution_rows(recordings, performers),
        ),
    )
    for sql, rows in inserts:
        for chunk in _chunks(rows):
            connection.executemany(sql, chunk)
    connection.executemany(
        "INSERT INTO mandate (performer_id, cmo_id, territories, uses, valid_from, status)"
        " VALUES (?, 1, '[\"WW\"]', '[\"train-genai\"]', ?, 'active')",
        [(i, since) for i in range(1, performers + 1)],
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for chunk in _chunks(_decision_rows(decisions, recordings, now)):
        connection.executemany(
            "INSERT INTO decision (id, decided_at, licensee_id, recording_id, use, territory,"
            " on_date, outcome, basis) VALUES (?, ?, ?, ?, 'train-genai', 'ES', ?, ?, '{}')",
            [
                (i, when.strftime("%Y-%m-%d %H:%M:%S.%f"), lic, rec, when.date().isoformat(), out)
                for i, when, lic, rec, out in chunk
            ],
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    database = Database(f"sqlite:///{path}")
    _accounts(database)
    done.touch()
    console.print(f"SQLite: built {path} in {time.perf_counter() - started:.0f} s")
    return database


def build_postgres(recordings: int, decisions: int) -> Database:
    admin = create_engine(PG_URL)
    marker = f"{recordings}-{decisions}"
    options = {"options": f"-csearch_path={PG_SCHEMA}"}
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
            database = Database(PG_URL, connect_args=options)
            database.migrate()
            return database
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()
    started = time.perf_counter()
    database = Database(PG_URL, connect_args=options)
    database.migrate()
    performers = max(1, recordings // RECORDINGS_PER_PERFORMER)
    since = dt.date.today() - dt.timedelta(days=400)
    now = dt.datetime.now(dt.UTC)
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql in SEED_SQL:
            cursor.execute(sql)
        copies: tuple[tuple[str, Iterator[tuple[Any, ...]]], ...] = (
            (
                "COPY recording (isrc, title, duration_ms, fixation_year, registered_by_cmo_id)",
                _recording_rows(recordings),
            ),
            (
                "COPY performer (id, name, nationality, registered_by_cmo_id)",
                _performer_rows(performers),
            ),
            (
                "COPY contribution (recording_id, performer_id, featured, kind, weight)",
                _contribution_rows(recordings, performers),
            ),
            (
                "COPY mandate (performer_id, cmo_id, territories, uses, valid_from, status)",
                (
                    (i, 1, '["WW"]', '["train-genai"]', since, "active")
                    for i in range(1, performers + 1)
                ),
            ),
            (
                "COPY decision (id, decided_at, licensee_id, recording_id, use, territory,"
                " on_date, outcome, basis)",
                (
                    (i, when, lic, rec, "train-genai", "ES", when.date(), out, "{}")
                    for i, when, lic, rec, out in _decision_rows(decisions, recordings, now)
                ),
            ),
        )
        for sql, rows in copies:
            with cursor.copy(sql + " FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        # Ids were given: move the sequence past them for the accounts' and later rows.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('performer', 'id'), (SELECT max(id) FROM"
            " performer))"
        )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    _accounts(database)
    with database.engine.begin() as connection:
        connection.execute(text(f"COMMENT ON SCHEMA {PG_SCHEMA} IS '{marker}'"))
    console.print(f"PostgreSQL: built {PG_SCHEMA} in {time.perf_counter() - started:.0f} s")
    return database


class ServerTimer:
    """ASGI middleware: how long the application took on each request, response included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.times.append((time.perf_counter() - started) * 1000)


def _client(
    database: Database, settings: Settings, username: str
) -> tuple[TestClient, ServerTimer]:
    timer = ServerTimer(create_app(settings, database))
    client = TestClient(timer, base_url="https://testserver")
    response = client.post(
        "/sign-in", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return client, timer


def _timed(client: TestClient, timer: ServerTimer, urls: list[str]) -> dict[str, float]:
    for url in urls[:5]:
        client.get(url)
    timer.times.clear()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
    times = sorted(timer.times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2),
        "requests": len(times),
    }


_NEXT = re.compile(r'href="(/office/catalogue\?[^"]*cursor=[^"]+)"')


def _next_page(client: TestClient, url: str) -> str | None:
    found = _NEXT.search(client.get(url).text)
    return found.group(1).replace("&amp;", "&") if found else None


def measure(database: Database, requests: int) -> dict[str, Any]:
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data")
        office, office_timer = _client(database, settings, "office")
        performer, performer_timer = _client(database, settings, "performer")
        prefixes = [
            (rng.choice(WORDS) + " " + rng.choice(WORDS)[: rng.randint(1, 3)]).capitalize()
            for _ in range(requests)
        ]
        firsts = [f"/office/catalogue?title={p.replace(' ', '+')}" for p in prefixes]
        seconds = [
            page
            for page in (_next_page(office, url) for url in firsts[: max(20, requests // 5)])
            if page is not None
        ]
        # Deep in the catalogue: follow the id-ordered pages a few hundred times.
        deep = [url for url in [_next_page(office, "/office/catalogue")] if url]
        for _ in range(200):
            following = _next_page(office, deep[-1]) if deep else None
            if following is None:
                break
            deep.append(following)
        result: dict[str, Any] = {
            "catalogue_search": _timed(office, office_timer, firsts),
            "catalogue_search_next": _timed(office, office_timer, seconds),
            "catalogue_first": _timed(office, office_timer, ["/office/catalogue"] * 50),
            "catalogue_keyset_pages": _timed(office, office_timer, deep),
            "office_dashboard": _timed(office, office_timer, ["/office"] * 50),
            "performer_me": _timed(performer, performer_timer, ["/me"] * 50),
        }
    return result


PAGES: tuple[tuple[str, str], ...] = (
    ("catalogue_search", "catalogue ?title= (first page)"),
    ("catalogue_search_next", "catalogue ?title= next page (cursor)"),
    ("catalogue_first", "catalogue, first page"),
    ("catalogue_keyset_pages", "catalogue, pages 2-200 (cursor)"),
    ("office_dashboard", "/office dashboard"),
    ("performer_me", "/me performer page"),
)


def table_of(runs: dict[str, Any], sizes: dict[str, int]) -> Table:
    table = Table(title=f"Page server time, target p99 <= {TARGET_P99_MS:.0f} ms")
    table.add_column("page")
    for backend in runs:
        table.add_column(f"{backend} ({sizes[backend]:,}) p50 / p99 ms", justify="right")
    for key, label in PAGES:
        cells = []
        for run in runs.values():
            figures = run[key]
            mark = "" if figures["p99_ms"] <= TARGET_P99_MS else " MISSED"
            cells.append(f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}{mark}")
        table.add_row(label, *cells)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    recordings = 100_000 if args.quick else 1_000_000
    decisions = 60_000 if args.quick else 600_000
    requests = args.requests or (100 if args.quick else 300)
    builders: dict[str, Callable[[int, int], Database]] = {"sqlite": build_sqlite}
    if not args.no_postgres:
        builders["postgresql"] = build_postgres
    if args.only:
        builders = {args.only: builders[args.only]}
    runs: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for backend, build in builders.items():
        runs[backend] = measure(build(recordings, decisions), requests)
        sizes[backend] = recordings
    console.print(table_of(runs, sizes))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "pages.json"
    if args.only and path.exists():
        # One backend at a time (they can run side by side): keep the other's figures.
        earlier = json.loads(path.read_text())
        if earlier.get("sizes", {}).get(args.only, recordings) == recordings:
            runs = {**earlier.get("runs", {}), **runs}
            sizes = {**earlier.get("sizes", {}), **sizes}
    out = {
        "benchmark": "pages",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "sizes": sizes,
        "decisions": decisions,
        "targets": {"p99_ms": TARGET_P99_MS},
        "runs": runs,
        "method": "in-process ASGI app, server time from a middleware timer",
    }
    path.write_text(json.dumps(out, indent=2) + "\n")
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
