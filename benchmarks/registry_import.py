"""Bulk catalogue import into SQLite, side by side with the sqlite3 shell's raw ``.import``.

    python benchmarks/registry_import.py           # 10^6 recordings (2 * 10^6 CSV rows)
    python benchmarks/registry_import.py --quick   # 10^5 recordings

Sostenuto validates every field (ISRC, ISNI, weights, years, hashes), resolves performers,
groups rows into recordings and contributions and writes them with their indexes, foreign
keys and audit events (SQLite, WAL, synchronous=FULL). The peer, the ``sqlite3`` shell's
``.import --csv``, copies the same file into one unindexed table without checking anything: the
floor a loader cannot beat. Both are timed on the same file, in the same run. A re-run of the
import (everything unchanged) and the DDEX-style JSON Lines form of the catalogue are timed too.
Target: >= 20 000 recordings/s.

On PostgreSQL (``--postgres URL``, default the local test database; ``--postgres skip`` to
leave it out) the same CSV is imported into a fresh schema with ``COPY`` (the default there)
and with ``executemany``, beside two peers run by ``psql`` on the same file: ``\\copy`` into one
unindexed temporary table (nothing checked, nothing indexed: the floor of any loader), and the
same ``\\copy`` followed by plain ``INSERT … SELECT`` into the registry's own tables (the
database's cost of the indexes and foreign keys, still with no check of any value).
``--only-postgres`` leaves the SQLite rows out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sostenuto.auth import OPERATOR
from sostenuto.registry import add_cmo, import_catalogue
from sostenuto.registry.synthetic import (
    synthetic_recordings,
    write_csv_catalogue,
    write_ddex_catalogue,
)
from sostenuto.storage import Database

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 20_000
POSTGRES_TARGET = 100_000
console = Console()


def _database(path: Path) -> tuple[Database, int]:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    with database.transaction() as session:
        cmo = add_cmo(session, OPERATOR, code="BENCH", name="Bench CMO", country="ES")
    return database, cmo.id


def _timed_import(database: Database, cmo_id: int, path: Path) -> dict[str, float]:
    cpu = time.process_time()
    report = import_catalogue(database, OPERATOR, path, cmo_id=cmo_id, progress=True)
    if report.errors:
        raise SystemExit(f"{path.name}: {len(report.errors)} rows refused: {report.errors[:3]}")
    return {
        "recordings": report.recordings,
        "imported": report.imported,
        "unchanged": report.unchanged,
        "seconds": report.seconds,
        "cpu_seconds": time.process_time() - cpu,
        "recordings_per_second": report.rate,
    }


def _sqlite_shell(csv_path: Path, work: Path, recordings: int) -> dict[str, float] | None:
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    target = work / "raw.sqlite3"
    started = time.perf_counter()
    subprocess.run(
        [shell, str(target)],
        input=f"PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n.import --csv {csv_path} raw\n",
        text=True,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "recordings_per_second": recordings / seconds}


POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_imports(
    url: str, csv_path: Path, count: int, *, executemany: bool = True
) -> dict[str, object] | None:
    """COPY and executemany into fresh schemas, and psql's \\copy as the floor."""
    from sqlalchemy import create_engine, text

    from sostenuto.registry import _chunk_writer

    admin = create_engine(url)
    try:
        admin.connect().close()
    except Exception as error:  # no server: the SQLite rows still stand
        console.print(f"[yellow]PostgreSQL left out: {error}[/yellow]")
        return None
    found: dict[str, object] = {}
    ways = (("copy", True), ("executemany", False)) if executemany else (("copy", True),)
    for label, copy in ways:
        schema = f"bench_import_{label}_{os.getpid()}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = Database(url, connect_args={"options": f"-csearch_path={schema}"})
        database.migrate()
        with database.transaction() as session:
            cmo = add_cmo(session, OPERATOR, code="BENCH", name="Bench CMO", country="ES")
        _chunk_writer.COPY_ON_POSTGRESQL = copy
        try:
            found[label] = _timed_import(database, cmo.id, csv_path)
        finally:
            _chunk_writer.COPY_ON_POSTGRESQL = True
            database.dispose()
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    psql = shutil.which("psql")
    if psql:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        columns = csv_path.open().readline().strip().split(",")
        ddl = ", ".join(f'"{c}" text' for c in columns)
        load = (
            f"CREATE TEMP TABLE raw ({ddl});\n"
            f"\\copy raw FROM '{csv_path}' WITH (FORMAT csv, HEADER true)\n"
        )
        found["psql_copy"] = _psql_timed(psql, plain, load, count)
        schema = f"bench_import_sql_{os.getpid()}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = Database(url, connect_args={"options": f"-csearch_path={schema}"})
        database.migrate()
        with database.transaction() as session:
            cmo = add_cmo(session, OPERATOR, code="BENCH", name="Bench CMO", country="ES")
        database.dispose()
        try:
            found["psql_copy_into_tables"] = _psql_timed(
                psql,
                plain,
                f"SET search_path = {schema};\nBEGIN;\n{load}{_INTO_TABLES.format(cmo=cmo.id)}",
                count,
            )
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    return found


# The rows of the raw table stored in the registry's tables, every value taken as it is.
_INTO_TABLES = """
INSERT INTO performer (name, isni, registered_by_cmo_id)
  SELECT DISTINCT ON (performer_name) performer_name, nullif(performer_isni, ''), {cmo}
  FROM raw ORDER BY performer_name;
INSERT INTO recording (isrc, title, duration_ms, fixation_year, audio_sha256,
                       registered_by_cmo_id)
  SELECT DISTINCT ON (isrc) isrc, title, duration_ms::int, fixation_year::int, audio_sha256, {cmo}
  FROM raw ORDER BY isrc;
INSERT INTO contribution (recording_id, performer_id, featured, kind, instrument, weight)
  SELECT r.id, p.id, raw.featured::bool, raw.kind, nullif(raw.instrument, ''),
         raw.weight::numeric
  FROM raw JOIN recording r USING (isrc) JOIN performer p ON p.name = raw.performer_name;
COMMIT;
"""


def _psql_timed(psql: str, url: str, script: str, recordings: int) -> dict[str, float]:
    started = time.perf_counter()
    subprocess.run(
        [psql, url, "-q", "-v", "ON_ERROR_STOP=1"],
        input=script,
        text=True,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "recordings_per_second": recordings / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 recordings")
    parser.add_argument("--recordings", type=int, default=None)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SOSTENUTO_TEST_POSTGRES_URL", POSTGRES_DEFAULT),
        help="PostgreSQL URL for the PostgreSQL rows, or 'skip'",
    )
    parser.add_argument("--only-postgres", action="store_true", help="leave SQLite out")
    parser.add_argument(
        "--no-executemany", action="store_true", help="leave PostgreSQL's executemany run out"
    )
    args = parser.parse_args()
    count = args.recordings or (100_000 if args.quick else 1_000_000)
    performers = max(10, count // 10)
    with tempfile.TemporaryDirectory(prefix="sostenuto-import-bench-") as folder:
        work = Path(folder)
        csv_path, jsonl_path = work / "catalogue.csv", work / "catalogue.jsonl"
        console.print(f"writing {count:,} recordings ({performers:,} performers) as CSV and JSONL")
        write_csv_catalogue(csv_path, synthetic_recordings(count, performers=performers))
        if not args.only_postgres:
            write_ddex_catalogue(jsonl_path, synthetic_recordings(count, performers=performers))

        csv_first = csv_again = jsonl_first = peer = None
        if not args.only_postgres:
            database, cmo_id = _database(work / "csv.sqlite3")
            csv_first = _timed_import(database, cmo_id, csv_path)
            csv_again = _timed_import(database, cmo_id, csv_path)
            database.dispose()
            database, cmo_id = _database(work / "jsonl.sqlite3")
            jsonl_first = _timed_import(database, cmo_id, jsonl_path)
            database.dispose()
            peer = _sqlite_shell(csv_path, work, count)
        postgres = (
            None
            if args.postgres == "skip"
            else _postgres_imports(
                args.postgres, csv_path, count, executemany=not args.no_executemany
            )
        )

    table = Table(title=f"Catalogue import, {count:,} recordings, SQLite")
    for column in ("run", "seconds", "CPU s", "recordings/s", "target"):
        table.add_column(column, justify="right" if column != "run" else "left")
    rows: list[tuple[str, dict[str, float] | None]] = [
        ("Sostenuto CSV, first import", csv_first),
        ("Sostenuto CSV, re-run (unchanged)", csv_again),
        ("Sostenuto DDEX JSON Lines", jsonl_first),
    ]
    for label, figures in rows:
        if figures is None:
            continue
        table.add_row(
            label,
            f"{figures['seconds']:.1f}",
            f"{figures['cpu_seconds']:.1f}",
            f"{figures['recordings_per_second']:,.0f}",
            f"≥ {TARGET:,}",
        )
    if peer:
        table.add_row(
            "peer: sqlite3 .import (no checks)",
            f"{peer['seconds']:.1f}",
            "",
            f"{peer['recordings_per_second']:,.0f}",
            "",
        )
    if csv_first is not None:
        console.print(table)
    if postgres:
        pg_table = Table(title=f"Catalogue import, {count:,} recordings, PostgreSQL")
        for column in ("run", "seconds", "recordings/s", "of psql \\copy", "target"):
            pg_table.add_column(column, justify="right" if column != "run" else "left")
        floor = postgres.get("psql_copy")
        floor_rate = floor["recordings_per_second"] if isinstance(floor, dict) else None
        for key, label in (
            ("copy", "Sostenuto CSV, COPY (default)"),
            ("executemany", "Sostenuto CSV, executemany"),
            ("psql_copy", "peer: psql \\copy (no checks, no indexes)"),
            ("psql_copy_into_tables", "peer: psql \\copy + INSERT … SELECT (no checks)"),
        ):
            measured = postgres.get(key)
            if isinstance(measured, dict):
                rate = measured["recordings_per_second"]
                pg_table.add_row(
                    label,
                    f"{measured['seconds']:.1f}",
                    f"{rate:,.0f}",
                    f"{rate / floor_rate:.2f}×" if floor_rate else "",
                    f"≥ {POSTGRES_TARGET:,}" if key == "copy" else "",
                )
        console.print(pg_table)
    RESULTS.mkdir(exist_ok=True)
    name = "registry_import-quick.json" if args.quick else "registry_import.json"
    if args.only_postgres:
        name = name.replace("registry_import", "registry_import-postgresql")
    (RESULTS / name).write_text(
        json.dumps(
            {
                "recordings": count,
                "performers": performers,
                "csv_first": csv_first,
                "csv_rerun": csv_again,
                "jsonl_first": jsonl_first,
                "peer_sqlite3_import": peer,
                "postgresql": postgres,
                "target_recordings_per_second": TARGET,
                "postgresql_target_recordings_per_second": POSTGRES_TARGET,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
