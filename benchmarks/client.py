"""The Python client at corpus scale: ``client.consent.filter`` over HTTP, side by side with
the same decisions made with raw httpx calls of the batch endpoint and of one item each.

Builds a registry (``benchmarks/consent.py``'s synthetic catalogues: 10^5 recordings, or
``--items 1000000``), serves it with uvicorn in its own process, writes the registry's ISRCs
to a corpus file in random order, then runs each path in a fresh process (so peak memory is
that path's alone) over the same corpus:

- ``client``: ``sostenuto_client.Client.consent.filter`` (chunked batches, streamed, with its
  checkpoint journal), every permitted item yielded;
- ``raw batch``: httpx + orjson, the same chunks posted to ``consent.decide-batch``;
- ``raw pipelined``: the same, with the next chunk asked while one is counted (the
  client's overlap, without its journal and per-item objects): the fairer peer;
- ``raw single``: httpx, one ``consent.decide`` call per item (a sample, items/s extrapolated).

    python benchmarks/client.py [--items N] [--chunk C] [--singles S] [--repeat R] [--keep DB]

The two batch paths take turns ``--repeat`` times (best run of each kept, and the ratio of
each round reported): on a shared machine one run says little.

``--outputs N`` measures the output side instead: N generated 10 s outputs checked, labelled
and declared with ``client.outputs.label_and_declare_many`` against the demo registry served
by uvicorn in its own process (outputs/s, and the seconds per output of each step).

    python benchmarks/client.py --outputs 40 [--workers 4]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "client.json"
ROOT = Path(__file__).resolve().parents[1]
QUESTION: dict[str, Any] = {"use": "train-genai", "territory": "ES"}


def _corpus(path: Path, limit: int | None = None) -> Any:
    with path.open() as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                return
            yield line.rstrip("\n")


def _peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, reset by exec, so the
    parent's size at fork does not count)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(args: argparse.Namespace) -> dict[str, Any]:
    """One measured path, in this (fresh) process; its figures as JSON. Each path imports
    what it uses before the clock starts (import time is measured on its own)."""
    import httpx
    import orjson
    import sostenuto_client as sc

    started, cpu_before = time.perf_counter(), _cpu_seconds()
    permitted = items = 0
    if args.child == "client":
        with sc.Client(args.url, args.token) as client:
            run = client.consent.filter(
                _corpus(args.corpus),
                licensee_id=args.lab,
                chunk_size=args.chunk,
                checkpoint=Path(args.work) / f"client-journal-{os.getpid()}.csv",  # fresh each run
                **QUESTION,
            )
            for _ in run:
                permitted += 1
            items = sum(run.counts.values())
    elif args.child == "raw-batch":
        headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=args.url, timeout=600, headers=headers) as http:
            chunk: list[str] = []
            for isrc in itertools.chain(_corpus(args.corpus), [None]):
                if isrc is not None:
                    chunk.append(isrc)
                    if len(chunk) < args.chunk:
                        continue
                if not chunk:
                    break
                body = {"licensee_id": args.lab, "isrcs": chunk, **QUESTION}
                answer = http.post("/api/v1/consent/decisions/batch", content=orjson.dumps(body))
                answer.raise_for_status()
                batch = orjson.loads(answer.content)
                verdicts = [basis["outcome"] == "permit" for basis in batch["bases"]]
                permitted += sum(verdicts[i] for i in batch["basis_index"])
                items += len(chunk)
                chunk = []
    elif args.child == "raw-pipelined":
        # The raw path with the client's one trick: the next chunk is asked while this one
        # is counted (one request in flight ahead, from a second thread).
        from concurrent.futures import ThreadPoolExecutor

        headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
        with (
            httpx.Client(base_url=args.url, timeout=600, headers=headers) as http,
            ThreadPoolExecutor(max_workers=1) as ahead,
        ):

            def ask(chunk: list[str]) -> Any:
                body = {"licensee_id": args.lab, "isrcs": chunk, **QUESTION}
                answer = http.post("/api/v1/consent/decisions/batch", content=orjson.dumps(body))
                answer.raise_for_status()
                return orjson.loads(answer.content)

            source = _corpus(args.corpus)
            chunk = list(itertools.islice(source, args.chunk))
            pending = ahead.submit(ask, chunk) if chunk else None
            while pending is not None:
                size = len(chunk)
                chunk = list(itertools.islice(source, args.chunk))
                batch = pending.result()
                pending = ahead.submit(ask, chunk) if chunk else None
                verdicts = [basis["outcome"] == "permit" for basis in batch["bases"]]
                permitted += sum(verdicts[i] for i in batch["basis_index"])
                items += size
    elif args.child == "raw-single":
        headers = {"Authorization": f"Bearer {args.token}"}
        with httpx.Client(base_url=args.url, timeout=60, headers=headers) as http:
            for isrc in _corpus(args.corpus, args.singles):
                answer = http.post(
                    "/api/v1/consent/decisions",
                    json={"licensee_id": args.lab, "isrc": isrc, **QUESTION},
                )
                answer.raise_for_status()
                permitted += answer.json()["outcome"] == "permit"
                items += 1
    seconds = time.perf_counter() - started
    return {
        "path": args.child,
        "items": items,
        "permitted": permitted,
        "seconds": seconds,
        "items_per_second": items / seconds,
        "cpu_seconds": _cpu_seconds() - cpu_before,  # the run's, not the imports'
        "cpu_us_per_item": (_cpu_seconds() - cpu_before) / max(items, 1) * 1e6,
        "peak_rss_mib": _peak_rss_mib(),
    }


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn\n"
        "from sostenuto.api import create_app\n"
        "from sostenuto.settings import Settings\n"
        f"uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "SOSTENUTO_DATABASE_URL": url}
    )


def _measure(path: str, args: argparse.Namespace, base: str, token: str, lab: int) -> Any:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        path,
        "--url",
        base,
        "--token",
        token,
        "--lab",
        str(lab),
        "--corpus",
        str(args.corpus),
        "--chunk",
        str(args.chunk),
        "--singles",
        str(args.singles),
        "--work",
        str(args.work),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _import_seconds(python: str) -> float:
    """``import sostenuto_client`` in a fresh interpreter, as ``-X importtime`` counts it
    (cumulative, best of five: a busy machine only ever adds time)."""
    times = []
    for _ in range(5):
        done = subprocess.run(
            [python, "-X", "importtime", "-c", "import sostenuto_client"],
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(
            x for x in done.stderr.splitlines() if x.rstrip().endswith("| sostenuto_client")
        )
        times.append(int(line.split("|")[1]) / 1e6)
    return min(times)


def _fresh_install(work: Path) -> dict[str, Any]:
    """Build the wheel, install it into a fresh venv (pip fetches httpx and its few
    dependencies), and time the import there: the shared venv's httpx also loads click and
    rich for its command line, which a training environment need not have."""
    wheels = work / "wheel"
    client = str(ROOT / "clients" / "python")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), client],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("*.whl"))
    venv = work / "fresh-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True
    )
    if installed.returncode != 0:
        return {"wheel": wheel.name, "installed": False, "error": installed.stderr[-500:]}
    freeze = subprocess.run(
        [python, "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    heavy = subprocess.run(
        [
            python,
            "-c",
            "import sys, sostenuto_client; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in {'numpy', 'torch', 'scipy'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "wheel": wheel.name,
        "installed": True,
        "packages": freeze,
        "heavy_modules_loaded": heavy,
        "import_seconds": _import_seconds(python),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="recordings = corpus size")
    parser.add_argument("--quick", action="store_true", help="10^4 items (benchmarks/run.py)")
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each batch path")
    parser.add_argument("--keep", type=Path, default=None, help="keep or reuse the database")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lab", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--outputs", type=int, default=0, help="measure the output side")
    parser.add_argument("--workers", type=int, default=4, help="outputs labelled at a time")
    args = parser.parse_args()
    if args.outputs:
        sys.path.insert(0, str(ROOT))
        from benchmarks.client_outputs import run_outputs

        run_outputs(args.outputs, args.workers)
        return
    if args.quick:
        args.items, args.singles = min(args.items, 10_000), min(args.singles, 500)
    if args.child:
        print(json.dumps(_child(args)))
        return

    if str(ROOT) not in sys.path:  # run as a script: the repository's packages
        sys.path.insert(0, str(ROOT))
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from benchmarks.consent import _free_port, build_registry, reuse_registry
    from sostenuto.auth import issue_token
    from sostenuto.storage import Database
    from sostenuto.storage.models.registry import Recording

    console = Console()
    args.work = Path(tempfile.mkdtemp(prefix="sostenuto-client-bench-"))
    db_path = args.keep or args.work / "bench.sqlite3"
    url = f"sqlite:///{db_path}"
    server = None
    try:
        database = Database(url)
        database.migrate()
        if args.keep is not None and args.keep.exists() and os.path.getsize(args.keep) > 10**6:
            registry = reuse_registry(database)
        else:
            console.print(f"[bold]Building[/bold] a registry of {args.items:,} recordings")
            build = argparse.Namespace(
                recordings=args.items, performers=max(args.items // 10, 10), cmos=10
            )
            registry = build_registry(database, build, args.work)
        lab = registry["lab_id"]
        with database.transaction() as session:
            token = issue_token(session, role="licensee", label="client bench", licensee_id=lab)
            isrcs = list(session.scalars(select(Recording.isrc)))[: args.items]
        database.dispose()
        random.Random(5).shuffle(isrcs)
        args.corpus = args.work / "corpus.txt"
        args.corpus.write_text("\n".join(isrcs) + "\n")
        port = _free_port()
        server = _serve(url, port)
        base = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        # Warm the server's consent snapshot so no path pays for building it.
        _measure(
            "raw-single", argparse.Namespace(**{**vars(args), "singles": 50}), base, token, lab
        )
        # The batch paths take turns, --repeat times, so neither always runs on a server
        # (and a machine) the other has just warmed or loaded; each keeps its best run.
        runs: dict[str, list[dict[str, Any]]] = {"raw-batch": [], "client": [], "raw-pipelined": []}
        for round_ in range(args.repeat):
            order = ("raw-batch", "client", "raw-pipelined")
            order = order if round_ % 2 == 0 else order[::-1]
            for path in order:
                console.print(f"{path} (round {round_ + 1}) …")
                runs[path].append(_measure(path, args, base, token, lab))
        results = {
            path: max(rows, key=lambda r: r["items_per_second"]) for path, rows in runs.items()
        }
        console.print("raw-single …")
        results["raw-single"] = _measure("raw-single", args, base, token, lab)
        round_ratios = [
            c["items_per_second"] / b["items_per_second"]
            for c, b in zip(runs["client"], runs["raw-batch"], strict=True)
        ]
        pipelined_ratios = [
            c["items_per_second"] / b["items_per_second"]
            for c, b in zip(runs["client"], runs["raw-pipelined"], strict=True)
        ]
        if len({row["permitted"] for rows in runs.values() for row in rows}) != 1:
            counts = {path: [row["permitted"] for row in rows] for path, rows in runs.items()}
            raise SystemExit(f"the runs disagree on how many items are permitted: {counts}")
        server.terminate()
        server.wait(timeout=30)
        server = None
        fresh = _fresh_install(args.work)
        import_s = fresh.get("import_seconds", float("nan"))
        shared_import_s = _import_seconds(sys.executable)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(args.work, ignore_errors=True)
    client, batch, single = results["client"], results["raw-batch"], results["raw-single"]
    ratio_batch = client["items_per_second"] / batch["items_per_second"]
    ratio_pipelined = client["items_per_second"] / results["raw-pipelined"]["items_per_second"]
    ratio_single = client["items_per_second"] / single["items_per_second"]
    title = f"Consent filter over HTTP, {args.items:,} ISRCs, chunks of {args.chunk:,}"
    table = Table(title=title)
    columns = (
        "path",
        "items",
        "permitted",
        "seconds",
        "CPU s",
        "CPU µs/item",
        "items/s",
        "peak RSS MiB",
    )
    for column in columns:
        table.add_column(column, justify="right" if column != "path" else "left")
    for name, row in results.items():
        table.add_row(
            name,
            f"{row['items']:,}",
            f"{row['permitted']:,}",
            f"{row['seconds']:.2f}",
            f"{row['cpu_seconds']:.2f}",
            f"{row['cpu_us_per_item']:.1f}",
            f"{row['items_per_second']:,.0f}",
            f"{row['peak_rss_mib']:.0f}",
        )
    console.print(table)
    console.print(
        f"client / raw batch: {ratio_batch:.1%} best against best (target ≥ 90 %), "
        f"{sorted(round_ratios)[len(round_ratios) // 2]:.1%} median of the rounds "
        f"({', '.join(f'{r:.0%}' for r in round_ratios)}); "
        f"client / raw pipelined: {ratio_pipelined:.1%} best against best, "
        f"{sorted(pipelined_ratios)[len(pipelined_ratios) // 2]:.1%} median of the rounds; "
        f"client / one-by-one: {ratio_single:,.0f}× (target ≥ 100×); "
        f"import sostenuto_client: {import_s * 1000:.0f} ms in a fresh venv "
        f"({shared_import_s * 1000:.0f} ms in the shared one; target < 300 ms)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "items": args.items,
                "chunk": args.chunk,
                "singles_sampled": args.singles,
                "paths": results,
                "runs": runs,
                "client_vs_raw_batch": ratio_batch,
                "client_vs_raw_batch_by_round": round_ratios,
                "client_vs_raw_pipelined": ratio_pipelined,
                "client_vs_raw_pipelined_by_round": pipelined_ratios,
                "client_vs_one_by_one": ratio_single,
                "import_seconds": import_s,
                "import_seconds_shared_venv": shared_import_s,
                "fresh_install": fresh,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "registry": {k: v for k, v in registry.items() if k != "recordings"},
            },
            indent=1,
        )
        + "\n"
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
