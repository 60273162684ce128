"""The ``sostenuto consent`` commands through Typer's CliRunner, on a data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from sostenuto.auth import issue_token
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.settings import get_settings
from sostenuto.storage import Database
from tests.consent.conftest import World


@pytest.fixture
def cli_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, dict[str, int]]]:
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    get_settings.cache_clear()
    _context.database.cache_clear()
    database: Database = _context.database()
    world = World(database)
    ids = {"A": world.cmo("A", "SE"), "L1": world.licensee("Lab")}
    ids["p1"] = world.performer("Ana")
    ids["r1"] = world.recording(ids["p1"])
    ids["licence"] = world.licence(ids["A"], ids["L1"], territories=("SE",), extended=True)
    yield world, ids
    database.dispose()
    _context.database.cache_clear()
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, result.output


def test_jurisdictions_then_check_then_opt_out(
    cli_world: tuple[World, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ids = cli_world
    check = ("consent", "check", "--licensee", str(ids["L1"]), "--recording", str(ids["r1"]),
             "--use", "train-genai", "--territory", "SE")  # fmt: skip
    code, output = run(*check)
    assert code == 0, output
    assert orjson.loads(output)["outcome"] == "deny"
    code, output = run("consent", "jurisdiction", "load")
    assert code == 0 and orjson.loads(output)["loaded"] > 0
    code, output = run(*check)
    decision = orjson.loads(output)
    assert (decision["outcome"], decision["licence_id"]) == ("permit", ids["licence"])
    code, output = run("consent", "opt-out", "--performer", str(ids["p1"]))
    assert code == 0, output
    rule_id = orjson.loads(output)["id"]
    code, output = run(*check)
    assert orjson.loads(output)["rule_ids"] == [rule_id]
    code, output = run("consent", "decision", "show", decision["id"])
    assert orjson.loads(output)["outcome"] == "permit"

    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"{ids['r1']}\n{ids['r1']}\n")
    out = tmp_path / "batch.json"
    batch = ("consent", "batch", "--licensee", str(ids["L1"]), "--use", "train-genai",
             "--territory", "SE", "--recordings", str(ids_file), "--output", str(out))  # fmt: skip
    code, output = run(*batch)
    assert code == 0, output
    assert orjson.loads(out.read_bytes())["size"] == 2
    code, output = run("consent", "export", "--format", "tdmrep", "--performer", str(ids["p1"]))
    assert orjson.loads(output)["tdmrep"][0]["tdm-reservation"] == 1

    # A licensee token cannot change consent: the error reaches the exit code.
    with _context.database().transaction() as session:
        token = issue_token(session, role="licensee", label="lab", licensee_id=ids["L1"])
    monkeypatch.setenv("SOSTENUTO_TOKEN", token)
    code, output = run("consent", "revoke", str(rule_id))
    assert code != 0
    assert run("consent", "rules", "--json")[0] == 0
