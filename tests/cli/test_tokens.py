"""``sostenuto token …``: only the local operator issues and revokes API tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sostenuto.auth import authenticate
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import Forbidden, Unauthenticated
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


def test_operator_issues_and_revokes(cli: CliRunner) -> None:
    issued = cli.invoke(app, ["token", "issue", "--role", "auditor", "--label", "audit office"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    with _context.database().reader() as session:
        assert authenticate(session, token).role == "auditor"
    assert "token 1 (auditor, audit office)" in issued.stderr
    listed = cli.invoke(app, ["token", "list", "--json"])
    assert [(t["id"], t["role"], t["label"]) for t in json.loads(listed.stdout)] == [
        (1, "auditor", "audit office")
    ]
    assert token not in listed.stdout
    revoked = cli.invoke(app, ["token", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    with _context.database().reader() as session, pytest.raises(Unauthenticated):
        authenticate(session, token)
    assert json.loads(cli.invoke(app, ["token", "list", "--json"]).stdout) == []
    everything = json.loads(cli.invoke(app, ["token", "list", "--revoked", "--json"]).stdout)
    assert everything[0]["revoked_at"] is not None


def test_a_token_holder_cannot_issue_or_revoke(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = cli.invoke(app, ["token", "issue", "--role", "auditor", "--label", "audit office"])
    monkeypatch.setenv("SOSTENUTO_TOKEN", issued.stdout.strip())
    again = cli.invoke(app, ["token", "issue", "--role", "auditor", "--label", "second"])
    assert isinstance(again.exception, Forbidden)
    revoke = cli.invoke(app, ["token", "revoke", "1"])
    assert isinstance(revoke.exception, Forbidden)
    monkeypatch.delenv("SOSTENUTO_TOKEN")
    with _context.database().reader() as session:
        token = issued.stdout.strip()
        assert authenticate(session, token).role == "auditor"  # still valid: nothing revoked
