"""Usage errors and --version go through the real entry point: a message and exit code 2,
never a traceback."""

from __future__ import annotations

import subprocess
import sys

from sostenuto import __version__

ENTRY = "from sostenuto.cli.main import main; main()"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120
    )


def test_version_flag_and_command() -> None:
    for args in (["--version"], ["version"]):
        ran = _run(*args)
        assert ran.returncode == 0 and ran.stdout.strip() == __version__


def test_usage_errors_are_messages_not_tracebacks() -> None:
    unknown = _run("--no-such-option")
    assert unknown.returncode == 2
    assert "No such option: --no-such-option" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    bad_value = _run("consent", "check", "--licensee", "seven")
    assert bad_value.returncode == 2
    assert "Invalid value for '--licensee'" in bad_value.stderr
    assert "Traceback" not in bad_value.stderr
