"""Load test: mixed traffic from many users against ``sostenuto serve --workers N`` on
PostgreSQL, driven by locust (headless); then every acknowledged declaration is checked in
the log and the tree is verified.

    python benchmarks/load.py                 # 64 users, 10 minutes, 2 workers
    python benchmarks/load.py --quick         # 64 users, 60 s
    python benchmarks/load.py --users 128 --duration 300 --workers 4

Traffic per user (weights): single decisions 6, batches of 50 decisions 2, output
declarations 4, inclusion proofs 3, reads (a recording, the checkpoint) 3, with 0.05–0.3 s
between requests (``benchmarks/_locustfile.py``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _postgres import wait_until_served
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee, Recording
from sostenuto.transparency import (
    prove_inclusion,
    root_at,
    verifier_key,
    verify_checkpoint,
    verify_inclusion,
)
from sostenuto.transparency._merkle import leaf_hash
from sostenuto.transparency._store import entry_at

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
console = Console()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(
    url: str, data: Path, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    sostenuto = str(Path(sys.executable).with_name("sostenuto"))
    environment = {**os.environ, "SOSTENUTO_DATABASE_URL": url, "SOSTENUTO_DATA_DIR": str(data)}
    server = subprocess.Popen(
        [sostenuto, "serve", "--demo", "--workers", str(workers), "--port", str(port)],
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_served(server, base, log)
    return server, base


def _demo_facts(database: Database, data: Path) -> dict[str, str]:
    tokens = {}
    for line in (data / "demo-tokens.env").read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        tokens[name] = value
    with database.reader() as session:
        aurora = session.scalars(select(Licensee).where(Licensee.name == "Aurora Audio Labs")).one()
        model = session.scalars(select(AiModel).where(AiModel.licensee_id == aurora.id)).first()
        assert model is not None
        isrcs = list(session.scalars(select(Recording.isrc)))
    return {
        "SOSTENUTO_LOAD_TOKEN": tokens["LICENSEE_AURORA_AUDIO_LABS"],
        "SOSTENUTO_LOAD_LICENSEE": str(aurora.id),
        "SOSTENUTO_LOAD_MODEL": str(model.id),
        "SOSTENUTO_LOAD_ISRCS": json.dumps(isrcs),
    }


def _stats(prefix: Path) -> list[dict[str, Any]]:
    rows = []
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "per_s": float(row["Requests/s"]),
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "p99_ms": float(row["99%"] or 0),
                }
            )
    return rows


def _check_log(database: Database, data: Path, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    """Every acknowledged declaration is in the log at its index, proven in the final tree."""
    settings = Settings(data_dir=data)
    with database.reader() as session:
        latest = session.execute(
            text("SELECT note FROM tlog_checkpoint ORDER BY size DESC LIMIT 1")
        )
        note = latest.scalar_one()
    head = verify_checkpoint(note, verifier_key(settings))
    assert head.root == root_at(database, head.size)
    missing = 0
    for receipt in receipts:
        index = int(receipt["index"])
        with database.reader() as session:
            body = entry_at(session, index).body
        digest = leaf_hash(body)
        proof = prove_inclusion(database, index, head.size)
        if digest.hex() != receipt["entry_id"] or not _proves(index, head, digest, proof):
            missing += 1
    return {"tree_size": head.size, "acknowledged": len(receipts), "missing_or_wrong": missing}


def _proves(index: int, head: Any, digest: bytes, proof: list[bytes]) -> bool:
    try:
        verify_inclusion(index, head.size, digest, proof, head.root)
    except Exception:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 s instead of 10 minutes")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--duration", type=int, default=None, help="seconds (default 600)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres", default=os.environ.get("SOSTENUTO_TEST_POSTGRES_URL", POSTGRES_DEFAULT)
    )
    args = parser.parse_args()
    duration = args.duration or (60 if args.quick else 600)
    locust = shutil.which("locust") or str(Path(sys.executable).with_name("locust"))
    schema = f"bench_load_{os.getpid()}"
    admin = create_engine(args.postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.postgres}?options=-csearch_path%3D{schema}"
    database = Database(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with tempfile.TemporaryDirectory(prefix="sostenuto-load-") as folder:
            work = Path(folder)
            server, base = _start_server(url, work / "data", args.workers, work / "serve.log")
            try:
                receipts_file = work / "receipts.jsonl"
                environment = {
                    **os.environ,
                    **_demo_facts(database, work / "data"),
                    "SOSTENUTO_LOAD_RECEIPTS": str(receipts_file),
                }
                console.print(
                    f"[bold]load[/bold]: {args.users} users for {duration} s against"
                    f" serve --workers {args.workers} on PostgreSQL ({base})"
                )
                started = time.perf_counter()
                subprocess.run(
                    [
                        locust,
                        "-f",
                        str(HERE / "_locustfile.py"),
                        "--headless",
                        "-u",
                        str(args.users),
                        "-r",
                        str(max(1, args.users // 8)),
                        "-t",
                        f"{duration}s",
                        "--host",
                        base,
                        "--csv",
                        str(work / "load"),
                        "--only-summary",
                        "--stop-timeout",
                        "10",
                        "--loglevel",
                        "WARNING",
                    ],
                    env=environment,
                    check=False,
                )
                wall = time.perf_counter() - started
                stats = _stats(work / "load")
                receipts = [json.loads(x) for x in receipts_file.read_text().splitlines() if x]
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(60)
            checked = _check_log(database, work / "data", receipts)
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    table = Table(
        title=f"{args.users} users, {duration} s, serve --workers {args.workers}, PostgreSQL"
    )
    for column in ("request", "count", "failures", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for row in stats:
        table.add_row(
            row["name"],
            f"{row['requests']:,}",
            f"{row['failures']:,}",
            f"{row['per_s']:.1f}",
            f"{row['p50_ms']:.0f}",
            f"{row['p95_ms']:.0f}",
            f"{row['p99_ms']:.0f}",
        )
    console.print(table)
    console.print(
        f"log: {checked['acknowledged']:,} acknowledged declarations, "
        f"{checked['missing_or_wrong']} missing or wrong; tree of {checked['tree_size']:,} verified"
    )
    RESULTS.mkdir(exist_ok=True)
    name = "load-quick.json" if args.quick else "load.json"
    (RESULTS / name).write_text(
        json.dumps(
            {
                "users": args.users,
                "duration_s": duration,
                "wall_s": wall,
                "workers": args.workers,
                "requests": stats,
                "log": checked,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if checked["missing_or_wrong"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
