"""A command's --server, --token and --json end with it: an in-process caller's next command
or service call does not inherit them."""

from __future__ import annotations

from typer.testing import CliRunner

from sostenuto.cli import _context
from sostenuto.cli.main import app


def test_options_end_with_their_command() -> None:
    # Nothing listens on port 9: the command fails, and its options must still be dropped.
    result = CliRunner().invoke(
        app,
        ["log", "checkpoint", "--server", "http://127.0.0.1:9", "--token", "sos_x", "--json"],
    )
    assert result.exit_code != 0
    assert (_context.INVOCATION.server, _context.INVOCATION.token) == (None, None)
    assert _context.INVOCATION.json is False
    assert _context.remote() is None
