"""``sostenuto registry …`` against a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.settings import get_settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    get_settings.cache_clear()
    _context.database.cache_clear()
    yield CliRunner()
    _context.database().dispose()
    get_settings.cache_clear()
    _context.database.cache_clear()


def _ok(runner: CliRunner, *args: str, as_json: bool = True) -> str:
    result = runner.invoke(app, ["registry", *args, *(["--json"] if as_json else [])])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_a_cmo_its_performer_mandate_and_recording(cli: CliRunner) -> None:
    _ok(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    assert "AIE" in _ok(cli, "cmo", "list")
    performer = orjson.loads(
        _ok(
            cli,
            "performer",
            "add",
            "--name",
            "Lucía Ferrer",
            "--isni",
            "0000000218250097",
            "--cmo",
            "AIE",
        )
    )
    _ok(
        cli,
        "mandate",
        "add",
        "--performer",
        str(performer["id"]),
        "--cmo",
        "AIE",
        "--territory",
        "ES",
        "--use",
        "train-genai",
        "--from",
        "2025-01-01",
    )
    clash = cli.invoke(
        app,
        [
            "registry",
            "mandate",
            "add",
            "--performer",
            str(performer["id"]),
            "--cmo",
            "AIE",
            "--territory",
            "WW",
            "--use",
            "train-genai",
            "--from",
            "2026-01-01",
        ],
    )
    assert clash.exit_code != 0 and "mandate 1" in str(clash.exception)
    recording = orjson.loads(
        _ok(
            cli,
            "recording",
            "add",
            "--cmo",
            "AIE",
            "--isrc",
            "es-a7q-24-00001",
            "--title",
            "Calima",
            "--year",
            "2024",
        )
    )
    assert recording["isrc"] == "ESA7Q2400001"
    _ok(
        cli,
        "contribution",
        "add",
        "ESA7Q2400001",
        "--performer",
        str(performer["id"]),
        "--kind",
        "voice",
        "--featured",
    )
    shown = orjson.loads(_ok(cli, "recording", "show", "ES-A7Q-24-00001"))
    assert shown["contributions"][0]["featured"] is True
    audit = orjson.loads(_ok(cli, "audit", "--entity-type", "mandate"))
    assert [(e["entity_type"], e["entity_id"]) for e in audit["items"]] == [("mandate", "1")]


def test_invalid_isrc_is_refused(cli: CliRunner) -> None:
    _ok(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    result = cli.invoke(
        app,
        [
            "registry",
            "recording",
            "add",
            "--cmo",
            "AIE",
            "--isrc",
            "XX-A7Q-24-00001",
            "--title",
            "Calima",
        ],
    )
    assert isinstance(result.exception, InvalidInput)
    assert "XX-A7Q-24-00001" in str(result.exception)


def test_import_prints_skipped_rows_and_writes_them_out(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "isrc,title,performer_name,kind\nESA7Q2400001,Calima,Lucía Ferrer,voice\n"
        "ESA7Q2400002,Luz,Mateo Ibarra,guitar\n",
        encoding="utf-8",
    )
    skipped = tmp_path / "skipped.csv"
    output = _ok(
        cli, "import", str(catalogue), "--cmo", "AIE", "--errors", str(skipped), as_json=False
    )
    assert "1 imported" in output and "1 rows" in output
    lines = skipped.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,reason,record" and lines[1].startswith("3,")
    again = orjson.loads(_ok(cli, "import", str(catalogue), "--cmo", "AIE"))
    assert again["imported"] == 0 and again["unchanged"] == 1 and len(again["errors"]) == 1


def test_a_token_of_the_wrong_role_is_refused(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    _ok(cli, "licensee", "add", "--name", "Aurora", "--kind", "developer")
    token = cli.invoke(
        app, ["token", "issue", "--role", "licensee", "--label", "aurora", "--licensee", "1"]
    ).stdout.strip()
    monkeypatch.setenv("SOSTENUTO_TOKEN", token)
    result = cli.invoke(
        app,
        [
            "registry",
            "recording",
            "add",
            "--cmo",
            "AIE",
            "--isrc",
            "ESA7Q2400001",
            "--title",
            "Calima",
        ],
    )
    assert isinstance(result.exception, Forbidden)
    assert "AIE" in _ok(cli, "cmo", "list")  # the public list stays readable


def test_demo_command_prints_one_token_per_role(cli: CliRunner) -> None:
    first = orjson.loads(_ok(cli, "demo"))
    second = orjson.loads(_ok(cli, "demo"))
    assert set(first) == set(second) and "auditor" in first and first != second
    assert _ok(cli, "cmo", "list", "--json").count('"code"') == 3
