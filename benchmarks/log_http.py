"""Concurrent single declarations over HTTP: ``sostenuto serve --workers N`` on PostgreSQL.

    python benchmarks/log_http.py                      # 64 clients, 30 s, 2 workers
    python benchmarks/log_http.py --clients 128 --seconds 60 --workers 4

Each client sends one output declaration at a time (``POST /api/v1/log/entries``, a new
output hash each time) on its own keep-alive connection and sends the next as soon as the
answer comes: the closed loop of many licensees declaring what their models generate. The
clients are a small asyncio HTTP/1.1 loop in this process (a full HTTP client library would
cost the server's two cores more than the server itself). Measured: acknowledged
declarations per second and their latency (p50, p99). Afterwards every acknowledged receipt
is checked in the log (its index holds its entry) and the signed checkpoint is verified.

The server runs in a fresh schema of the database (``--postgres URL``), dropped at the end.
``benchmarks/log.py`` measures the same appends in-process on SQLite (its "concurrent" rows);
``benchmarks/load.py`` mixes declarations with other traffic. Target on 2 cores:
>= 2 000 declarations/s at p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
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
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _postgres import drop_schema, schema_url, wait_until_served
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency import root_at, verifier_key, verify_checkpoint
from sostenuto.transparency._merkle import leaf_hash

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_PER_SECOND = 2_000
TARGET_P99_MS = 500.0
console = Console()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, data: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
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
    wait_until_served(server, f"http://127.0.0.1:{port}", log)
    return server, port


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _request(port: int, token: str, licensee: int, model: int) -> bytes:
    body = json.dumps(
        {
            "type": "output-declaration",
            "payload": {
                "licensee_id": licensee,
                "model_id": model,
                "output_sha256": uuid.uuid4().hex * 2,
                "generated_on": "2026-12-03",
            },
        }
    ).encode()
    head = (
        f"POST /api/v1/log/entries HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _clients(
    port: int, token: str, licensee: int, model: int, clients: int, seconds: float, warmup: float
) -> dict[str, Any]:
    latencies: list[float] = []
    receipts: list[dict[str, Any]] = []
    failures: list[str] = []
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (now := time.perf_counter()) < stop_at:
                writer.write(_request(port, token, licensee, model))
                status, body = await _answer(reader)
                done = time.perf_counter()
                if status != 201:
                    failures.append(f"{status}: {body[:200]!r}")
                    continue
                receipts.append(json.loads(body))  # acknowledged: must be in the log
                if now >= measure_from:
                    latencies.append(done - now)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "seconds": seconds,
        "acknowledged": len(receipts),
        "measured": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "max_ms": float(ms.max()) if len(ms) else float("nan"),
        "failures": len(failures),
        "first_failures": failures[:3],
        "receipts": receipts,
    }


def _check_log(database: Database, data: Path, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    """Every acknowledged receipt names its entry in the log; the checkpoint verifies."""
    with database.reader() as session:
        note = session.execute(
            text("SELECT note FROM tlog_checkpoint ORDER BY size DESC LIMIT 1")
        ).scalar_one()
        stored = {idx: body for idx, body in session.execute(select(LogEntry.idx, LogEntry.body))}
    head = verify_checkpoint(note, verifier_key(Settings(data_dir=data)))
    assert head.root == root_at(database, head.size)
    missing = [
        r
        for r in receipts
        if r["index"] not in stored or leaf_hash(stored[r["index"]]).hex() != r["entry_id"]
    ]
    return {"acknowledged": len(receipts), "missing": len(missing), "log_size": head.size}


def run(url: str, workers: int, clients: int, seconds: float, warmup: float) -> dict[str, Any]:
    schema = f"bench_log_http_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="sostenuto-log-http-"))
    server = None
    try:
        served_url = schema_url(url, schema)
        database = Database(served_url)
        database.migrate()
        server, port = _serve(served_url, work / "data", workers, work / "serve.log")
        tokens = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (work / "data" / "demo-tokens.env").read_text().splitlines()
        )
        with database.reader() as session:
            aurora = session.scalars(
                select(Licensee).where(Licensee.name == "Aurora Audio Labs")
            ).one()
            model = session.scalars(select(AiModel).where(AiModel.licensee_id == aurora.id)).first()
            assert model is not None
            licensee_id, model_id = aurora.id, model.id
        load_before = os.getloadavg()[0]
        found = asyncio.run(
            _clients(
                port,
                tokens["LICENSEE_AURORA_AUDIO_LABS"],
                licensee_id,
                model_id,
                clients,
                seconds,
                warmup,
            )
        )
        found["load_average"] = [load_before, os.getloadavg()[0]]
        console.print(
            f"{found['per_second']:,.0f} declared/s, p50 {found['p50_ms']:.0f} ms, "
            f"p99 {found['p99_ms']:.0f} ms, {found['failures']} failures"
        )
        _stop(server)
        server = None
        found["log"] = _check_log(database, work / "data", found.pop("receipts"))
        database.dispose()
        return found
    finally:
        if server is not None:
            _stop(server)
        drop_schema(url, schema)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES_DEFAULT, help="PostgreSQL URL")
    parser.add_argument("--workers", type=int, action="append", help="serve --workers (repeat)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    runs = []
    for workers in args.workers or [2]:
        console.print(f"serve --workers {workers}, {args.clients} clients, {args.seconds:.0f} s …")
        runs.append(
            {
                "workers": workers,
                **run(args.postgres, workers, args.clients, args.seconds, args.warmup),
            }
        )
    table = Table(title="Concurrent single declarations over HTTP, PostgreSQL")
    for column in (
        "workers",
        "clients",
        "declared/s",
        "p50 ms",
        "p99 ms",
        "failures",
        "lost",
        "target",
    ):
        table.add_column(column, justify="right")
    for found in runs:
        table.add_row(
            str(found["workers"]),
            str(found["clients"]),
            f"{found['per_second']:,.0f}",
            f"{found['p50_ms']:.0f}",
            f"{found['p99_ms']:.0f}",
            str(found["failures"]),
            str(found["log"]["missing"]),
            f"≥ {TARGET_PER_SECOND:,}/s, p99 ≤ {TARGET_P99_MS:.0f}",
        )
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "log_http.json").write_text(
        json.dumps(
            {
                "runs": runs,
                "target_per_second": TARGET_PER_SECOND,
                "target_p99_ms": TARGET_P99_MS,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "note": "shared 2-core machine; the clients run on the same cores",
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
