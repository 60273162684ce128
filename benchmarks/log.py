"""Transparency log benchmark: appends (batched and single), proofs, verification, storage.

    python benchmarks/log.py                    # 10^6 entries
    python benchmarks/log.py --entries 10000000 # 10^7 entries (long)
    python benchmarks/log.py --quick            # 2*10^4 entries, a smoke run

The log is filled on SQLite (synchronous=FULL, WAL) with output-declaration entries of a
realistic size, in batches of 10 000 (one signed checkpoint per batch). The reference for
appends is Tessera's own performance page (transparency-dev/tessera docs/performance.md):
about 2 900 writes/s with POSIX storage on a 12-core VM with 8 GB of RAM and mirrored SAS
disks, antispam off (about 1 600 with it). It is not run here (it needs Go and is not in the
package registries this project uses), and it is not like for like: Tessera's figure is
HTTP writes from 3 000 concurrent clients, integrated in about 6 s; ours are in-process
batches of 10 000 entries.
Targets on 2 cores: >= 10 000 appends/s batched, >= 5 000 proofs/s generated,
>= 20 000 proofs/s verified.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

from sostenuto.auth import Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee, Recording
from sostenuto.transparency import (
    LeafInput,
    append_prepared,
    declare,
    declare_batch,
    prove_consistency,
    prove_inclusion,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from sostenuto.transparency._keys import log_signer
from sostenuto.transparency._sequencer import sequencer
from sostenuto.transparency._store import append_leaves

RESULTS = Path(__file__).resolve().parent / "results"
# Tessera's docs/performance.md: POSIX storage, 12-core VM, mirrored SAS disks, no antispam.
TESSERA_APPENDS_PER_S = 2_900
TESSERA_SETUP = "POSIX storage, 12-core VM, 8 GB RAM, mirrored SAS disks, no antispam"
TARGETS = {"append_batched": 10_000, "proof_generation": 5_000, "proof_verification": 20_000}
BATCH = 10_000
console = Console()


class Clock:
    """Wall time and this process's CPU time. On a shared machine the wall-clock rate shows
    what this run got; the CPU rate shows what the code does with one core."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu

    def rate(self, results: dict[str, Any], name: str, count: int) -> None:
        results[f"{name}_per_s"] = count / self.wall
        results[f"{name}_per_cpu_s"] = count / max(self.cpu, 1e-9)


def _payload(licensee: int, model: int, i: int) -> dict[str, Any]:
    return {
        "licensee_id": licensee,
        "model_id": model,
        "output_sha256": hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
        "generated_on": "2026-02-02",
        "label_id": f"sostenuto-label-{i:010d}",
        "resemblances": [{"recording_id": 1 + i % 1000, "score": round((i % 97) / 97, 4)}],
    }


def _body(licensee: int, model: int, principal: Principal, i: int) -> bytes:
    # For these payloads (ASCII, no floats that need ES6 formatting beyond 4 decimals) the
    # sorted-key compact JSON equals the RFC 8785 form; the declare path below uses rfc8785.
    envelope = {
        "type": "output-declaration",
        "v": 1,
        "submitter": {"name": principal.name, "role": principal.role, "licensee_id": licensee},
        "payload": _payload(licensee, model, i),
    }
    return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)


def run(entries: int, workdir: Path) -> dict[str, Any]:
    database = Database(f"sqlite:///{workdir / 'log.sqlite3'}")
    database.migrate()
    settings = Settings(data_dir=workdir / "data")
    with database.transaction() as session:
        licensee = Licensee(name="Bench Studio", kind="developer", country="DE")
        session.add(licensee)
        session.flush()
        model = AiModel(licensee_id=licensee.id, name="bench", version="1", purpose="music")
        session.add(model)
        session.flush()
        session.add_all(
            Recording(isrc=f"DEA0126{i:05d}", title=f"Bench take {i}") for i in range(1000)
        )
        lic_id, model_id = licensee.id, model.id
    principal = Principal(name="bench", role="licensee", licensee_id=lic_id)
    # The machine is shared: the load average says how much of it this run had.
    results: dict[str, Any] = {"entries": entries, "load_average_start": os.getloadavg()[0]}

    # 1. Batched appends through the log (bodies already canonical), filling the log.
    clock = Clock()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"appending {entries:,} entries", total=entries)
        done = 0
        while done < entries:
            count = min(BATCH, entries - done)
            leaves = [
                LeafInput(
                    _body(lic_id, model_id, principal, i),
                    "output-declaration",
                    licensee_id=lic_id,
                    model_id=model_id,
                )
                for i in range(done, done + count)
            ]
            with clock:
                append_prepared(database, settings, leaves)
            done += count
            progress.update(task, completed=done)
    clock.rate(results, "append_batched", entries)

    # 2. End to end: validation, RFC 8785 canonicalisation, reference checks, append.
    e2e = min(50_000, max(entries // 20, 2_000))
    clock = Clock()
    for start in range(0, e2e, BATCH):
        batch = [
            ("output-declaration", _payload(lic_id, model_id, entries + i))
            for i in range(start, min(start + BATCH, e2e))
        ]
        with clock:
            declare_batch(database, settings, principal, batch)
    clock.rate(results, "declare_batched", e2e)

    # 3. Single appends: one transaction, one fsync and one signature each.
    singles = 200
    clock = Clock()
    with clock:
        for i in range(singles):
            declare(
                database,
                settings,
                principal,
                "output-declaration",
                _payload(lic_id, model_id, 10**9 + i),
            )
    clock.rate(results, "append_single", singles)

    # 3b. Concurrent single declarations (an API server's thread pool): with group commit,
    # and with one commit and signature per caller as before it.
    concurrent = _concurrent_singles(database, settings, principal, lic_id, model_id)
    results.update(concurrent)
    size = entries + e2e + singles + 2 * CONCURRENT_WRITERS * CONCURRENT_EACH

    # 4. Proofs: inclusion of random leaves and consistency between random sizes. The first
    # pass starts with an empty tile cache (a fresh server); the second finds it warm.
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(20_000)]
    with database.reader() as session:
        hashes = {
            i: bytes(h)
            for i, h in session.execute(
                text(
                    "SELECT idx, leaf_hash FROM tlog_entry WHERE idx IN ("
                    + ",".join(map(str, sorted(set(indices))))
                    + ")"
                )
            )
        }
    root = root_at(database, size)
    for name in ("inclusion_proofs_cold", "inclusion_proofs"):
        clock = Clock()
        with clock:
            proofs = [prove_inclusion(database, i, size) for i in indices]
        clock.rate(results, name, len(indices))
    clock = Clock()
    with clock:
        for i, proof in zip(indices, proofs, strict=True):
            verify_inclusion(i, size, hashes[i], proof, root)
    clock.rate(results, "inclusion_verifications", len(indices))
    results["inclusion_proof_hashes"] = sum(map(len, proofs)) / len(proofs)

    firsts = sorted(rng.randrange(1, size) for _ in range(2_000))
    roots = {n: root_at(database, n) for n in firsts}
    clock = Clock()
    with clock:
        cproofs = [prove_consistency(database, n, size) for n in firsts]
    clock.rate(results, "consistency_proofs", len(firsts))
    clock = Clock()
    with clock:
        for n, proof in zip(firsts, cproofs, strict=True):
            verify_consistency(n, size, roots[n], root, proof)
    clock.rate(results, "consistency_verifications", len(firsts))

    # 5. Storage, after folding the WAL into the main file.
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        per_table: dict[str, int] = {}
        try:
            for name, pages in connection.exec_driver_sql(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
            ):
                per_table[str(name)] = int(pages)
        except Exception:  # dbstat is not compiled into every SQLite
            per_table = {}
    database.dispose()
    total = (workdir / "log.sqlite3").stat().st_size
    results["tree_size"] = size
    results["storage_bytes_per_entry"] = total / size
    results["storage_bytes_per_entry_by_table"] = {
        k: round(v / size, 1) for k, v in sorted(per_table.items(), key=lambda kv: -kv[1])[:8]
    }
    results["average_entry_bytes"] = len(_body(lic_id, model_id, principal, 123_456))
    results["load_average_end"] = os.getloadavg()[0]
    return results


CONCURRENT_WRITERS = 32
CONCURRENT_EACH = 25


def _concurrent_singles(
    database: Database, settings: Settings, principal: Principal, lic_id: int, model_id: int
) -> dict[str, Any]:
    """Appends/s from 32 threads each declaring single entries, grouped and ungrouped."""
    signer = log_signer(settings)

    def one_commit_each(leaves: list[LeafInput]) -> None:
        with database.transaction() as session:
            append_leaves(session, signer, leaves)

    def grouped(leaves: list[LeafInput]) -> None:
        append_prepared(database, settings, leaves)

    found: dict[str, Any] = {}
    offset = 2 * 10**9
    for name, append in (
        ("append_concurrent_ungrouped", one_commit_each),
        ("append_concurrent_grouped", grouped),
    ):
        before = sequencer(database).stats()
        errors: list[BaseException] = []

        def writer(
            w: int, append: Any = append, base: int = offset, errors: list[Any] = errors
        ) -> None:
            try:
                for i in range(CONCURRENT_EACH):
                    body = _body(lic_id, model_id, principal, base + w * CONCURRENT_EACH + i)
                    append(
                        [
                            LeafInput(
                                body, "output-declaration", licensee_id=lic_id, model_id=model_id
                            )
                        ]
                    )
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(CONCURRENT_WRITERS)]
        clock = Clock()
        with clock:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        clock.rate(found, name, CONCURRENT_WRITERS * CONCURRENT_EACH)
        after = sequencer(database).stats()
        if name == "append_concurrent_grouped":
            found["concurrent_batches"] = after.batches - before.batches
        offset += CONCURRENT_WRITERS * CONCURRENT_EACH
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2*10^4 entries")
    parser.add_argument(
        "--entries",
        type=int,
        action="append",
        help="log size(s) to fill (default 10^6); may repeat",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    sizes = [20_000] if args.quick else (args.entries or [1_000_000])
    runs: list[dict[str, Any]] = []
    for entries in sizes:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            console.print(f"[bold]log benchmark[/bold]: {entries:,} entries in {tmp}")
            runs.append(run(entries, Path(tmp)))
        report(runs, quick=args.quick)  # after each size: a long 10^7 run keeps 10^6
    return 0


def report(runs: list[dict[str, Any]], *, quick: bool) -> None:
    """Print the table and write results/log.json (earlier full runs of other sizes kept)."""
    RESULTS.mkdir(exist_ok=True)
    results_file = RESULTS / "log.json"
    if not quick and results_file.exists():
        earlier = json.loads(results_file.read_text())
        if not earlier.get("quick"):
            sizes_now = {r["entries"] for r in runs}
            runs = [r for r in earlier.get("runs", []) if r["entries"] not in sizes_now] + runs
            runs.sort(key=lambda r: r["entries"])
    table = Table(title="Transparency log on SQLite (2 shared cores)")
    table.add_column("measure")
    for r in runs:
        table.add_column(f"{r['tree_size']:,} entries: wall (per CPU-s)", justify="right")
    table.add_column("target / peer", justify="right")
    rows = [
        (
            "appends/s, batched (10 000 a batch)",
            "append_batched",
            f"≥ {TARGETS['append_batched']:,} · Tessera ≈ {TESSERA_APPENDS_PER_S:,} "
            "(its page: POSIX, 12-core VM; not run)",
        ),
        ("declares/s, batched, validated + RFC 8785", "declare_batched", ""),
        ("appends/s, single (fsync + signature each)", "append_single", ""),
        (
            f"appends/s, {CONCURRENT_WRITERS} threads of singles, one commit each",
            "append_concurrent_ungrouped",
            "",
        ),
        (
            f"appends/s, {CONCURRENT_WRITERS} threads of singles, group commit",
            "append_concurrent_grouped",
            "",
        ),
        ("inclusion proofs/s, cold tile cache", "inclusion_proofs_cold", ""),
        (
            "inclusion proofs/s, warm",
            "inclusion_proofs",
            f"≥ {TARGETS['proof_generation']:,}",
        ),
        (
            "inclusion proofs verified/s",
            "inclusion_verifications",
            f"≥ {TARGETS['proof_verification']:,}",
        ),
        ("consistency proofs/s", "consistency_proofs", ""),
        ("consistency proofs verified/s", "consistency_verifications", ""),
    ]
    for label, key, target in rows:
        table.add_row(
            label,
            *(f"{r[key + '_per_s']:,.0f} ({r[key + '_per_cpu_s']:,.0f})" for r in runs),
            target,
        )
    for label, key in (
        ("storage bytes per entry (all tables)", "storage_bytes_per_entry"),
        ("entry body bytes", "average_entry_bytes"),
        ("load average (start / end)", ""),
    ):
        table.add_row(
            label,
            *(
                f"{r[key]:,.0f}"
                if key
                else f"{r['load_average_start']:.1f} / {r['load_average_end']:.1f}"
                for r in runs
            ),
            "",
        )
    console.print(table)
    for r in runs:
        console.print(
            f"bytes per entry by table at {r['tree_size']:,}: "
            f"{r['storage_bytes_per_entry_by_table']}"
        )
    out = {
        "benchmark": "log",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} shared cores",
        "python": platform.python_version(),
        "quick": quick,
        "targets": TARGETS,
        "peer": {
            "name": "Tessera (its docs/performance.md, not run)",
            "appends_per_s": TESSERA_APPENDS_PER_S,
            "setup": TESSERA_SETUP,
        },
        "runs": runs,
    }
    results_file.write_text(json.dumps(out, indent=2))
    console.print(f"wrote {results_file}")


if __name__ == "__main__":
    sys.exit(main())
