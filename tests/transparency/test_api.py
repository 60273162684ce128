"""HTTP: JSON API, roles, the C2SP tile paths, the summary page, and a witness over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import mirror, verifier_key, verify_receipt, witness
from tests.transparency.conftest import World, manifest, sha


@pytest.fixture
def client(database: Database, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def _tokens(database: Database, world: World) -> dict[str, dict[str, str]]:
    with database.transaction() as session:
        tokens = {
            "dev": issue_token(session, role="licensee", label="dev", licensee_id=world.licensee),
            "rival": issue_token(
                session, role="licensee", label="rival", licensee_id=world.other_licensee
            ),
            "cmo": issue_token(session, role="cmo-admin", label="cmo", cmo_id=world.cmo),
            "auditor": issue_token(session, role="auditor", label="aud"),
        }
    return {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


def test_json_api_and_tiles(
    client: TestClient, database: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    auth = _tokens(database, world)
    body = {"type": "dataset-manifest", "payload": manifest(world)}
    assert client.post("/api/v1/log/entries", json=body).status_code == 401  # anonymous
    assert client.post("/api/v1/log/entries", json=body, headers=auth["rival"]).status_code == 403
    assert client.post("/api/v1/log/entries", json=body, headers=auth["auditor"]).status_code == 403
    bad = {"type": "dataset-manifest", "payload": dict(manifest(world), files=[])}
    refused = client.post("/api/v1/log/entries", json=bad, headers=auth["dev"])
    assert refused.status_code == 422 and "files" in refused.json()["detail"]
    made = client.post("/api/v1/log/entries", json=body, headers=auth["dev"])
    assert made.status_code == 201 and made.json()["index"] == 0
    outputs = [
        {
            "type": "output-declaration",
            "payload": {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"o{i}"),
                "generated_on": "2026-02-02",
            },
        }
        for i in range(299)
    ]
    batch = client.post("/api/v1/log/batches", json={"entries": outputs}, headers=auth["dev"])
    assert batch.status_code == 201 and batch.json()[-1]["index"] == 299

    key = client.get("/api/v1/log/key").json()["verifier_key"]
    assert key == verifier_key(settings)
    receipt = client.get("/api/v1/log/proofs/inclusion/123").json()
    assert verify_receipt(receipt, key).index == 123
    assert client.post("/api/v1/log/verify", json={"bundle": receipt}).json()["valid"] is True
    forged = dict(receipt, index=124)
    verdict = client.post("/api/v1/log/verify", json={"bundle": forged}).json()
    assert verdict["valid"] is False
    consistency = client.get("/api/v1/log/proofs/consistency", params={"first": 1}).json()
    assert client.post("/api/v1/log/verify", json={"bundle": consistency}).json()["valid"]
    entry = client.get("/api/v1/log/entries/0").json()
    assert entry["entry"]["payload"]["name"] == "corpus A"
    assert client.get("/api/v1/log/entries/9999").status_code == 404

    # The tile API serves what the static mirror holds, byte for byte.
    site = tmp_path / "site"
    mirror(database, site)
    for path in (
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ):
        response = client.get(f"/log/{path}")
        assert response.status_code == 200, path
        assert response.content == (site / path).read_bytes(), path
    assert (
        client.get("/log/tile/0/001.p/10").content == (site / "tile/0/001.p/44").read_bytes()[:320]
    )
    assert client.get("/log/tile/0/002").status_code == 404
    assert client.get("/log/tile/0/1234").status_code == 404


def test_summary_page_and_pdf(
    client: TestClient, database: Database, settings: Settings, world: World
) -> None:
    auth = _tokens(database, world)
    corpus = client.post(
        "/api/v1/log/entries",
        headers=auth["dev"],
        json={"type": "dataset-manifest", "payload": manifest(world)},
    ).json()
    run = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "model_version": "2.1",
        "manifests": [corpus["entry_id"]],
        "started_on": "2026-03-01",
        "rights_reservation_protocols": ["tdmrep"],
    }
    assert (
        client.post(
            "/api/v1/log/entries",
            headers=auth["dev"],
            json={"type": "training-run", "payload": run},
        ).status_code
        == 201
    )
    assert 'href="/transparency"' in client.get("/").text
    listing = client.get("/transparency")
    assert listing.status_code == 200 and "tune-0" in listing.text
    public_page = client.get(f"/transparency/models/{world.model}")
    assert "Less than 10,000 hours" in public_page.text and "Annex for CMOs" not in public_page.text
    cmo_page = client.get(f"/transparency/models/{world.model}", headers=auth["cmo"])
    assert "Annex for CMOs" in cmo_page.text and "FRZ032600000" in cmo_page.text
    pdf = client.get(f"/api/v1/log/summaries/{world.model}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    summary = client.get(f"/api/v1/log/summaries/{world.model}", headers=auth["auditor"]).json()
    assert summary["general_information"]["model"]["versions"] == ["2.1"]
    assert client.get("/api/v1/log/summaries/999").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_witness_over_http(sqlite_database: Database, settings: Settings, tmp_path: Path) -> None:
    from sostenuto.transparency import declare_batch
    from tests.transparency.conftest import build_world

    world = build_world(sqlite_database)
    outputs = [
        (
            "output-declaration",
            {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"h{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(600)
    ]
    declare_batch(sqlite_database, settings, world.developer, outputs[:100])
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, sqlite_database), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}/log"
        state = tmp_path / "w.json"
        key = verifier_key(settings)
        assert witness(base, key, state).status == "first"
        declare_batch(sqlite_database, settings, world.developer, outputs[100:])
        report = witness(base, key, state)
        assert (report.status, report.size) == ("advanced", 600)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
