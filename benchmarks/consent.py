"""Consent decisions at registry scale, side by side with Cedar (cedarpy).

Builds a registry of 1 000 000 recordings, 100 000 performers and 10 CMOs (``--quick``:
100 000 / 10 000) by importing one synthetic CSV catalogue per CMO through
``sostenuto.registry.import_catalogue``, adds mandates, licences, a reciprocal agreement, the
jurisdiction seed and a few thousand consent rules, then measures:

- bulk import rate (recordings/s into SQLite, or PostgreSQL with ``--postgres``),
- batch decisions per second in-process (``decide_batch`` of 100 000 recordings, storing the
  batch included),
- one HTTP batch call of 100 000 recordings against ``uvicorn`` on 127.0.0.1,
- single-decision latency over HTTP (p50 / p99),
- cedarpy on the same policy set and the same recordings, with every decision compared.

    python benchmarks/consent.py [--quick]
    python benchmarks/consent.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--postgres URL`` the registry is built (by the same bulk import, there by ``COPY``)
in a fresh schema of that database, measured there, and the schema dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _postgres import drop_schema, schema_url
from sostenuto.auth import OPERATOR, Principal, issue_token
from sostenuto.consent import (
    cedar_policies,
    current_snapshot,
    decide,
    decide_batch,
    disagreements,
    evaluate_with_cedar,
    forget_snapshots,
    load_jurisdictions,
)
from sostenuto.consent._engine import context
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import (
    Cmo,
    Licence,
    Licensee,
    Mandate,
    Performer,
    ReciprocalAgreement,
    Recording,
)

RESULTS = Path(__file__).with_name("results") / "consent.json"
COUNTRIES = ("ES", "FR", "DE", "IT", "NL", "SE", "DK", "NO", "FI", "PT")
EVERY_USE = ["train-ai", "style-imitation", "generate-derivative", "search-index"]
START = dt.date(2020, 1, 1)
console = Console()


def build_registry(database: Database, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Import the catalogues and add mandates, licences, agreements and rules."""
    from sostenuto.registry import import_catalogue
    from sostenuto.registry.synthetic import synthetic_recordings, write_csv_catalogue

    per_cmo = args.recordings // args.cmos
    performers_per_cmo = args.performers // args.cmos
    with database.transaction() as session:
        cmos = []
        for index in range(args.cmos):
            cmo = Cmo(code=f"CMO{index}", name=f"Bench CMO {index}", country=COUNTRIES[index % 10])
            session.add(cmo)
            session.flush()
            cmos.append(cmo.id)
        lab = Licensee(name="Bench Lab", kind="developer", country="ES")
        other = Licensee(name="Other Lab", kind="platform", country="FR")
        session.add_all([lab, other])
        session.flush()
        lab_id = lab.id

    files = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("writing catalogues", total=args.cmos)
        for index, _ in enumerate(cmos):
            path = work / f"catalogue-{index}.csv"
            rows = synthetic_recordings(
                per_cmo,
                performers=performers_per_cmo,
                seed=index + 1,
                country=COUNTRIES[index % 10],
                registrant=f"B{index:02d}",
            )
            write_csv_catalogue(path, rows)
            files.append(path)
            bar.advance(task)
    imported = 0
    started = time.perf_counter()
    for cmo_id, path in zip(cmos, files, strict=True):
        principal = Principal(name=f"bench-admin-{cmo_id}", role="cmo-admin", cmo_id=cmo_id)
        report = import_catalogue(
            database, principal, path, cmo_id=cmo_id, format="csv", progress=True
        )
        if report.errors:
            raise SystemExit(f"import of {path} reported {len(report.errors)} bad rows")
        imported += report.recordings
    import_seconds = time.perf_counter() - started

    rng = random.Random(7)
    with database.transaction() as session:
        performers = session.execute(select(Performer.id, Performer.registered_by_cmo_id)).all()
        recordings = list(session.scalars(select(Recording.id)))
        mandates = [
            {
                "performer_id": performer,
                "cmo_id": cmo,
                "territories": ["WW"],
                "uses": EVERY_USE,
                "valid_from": START,
                "valid_to": None,
            }
            for performer, cmo in performers
            if rng.random() < 0.9  # one performer in ten has no CMO: a non-member
        ]
        session.execute(insert(Mandate), mandates)
        es, fr, de, it, nl, se = cmos[:6]
        licence = {
            "licensee_id": lab_id,
            "valid_from": START,
            "valid_to": None,
            "tariff_ref": "bench",
        }
        session.execute(
            insert(Licence),
            [
                {
                    **licence,
                    "cmo_id": es,
                    "uses": ["train-genai"],
                    "territories": ["WW"],
                    "status": "active",
                    "extended": False,
                    "conditions": ["remuneration"],
                },
                {
                    **licence,
                    "cmo_id": fr,
                    "uses": ["train-genai"],
                    "territories": ["ES", "FR"],
                    "status": "active",
                    "extended": False,
                    "conditions": ["remuneration", "attribution"],
                },
                {
                    **licence,
                    "cmo_id": de,
                    "uses": ["train-genai"],
                    "territories": ["WW"],
                    "status": "suspended",
                    "extended": False,
                    "conditions": [],
                },
                {
                    **licence,
                    "cmo_id": se,
                    "uses": ["train-genai"],
                    "territories": ["SE"],
                    "status": "active",
                    "extended": True,
                    "conditions": ["remuneration"],
                },
            ],
        )
        session.add(
            ReciprocalAgreement(
                cmo_id=es,
                partner_cmo_id=it,
                territories=["ES"],
                uses=["train-ai"],
                admin_fee=0.1,
                valid_from=START,
            )
        )
        load_jurisdictions(session, OPERATOR)
        performer_ids = [p for p, _ in performers]
        rule = {
            "valid_from": START,
            "valid_to": None,
            "created_by": "benchmark",
            "licensee_id": None,
        }
        rules = (
            [
                {
                    **rule,
                    "effect": "prohibit",
                    "scope_kind": "performer",
                    "scope_id": p,
                    "uses": ["train-ai"],
                    "territories": ["WW"],
                    "conditions": [],
                    "source": "opt-out",
                }
                for p in rng.sample(performer_ids, len(performer_ids) // 50)
            ]
            + [
                {
                    **rule,
                    "effect": "permit",
                    "scope_kind": "performer",
                    "scope_id": p,
                    "uses": ["train-genai"],
                    "territories": ["ES"],
                    "conditions": ["attribution"],
                    "source": "performer",
                }
                for p in rng.sample(performer_ids, len(performer_ids) // 200)
            ]
            + [
                {
                    **rule,
                    "effect": "prohibit",
                    "scope_kind": "recording",
                    "scope_id": r,
                    "uses": ["train-genai"],
                    "territories": ["WW"],
                    "conditions": [],
                    "source": "cmo",
                }
                for r in rng.sample(recordings, len(recordings) // 1000)
            ]
            + [
                {
                    **rule,
                    "effect": "prohibit",
                    "scope_kind": "cmo",
                    "scope_id": nl,
                    "uses": ["train-genai"],
                    "territories": ["WW"],
                    "conditions": [],
                    "source": "cmo",
                },
                {
                    **rule,
                    "effect": "permit",
                    "scope_kind": "cmo",
                    "scope_id": fr,
                    "uses": ["search-index"],
                    "territories": ["WW"],
                    "conditions": [],
                    "source": "cmo",
                },
            ]
        )
        session.execute(insert(ConsentRule), rules)
    return {
        "lab_id": lab_id,
        "recordings": recordings,
        "imported": imported,
        "import_seconds": import_seconds,
        "import_rate": imported / import_seconds,
        "mandates": len(mandates),
        "performers": len(performers),
        "rules": len(rules),
    }


def reuse_registry(database: Database) -> dict[str, Any]:
    """The figures of a registry built by an earlier run (``--keep``)."""
    with database.reader() as session:
        lab_id = session.scalar(select(Licensee.id).where(Licensee.name == "Bench Lab"))
        recordings = list(session.scalars(select(Recording.id)))
        performers = len(session.scalars(select(Performer.id)).all())
        mandates = len(session.scalars(select(Mandate.id)).all())
        rules = len(session.scalars(select(ConsentRule.id)).all())
    return {
        "lab_id": lab_id,
        "recordings": recordings,
        "imported": 0,
        "import_seconds": float("nan"),
        "import_rate": float("nan"),
        "mandates": mandates,
        "performers": performers,
        "rules": rules,
    }


def in_process(database: Database, lab: int, batch: list[int], repeats: int) -> dict[str, Any]:
    forget_snapshots()
    started = time.perf_counter()
    with database.reader() as session:
        snapshot = current_snapshot(session)
    snapshot_seconds = time.perf_counter() - started
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        with database.transaction() as session:
            result = decide_batch(
                session,
                OPERATOR,
                licensee_id=lab,
                recording_ids=batch,
                use="train-genai",
                territory="ES",
            )
        runs.append(time.perf_counter() - started)
    # Where a single decision's time goes: deciding, and storing it (one SQLite commit).
    rng = random.Random(5)
    decided, stored = [], []
    for _ in range(500):
        recording = rng.choice(batch)
        started = time.perf_counter()
        with database.reader() as session:
            decide(
                session,
                OPERATOR,
                licensee_id=lab,
                recording_id=recording,
                use="train-genai",
                territory="ES",
            )
            session.rollback()
        decided.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        with database.transaction() as session:
            decide(
                session,
                OPERATOR,
                licensee_id=lab,
                recording_id=recording,
                use="train-genai",
                territory="ES",
            )
        stored.append(1000 * (time.perf_counter() - started))
    return {
        "single_decide_p50_ms": float(np.percentile(decided, 50)),
        "single_decide_p99_ms": float(np.percentile(decided, 99)),
        "single_decide_and_commit_p50_ms": float(np.percentile(stored, 50)),
        "single_decide_and_commit_p99_ms": float(np.percentile(stored, 99)),
        "snapshot_seconds": snapshot_seconds,
        "first_batch_seconds": runs[0],
        "batch_seconds": statistics.median(runs[1:]) if len(runs) > 1 else runs[0],
        "decisions_per_second": len(batch)
        / (statistics.median(runs[1:]) if len(runs) > 1 else runs[0]),
        "first_batch_decisions_per_second": len(batch) / runs[0],
        "permitted": result.permitted,
        "bases": len(result.bases),
        "result": result,
        "snapshot": snapshot,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def over_http(url: str, token: str, lab: int, batch: list[int], singles: int) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "SOSTENUTO_DATABASE_URL": url}
    code = (
        "import uvicorn\n"
        "from sostenuto.api import create_app\n"
        "from sostenuto.settings import Settings\n"
        f"uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            for _ in range(300):
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            body = orjson.dumps(
                {
                    "licensee_id": lab,
                    "recording_ids": batch,
                    "use": "train-genai",
                    "territory": "ES",
                }
            )
            started = time.perf_counter()
            answer = client.post("/api/v1/consent/decisions/batch", content=body, headers=headers)
            answer.raise_for_status()
            cold = time.perf_counter() - started
            timings = []
            batch_bytes = 0
            for _ in range(3):
                started = time.perf_counter()
                answer = client.post(
                    "/api/v1/consent/decisions/batch", content=body, headers=headers
                )
                answer.raise_for_status()
                orjson.loads(answer.content)
                batch_bytes = len(answer.content)
                timings.append(time.perf_counter() - started)
            rng = random.Random(3)
            latencies = []
            for number in range(singles + 50):
                single = orjson.dumps(
                    {
                        "licensee_id": lab,
                        "recording_id": rng.choice(batch),
                        "use": "train-genai",
                        "territory": "ES",
                    }
                )
                started = time.perf_counter()
                answer = client.post("/api/v1/consent/decisions", content=single, headers=headers)
                answer.raise_for_status()
                if number >= 50:  # the first calls warm the connection and the context
                    latencies.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
    batch_seconds = statistics.median(timings)
    ms = sorted(1000 * value for value in latencies)
    return {
        "first_batch_seconds": cold,
        "batch_seconds": batch_seconds,
        "decisions_per_second": len(batch) / batch_seconds,
        "batch_response_bytes": batch_bytes,
        "single_requests": len(ms),
        "single_p50_ms": float(np.percentile(ms, 50)),
        "single_p99_ms": float(np.percentile(ms, 99)),
        "single_max_ms": ms[-1],
    }


def cedar_side(engine: dict[str, Any], lab: int, batch: list[int], sample: int) -> dict[str, Any]:
    import cedarpy

    snapshot = engine["snapshot"]
    result = engine["result"]
    ids = batch[:sample]
    today = dt.datetime.now(dt.UTC).date().toordinal()
    started = time.perf_counter()
    policy_set = cedar_policies(snapshot)
    cedarpy.PolicySet.from_str(policy_set.text)
    policy_seconds = time.perf_counter() - started
    cedar = evaluate_with_cedar(
        snapshot,
        licensee_id=lab,
        use="train-genai",
        territory="ES",
        day=today,
        recordings=ids,
        policy_set=policy_set,
    )
    results = result.results[:sample]
    differences = disagreements(
        cedar,
        [r.outcome for r in results],
        [r.rule_ids for r in results],
        [r.licence_ids for r in results],
    )
    # The engine on exactly the same work: the same recordings, context already built.
    ctx = context(snapshot, lab, "train-genai", "ES", today)
    array = np.asarray(ids, dtype=np.int64)
    started = time.perf_counter()
    ctx.decide_many(array)
    engine_seconds = time.perf_counter() - started
    return {
        "recordings": len(ids),
        "requests": cedar.requests,
        "policies": cedar.policies,
        "policy_parse_seconds": policy_seconds,
        "entities_seconds": cedar.seconds["entities"],
        "authorise_seconds": cedar.seconds["authorise"],
        "decisions_per_second": len(ids) / cedar.seconds["authorise"],
        "requests_per_second": cedar.requests / cedar.seconds["authorise"],
        "engine_same_work_seconds": engine_seconds,
        "engine_same_work_decisions_per_second": len(ids) / engine_seconds,
        "disagreements": len(differences),
        "disagreement_examples": differences[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^5 recordings, 10^4 performers")
    parser.add_argument("--recordings", type=int, default=None)
    parser.add_argument("--performers", type=int, default=None)
    parser.add_argument("--cmos", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--cedar-sample", type=int, default=None, help="recordings for Cedar")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the built database at this path, or reuse it (import then not measured)",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        help="build and measure on this PostgreSQL database (a fresh schema) instead of SQLite",
    )
    args = parser.parse_args()
    args.recordings = args.recordings or (100_000 if args.quick else 1_000_000)
    args.performers = args.performers or (10_000 if args.quick else 100_000)
    args.batch = min(args.batch, args.recordings)
    args.cedar_sample = min(args.cedar_sample or args.batch, args.batch)

    work = Path(tempfile.mkdtemp(prefix="sostenuto-consent-bench-", dir=args.workdir))
    db_path = args.keep or work / "bench.sqlite3"
    url = f"sqlite:///{db_path}"
    schema = None
    if args.postgres:
        if args.keep:
            raise SystemExit("--keep is for SQLite")
        schema = f"bench_consent_{os.getpid()}"
        url = schema_url(args.postgres, schema)
    try:
        reuse = args.keep is not None and args.keep.exists()
        database = Database(url)
        database.migrate()
        if reuse:
            registry = reuse_registry(database)
            args.recordings = len(registry["recordings"])
            args.performers = registry["performers"]
            args.batch = min(args.batch, args.recordings)
            args.cedar_sample = min(args.cedar_sample, args.batch)
        else:
            console.print(
                f"[bold]Building[/bold] {args.recordings:,} recordings, "
                f"{args.performers:,} performers, {args.cmos} CMOs in {work}"
            )
            registry = build_registry(database, args, work)
        lab = registry["lab_id"]
        batch = random.Random(11).sample(registry["recordings"], args.batch)
        console.print("in-process batches …")
        engine = in_process(database, lab, batch, repeats=4)
        console.print("HTTP (uvicorn on 127.0.0.1) …")
        with database.transaction() as session:
            token = issue_token(session, role="licensee", label="bench", licensee_id=lab)
        http = over_http(url, token, lab, batch, args.singles)
        console.print(f"cedarpy on {args.cedar_sample:,} recordings …")
        cedar = cedar_side(engine, lab, batch, args.cedar_sample)
        database.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if schema is not None:
            drop_schema(args.postgres, schema)
    backend = "PostgreSQL" if args.postgres else "SQLite"

    targets = {
        "in_process_decisions_per_second": 100_000,
        "http_batch_decisions_per_second": 20_000,
        "single_p99_ms": 10.0,
        "import_recordings_per_second": 20_000,
    }
    measured = {
        "in_process_decisions_per_second": engine["decisions_per_second"],
        "http_batch_decisions_per_second": http["decisions_per_second"],
        "single_p99_ms": http["single_p99_ms"],
        "import_recordings_per_second": registry["import_rate"],
    }
    table = Table(title=f"Consent decisions ({'quick' if args.quick else 'full'} run, {backend})")
    for column in ("measure", "Sostenuto", "cedarpy", "target"):
        table.add_column(column)
    table.add_row(
        "registry",
        f"{args.recordings:,} rec / {registry['performers']:,} perf / "
        f"{args.cmos} CMOs, {registry['rules']:,} rules",
        "",
        "",
    )
    table.add_row(
        f"bulk import (rec/s, {backend})", f"{registry['import_rate']:,.0f}", "", "≥ 20 000"
    )
    table.add_row("snapshot build (s)", f"{engine['snapshot_seconds']:.2f}", "", "")
    table.add_row(
        f"in-process batch of {args.batch:,}, stored (dec/s)",
        f"{engine['decisions_per_second']:,.0f}"
        f" (first {engine['first_batch_decisions_per_second']:,.0f})",
        "",
        "≥ 100 000",
    )
    table.add_row(
        "HTTP batch, one call (dec/s)", f"{http['decisions_per_second']:,.0f}", "", "≥ 20 000"
    )
    table.add_row(
        "HTTP single p50 / p99 (ms)",
        f"{http['single_p50_ms']:.2f} / {http['single_p99_ms']:.2f}",
        "",
        "p99 ≤ 10",
    )
    table.add_row(
        "in-process single: decide / decide+commit p50 (p99) ms",
        f"{engine['single_decide_p50_ms']:.2f} ({engine['single_decide_p99_ms']:.2f}) / "
        f"{engine['single_decide_and_commit_p50_ms']:.2f}"
        f" ({engine['single_decide_and_commit_p99_ms']:.2f})",
        "",
        "",
    )
    table.add_row(
        f"same {cedar['recordings']:,} recordings (dec/s)",
        f"{cedar['engine_same_work_decisions_per_second']:,.0f}",
        f"{cedar['decisions_per_second']:,.0f} ({cedar['requests_per_second']:,.0f} req/s)",
        "not slower",
    )
    table.add_row("disagreements engine vs Cedar", "", str(cedar["disagreements"]), "0")
    console.print(table)

    report = {
        "run": "quick" if args.quick else "full",
        "database": backend,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "shared 2-core machine, other work running",
            "load_average_at_end": os.getloadavg(),
        },
        "sizes": {
            "recordings": args.recordings,
            "performers": registry["performers"],
            "cmos": args.cmos,
            "mandates": registry["mandates"],
            "rules": registry["rules"],
            "batch": args.batch,
        },
        "import": {
            "recordings": registry["imported"],
            "seconds": registry["import_seconds"],
            "recordings_per_second": registry["import_rate"],
        },
        "in_process": {k: v for k, v in engine.items() if k not in ("result", "snapshot")},
        "http": http,
        "cedar": cedar,
        "targets": targets,
        "measured": measured,
        "met": {
            "in_process": measured["in_process_decisions_per_second"]
            >= targets["in_process_decisions_per_second"],
            "http_batch": measured["http_batch_decisions_per_second"]
            >= targets["http_batch_decisions_per_second"],
            "single_p99": measured["single_p99_ms"] <= targets["single_p99_ms"],
            "import": measured["import_recordings_per_second"]
            >= targets["import_recordings_per_second"],
            "not_slower_than_cedar": cedar["engine_same_work_decisions_per_second"]
            >= cedar["decisions_per_second"],
            "engines_agree": cedar["disagreements"] == 0,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    written = RESULTS.with_name("consent-postgresql.json") if args.postgres else RESULTS
    written.write_text(json.dumps(report, indent=2, default=str) + "\n")
    console.print(f"written {written}")


if __name__ == "__main__":
    main()
