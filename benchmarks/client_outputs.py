"""The client's output side (``benchmarks/client.py --outputs N``): N generated 10 s outputs
checked, labelled and declared with ``client.outputs.label_and_declare_many``.

The demo registry is served by uvicorn in its own process with C2PA keys made for it. Each
configuration runs over the same outputs (fresh watermark ids each time, so every run labels
and declares anew), after an untimed warm-up batch of two with the same options (the server's
models and keys loaded, the client's labelling processes started). Every configuration
declares each output once, in one ``log.batches.declare`` call, and fetches its inclusion
proof:

- ``full``: recordings check, voice screening, label through the API (on a sample: the
  screening costs seconds per output);
- ``no voices``: the same without the voice screening;
- ``label only``: no checks (what labelling and declaring alone cost);
- ``local label``: no checks, labelled in the client's processes (one per core);
- ``local + recordings``: the recordings check, labelled in the client's processes;
- ``local, no proofs``: as ``local + recordings``, without fetching inclusion proofs.

Seconds per output of each step are the mean of the wall-clock time each output spent in it
(steps of different outputs overlap when ``workers`` > 1). CPU seconds per output count the
client (its labelling processes included) and the server; on two free cores the throughput
would be about 2 / (their sum).
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "client_outputs.json"
RATE = 16_000
SECONDS = 10.0
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "label only": {"check_voices": False, "check_recordings": False},
    "local label": {"check_voices": False, "check_recordings": False, "local": True},
    "no voices": {"check_voices": False},
    "local + recordings": {"check_voices": False, "local": True},
    "local, no proofs": {"check_voices": False, "local": True, "proofs": False},
    "full": {},
}
# Voice screening costs seconds per output on the server: the full path runs on a sample.
FULL_SAMPLE = 4


def _outputs(count: int) -> list[tuple[str, bytes]]:
    import numpy as np
    import soundfile

    rng = np.random.default_rng(7)
    t = np.arange(int(SECONDS * RATE)) / RATE
    made = []
    for n in range(count):
        notes = 110 * 2 ** (rng.integers(0, 36, size=4) / 12)
        wave = sum(np.sin(2 * np.pi * f * t) * np.exp(-((t * 2) % 1) * 3) for f in notes)
        wave = 0.2 * wave + 0.02 * rng.standard_normal(t.size)
        buffer = io.BytesIO()
        soundfile.write(buffer, np.clip(wave, -1, 1), RATE, format="WAV", subtype="PCM_16")
        made.append((f"output-{n:04d}.wav", buffer.getvalue()))
    return made


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn\n"
        "from sostenuto.api import create_app\n"
        "from sostenuto.settings import Settings\n"
        f"uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "SOSTENUTO_DATA_DIR": str(data_dir)}
    )


def _cpu(pid: int | None = None) -> float:
    """CPU seconds used so far by a process (this one by default), children excluded."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a labelling process that has ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_cpu(client: Any) -> dict[int, float]:
    """CPU seconds of this process and of the client's labelling processes, by pid."""
    labeller = client.outputs._labeller
    pids = labeller.pids() if labeller is not None else []
    return {0: _cpu(), **{pid: _cpu(pid) for pid in pids}}


def _steps(batch: Any) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in batch.items:
        for step, seconds in item.timings.items():
            totals[step] = totals.get(step, 0.0) + seconds
    return {step: total / len(batch.items) for step, total in totals.items()}


def run_outputs(count: int, workers: int) -> None:
    import sostenuto_client as sc
    from rich.console import Console
    from rich.table import Table

    from benchmarks.consent import _free_port
    from sostenuto.label import init_keys
    from sostenuto.registry.demo import load_demo
    from sostenuto.settings import Settings
    from sostenuto.storage import Database

    console = Console(width=160)
    work = Path(tempfile.mkdtemp(prefix="sostenuto-outputs-bench-"))
    server = None
    try:
        settings = Settings(data_dir=work)
        database = Database(settings.resolved_database_url)
        database.migrate()
        with database.transaction() as session:
            tokens = load_demo(session)
        database.dispose()
        init_keys(settings.keys_dir)
        port = _free_port()
        server = _serve(work, port)
        base = f"http://127.0.0.1:{port}"
        outputs = _outputs(count)
        results: dict[str, Any] = {}
        with sc.Client(base, tokens["licensee:Aurora Audio Labs"]) as client:
            for _ in range(600):
                try:
                    client.meta.health()
                    break
                except sc.ConnectionFailed:
                    time.sleep(0.1)
            # Warm up: the first screening loads the voice models, the first label the keys.
            client.outputs.label_and_declare(outputs[0], model_id=1, licensee_id=1, territory="SE")
            for name, options in CONFIGURATIONS.items():
                console.print(f"{name} …")
                sample = outputs[:FULL_SAMPLE] if name == "full" else outputs
                if name != "full":  # the first call above warmed the screening
                    client.outputs.label_and_declare_many(
                        outputs[-2:],
                        model_id=1,
                        licensee_id=1,
                        territory="SE",
                        workers=workers,
                        keys_dir=settings.keys_dir,
                        **options,
                    )
                started = time.perf_counter()
                cpu_client, cpu_server = _client_cpu(client), _cpu(server.pid)
                batch = client.outputs.label_and_declare_many(
                    sample,
                    model_id=1,
                    licensee_id=1,
                    territory="SE",
                    workers=workers,
                    keys_dir=settings.keys_dir,
                    **options,
                )
                seconds = time.perf_counter() - started
                client_now = _client_cpu(client)
                cpu = {
                    "client": sum(t - cpu_client.get(pid, 0.0) for pid, t in client_now.items()),
                    "server": _cpu(server.pid) - cpu_server,
                }
                declared = len(batch.of("declared"))
                results[name] = {
                    "outputs": len(sample),
                    "declared": declared,
                    "errors": [item.error for item in batch.items if item.error][:3],
                    "seconds": seconds,
                    "outputs_per_second": declared / seconds,
                    # Load-independent: on two free cores, about 2 / (CPU s per output) a second.
                    "cpu_seconds_per_output": {k: v / len(sample) for k, v in cpu.items()},
                    "declaration_calls": batch.declaration_calls,
                    "options": options,
                    "on_two_free_cores_about": 2 / max(sum(cpu.values()) / len(sample), 1e-9),
                    "seconds_per_output_by_step": _steps(batch),
                }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # still busy with a screening
                server.kill()
                server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title=f"{count} outputs of {SECONDS:.0f} s, {workers} at a time")
    steps = sorted({s for row in results.values() for s in row["seconds_per_output_by_step"]})
    columns = (
        "configuration",
        "declared",
        "outputs/s",
        "seconds",
        "CPU s/output (client+server)",
        "≈/s on 2 free cores",
    )
    for column in (*columns, *[f"{s} s/output" for s in steps]):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for name, row in results.items():
        by_step = row["seconds_per_output_by_step"]
        table.add_row(
            name,
            f"{row['declared']}/{row['outputs']}",
            f"{row['outputs_per_second']:.2f}",
            f"{row['seconds']:.1f}",
            "{client:.3f}+{server:.3f}".format(**row["cpu_seconds_per_output"]),
            f"{row['on_two_free_cores_about']:.1f}",
            *[f"{by_step[s]:.3f}" if s in by_step else "—" for s in steps],
        )
    console.print(table)
    for name, row in results.items():
        for error in row["errors"]:
            console.print(f"[yellow]{name}[/yellow]: {error}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "outputs": count,
                "output_seconds": SECONDS,
                "workers": workers,
                "configurations": results,
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                    "python": platform.python_version(),
                },
            },
            indent=1,
        )
        + "\n"
    )
    console.print(f"wrote {RESULTS}")
