"""``sostenuto user …`` and performer tokens issued from the CLI by the performer's CMO."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sostenuto.auth import authenticate, issue_token
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import Forbidden
from sostenuto.registry.demo import load_demo
from sostenuto.settings import get_settings
from sostenuto.storage.models.registry import Cmo, Mandate


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


def test_user_add_and_list_never_show_the_hash(cli: CliRunner) -> None:
    added = cli.invoke(
        app,
        ["user", "add", "--username", "dora", "--role", "auditor", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert added.exit_code == 0, added.output
    listed = cli.invoke(app, ["user", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    users = json.loads(listed.output)
    assert [user["username"] for user in users] == ["dora"]
    assert "argon2" not in listed.output and "passphrase" not in listed.output


def test_a_cmo_admin_issues_its_members_performer_token(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _context.database().transaction() as session:
        load_demo(session)
        aie = session.scalar(select(Cmo.id).where(Cmo.code == "AIE"))
        member = session.scalar(
            select(Mandate.performer_id).where(Mandate.cmo_id == aie, Mandate.status == "active")
        )
        admin = issue_token(session, role="cmo-admin", label="aie", cmo_id=aie)
    monkeypatch.setenv("SOSTENUTO_TOKEN", admin)
    issued = cli.invoke(
        app,
        ["token", "issue", "--role", "performer", "--label", "p", "--performer", str(member)],
    )
    assert issued.exit_code == 0, issued.output
    with _context.database().reader() as session:
        principal = authenticate(session, issued.stdout.strip())
    assert principal.role == "performer" and principal.performer_id == member
    other = cli.invoke(app, ["token", "issue", "--role", "auditor", "--label", "x"])
    assert isinstance(other.exception, Forbidden)
