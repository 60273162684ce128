"""The HTTP API, the statement page and the CLI over one worked example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sostenuto.api import create_app
from sostenuto.auth import OPERATOR, issue_token
from sostenuto.cli import _context, output
from sostenuto.cli.main import app as cli_app
from sostenuto.errors import SostenutoError
from sostenuto.remuneration import run_period, usage_to_document
from sostenuto.settings import Settings, get_settings
from sostenuto.storage import Database
from tests.remuneration.conftest import Example, build_registry, example_usage


def _bearer(database: Database, **kwargs: object) -> dict[str, str]:
    with database.transaction() as session:
        token = issue_token(session, label="test", **kwargs)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client_and_example(
    sqlite_database: Database, settings: Settings
) -> tuple[TestClient, Database, Example]:
    with sqlite_database.transaction() as session:
        example = build_registry(session)
    return TestClient(create_app(settings, sqlite_database)), sqlite_database, example


def test_api_from_tariff_to_statement(
    client_and_example: tuple[TestClient, Database, Example], settings: Settings
) -> None:
    client, database, ex = client_and_example
    sami = _bearer(database, role="cmo-admin", cmo_id=ex.sami)
    melodia = _bearer(database, role="licensee", licensee_id=ex.licensee)
    tariff = {
        "licence_id": ex.licence,
        "currency": "SEK",
        "valid_from": "2026-07-01",
        "training_fee_minor": 1_000_000,
        "revenue_share_bp": 500,
        "revenue_minimum_minor": 200_000,
        "per_output_minor": 25,
    }
    assert client.post("/api/v1/remuneration/tariffs", json=tariff).status_code == 401
    assert (
        client.post("/api/v1/remuneration/tariffs", json=tariff, headers=melodia).status_code == 403
    )
    created = client.post("/api/v1/remuneration/tariffs", json=tariff, headers=sami)
    assert created.status_code == 201, created.text
    assert client.get("/api/v1/remuneration/tariffs").json()[0]["revenue_share_bp"] == 500
    rule = client.put(
        f"/api/v1/remuneration/rules/{ex.sami}",
        headers=sami,
        json={"featured_weight": 2, "non_featured_weight": 1},
    )
    assert rule.status_code == 200
    report = {
        "licence_id": ex.licence,
        "period": "2026-Q3",
        "currency": "EUR",
        "revenue_minor": 12_345_678,
    }
    mismatch = client.post("/api/v1/remuneration/revenue-reports", json=report, headers=melodia)
    assert mismatch.status_code == 422 and "currency mismatch" in mismatch.json()["detail"]
    unknown = client.post(
        "/api/v1/remuneration/revenue-reports",
        headers=melodia,
        json=report | {"licence_id": 999, "currency": "SEK"},
    )
    assert unknown.status_code == 404
    ok = client.post(
        "/api/v1/remuneration/revenue-reports", headers=melodia, json=report | {"currency": "SEK"}
    )
    assert ok.status_code == 201, ok.text

    run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(ex), declare=False)
    statement = client.get(
        f"/api/v1/remuneration/statements/2026-Q3/licensee/{ex.licensee}", headers=melodia
    )
    assert statement.status_code == 200
    assert statement.json()["totals_minor"] == {"SEK": 1_617_384}
    csv = client.get(
        f"/api/v1/remuneration/statements/2026-Q3/performer/{ex.bruno}?format=csv", headers=sami
    )
    assert csv.status_code == 200 and csv.text.count("\n") == 3
    listed = client.get("/api/v1/remuneration/statements/2026-Q3", headers=melodia).json()
    assert [s["party_kind"] for s in listed] == ["licensee"]
    assert client.get(f"/api/v1/remuneration/statements/2026-Q3/cmo/{ex.sami}").status_code == 401
    # Run totals: each caller reads its own money only, the public nothing.
    owed = client.get("/api/v1/remuneration/runs/2026-Q3", headers=melodia).json()
    assert owed["summary"] == {
        "scope": {"licensee_id": ex.licensee},
        "currencies": {"SEK": {"owed_minor": 1_617_384}},
        "unlicensed": [],
    }
    run = client.get("/api/v1/remuneration/runs/2026-Q3", headers=sami).json()
    assert run["summary"]["currencies"]["SEK"]["collected_minor"] == 1_617_384
    assert run["summary"]["scope"] == {"cmo_id": ex.sami} and "by_cmo" not in run["summary"]
    aie = _bearer(database, role="cmo-admin", cmo_id=ex.aie)
    partner = client.get("/api/v1/remuneration/runs/2026-Q3", headers=aie).json()["summary"]
    assert partner["currencies"]["SEK"]["collected_minor"] == 0
    assert partner["currencies"]["SEK"]["received_minor"] == 336_479
    assert client.get("/api/v1/remuneration/runs/2026-Q3").status_code == 401
    public = _bearer(database, role="public")
    assert client.get("/api/v1/remuneration/runs/2026-Q3", headers=public).status_code == 403

    page = client.get(f"/remuneration/2026-Q3/licensee/{ex.licensee}", headers=melodia)
    assert page.status_code == 200
    assert "<svg" in page.text and "16,173.84 SEK" in page.text
    assert client.get(f"/remuneration/2026-Q3/licensee/{ex.licensee}").status_code == 403
    assert "2026-Q3" in client.get("/remuneration").text


@pytest.fixture
def cli_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Example]:
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    monkeypatch.setattr(output.console, "width", 200)  # tables on one line each
    get_settings.cache_clear()
    _context.database.cache_clear()
    database = _context.database()
    with database.transaction() as session:
        example = build_registry(session)
    yield example
    database.dispose()
    _context.database.cache_clear()
    get_settings.cache_clear()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args))
    error = result.exception
    # Outside main() Sostenuto errors arrive as the exception; main() prints them.
    return result.exit_code, result.output + (
        str(error) if isinstance(error, SostenutoError) else ""
    )


def test_cli_runs_a_period_from_a_usage_file(
    cli_example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = cli_example
    code, out = _cli(
        "remuneration",
        "tariff",
        "add",
        "--licence",
        str(ex.licence),
        "--currency",
        "SEK",
        "--valid-from",
        "2026-07-01",
        "--training-fee",
        "10000",
        "--revenue-share",
        "5",
        "--minimum",
        "2000",
        "--per-output",
        "0.25",
    )
    assert code == 0, out
    code, out = _cli("remuneration", "tariff", "list")
    assert "10000.00 SEK" in out and "5 %" in out
    assert (
        _cli(
            "remuneration", "rule", "--cmo", str(ex.sami), "--featured", "2", "--non-featured", "1"
        )[0]
        == 0
    )
    code, out = _cli(
        "remuneration",
        "report",
        "--licence",
        str(ex.licence),
        "--period",
        "2026-Q3",
        "--currency",
        "SEK",
        "--revenue",
        "123456.789",
    )
    assert code != 0 and "decimals" in out
    assert (
        _cli(
            "remuneration",
            "report",
            "--licence",
            str(ex.licence),
            "--period",
            "2026-Q3",
            "--currency",
            "SEK",
            "--revenue",
            "123456.78",
        )[0]
        == 0
    )
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps(usage_to_document(example_usage(ex))))
    code, out = _cli("remuneration", "run", "2026-Q3", "--usage", str(usage))
    assert code == 0, out
    assert "16173.84" in out and "7 statements" in out
    code, out = _cli("remuneration", "run", "2026-Q3", "--usage", str(usage))
    assert code == 0 and "unchanged" in out
    code, out = _cli("remuneration", "summary", "2026-Q3", "--json")
    assert code == 0 and json.loads(out)["summary"]["by_cmo"]  # the operator reads all
    with _context.database().transaction() as session:
        token = issue_token(session, role="cmo-admin", label="aie", cmo_id=ex.aie)
    monkeypatch.setenv("SOSTENUTO_TOKEN", token)
    code, out = _cli("remuneration", "summary", "2026-Q3", "--json")
    monkeypatch.delenv("SOSTENUTO_TOKEN")
    assert code == 0, out
    partner = json.loads(out)["summary"]
    assert partner["scope"] == {"cmo_id": ex.aie} and "by_cmo" not in partner
    assert partner["currencies"]["SEK"]["received_minor"] == 336_479
    code, out = _cli("remuneration", "statements", "show", "2026-Q3", "performer", str(ex.anna))
    assert code == 0 and json.loads(out)["totals"] == {"SEK": 747_733}
    page = tmp_path / "anna.html"
    code, out = _cli(
        "remuneration",
        "statements",
        "show",
        "2026-Q3",
        "performer",
        str(ex.anna),
        "--format",
        "html",
        "--output",
        str(page),
    )
    assert code == 0 and "<svg" in page.read_text() and "7,477.33 SEK" in page.read_text()
    code, out = _cli("remuneration", "statements", "list", "2026-Q3", "--kind", "cmo")
    assert code == 0 and "SAMI" in out
