"""``sostenuto serve --workers 2`` on PostgreSQL: two processes, one log. Concurrent
declarations through both each get their own receipt, and the tree holds every one."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee
from sostenuto.transparency import prove_inclusion, verifier_key, verify_checkpoint
from sostenuto.transparency._merkle import leaf_hash, root_from_inclusion
from sostenuto.transparency._store import entry_at
from tests.conftest import POSTGRES_URL
from tests.serving import free_port

pytestmark = pytest.mark.postgres

DECLARATIONS = 48
AURORA = "Aurora Audio Labs"


@pytest.fixture
def served(postgres_schema: str, tmp_path: Path) -> Iterator[tuple[str, Path, Database, int]]:
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    port = free_port()
    environment = {
        **os.environ,
        "SOSTENUTO_DATABASE_URL": url,
        "SOSTENUTO_DATA_DIR": str(tmp_path / "data"),
    }
    sostenuto = str(Path(sys.executable).with_name("sostenuto"))
    command = [sostenuto, "serve", "--demo", "--workers", "2"]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve --workers 2 did not answer"
            time.sleep(0.3)
        database = Database(
            POSTGRES_URL, connect_args={"options": f"-csearch_path={postgres_schema}"}
        )
        yield base, tmp_path / "data", database, server.pid
        database.dispose()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(30)
        log.close()


def _tokens(data: Path) -> dict[str, str]:
    lines = (data / "demo-tokens.env").read_text().splitlines()
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines if line)
    return {name: value for name, value in pairs}


def test_two_workers_share_one_log(served: tuple[str, Path, Database, int]) -> None:
    base, data, database, pid = served
    workers = psutil.Process(pid).children(recursive=True)
    assert len(workers) >= 2, "two worker processes serve the application"
    with database.reader() as session:
        aurora = session.scalars(select(Licensee).where(Licensee.name == AURORA)).one()
        model = session.scalars(select(AiModel).where(AiModel.licensee_id == aurora.id)).first()
        assert model is not None
        licensee_id, model_id = aurora.id, model.id
    headers = {"Authorization": f"Bearer {_tokens(data)['LICENSEE_AURORA_AUDIO_LABS']}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        def declare(n: int) -> dict[str, Any]:
            payload = {
                "licensee_id": licensee_id,
                "model_id": model_id,
                "output_sha256": hashlib.sha256(b"output %d" % n).hexdigest(),
                "generated_on": "2026-12-03",
            }
            answer = client.post(
                "/api/v1/log/entries",
                json={"type": "output-declaration", "payload": payload},
            )
            assert answer.status_code in (200, 201), answer.text
            return dict(answer.json())

        with ThreadPoolExecutor(16) as pool:
            receipts = list(pool.map(declare, range(DECLARATIONS)))
        head = client.get("/api/v1/log/checkpoint").json()["note"]

    indices = sorted(int(r["index"]) for r in receipts)
    assert len(set(indices)) == DECLARATIONS
    size = verify_checkpoint(head, verifier_key(Settings(data_dir=data))).size
    assert size >= max(indices) + 1
    with database.reader() as session:
        bodies = {r["index"]: entry_at(session, int(r["index"])).body for r in receipts}
    for receipt in receipts:
        index, tree_size = int(receipt["index"]), int(receipt["tree_size"])
        proof = prove_inclusion(database, index, tree_size)
        assert root_from_inclusion(index, tree_size, leaf_hash(bodies[index]), proof)
