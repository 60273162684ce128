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


def test_the_cli_names_the_label_layers_of_the_labeller() -> None:
    # The CLI spells them out so that `sostenuto --help` need not import the labeller.
    from sostenuto.cli.label import ALL_LAYERS
    from sostenuto.label import LAYERS

    assert ALL_LAYERS == LAYERS


def test_the_cli_names_the_default_threshold_of_the_matcher() -> None:
    from sostenuto.cli.identify import DEFAULT_THRESHOLD
    from sostenuto.identify import DEFAULT_THRESHOLD as MATCHER

    assert DEFAULT_THRESHOLD == MATCHER


def test_help_and_the_command_tree_load_no_capability() -> None:
    """``sostenuto --help`` (and building every command) pays for no capability's imports:
    they load when a command runs (``cli/_lazy.py``)."""
    heavy = ("numpy", "scipy", "torch", "sqlalchemy", "sostenuto.consent", "sostenuto.identify")
    probe = (
        "import sys, typer.main; from sostenuto.cli.main import app; "
        "typer.main.get_command(app); "
        # type() reads no attribute, so it does not trigger a lazy module's loading
        f"print(sorted(m for m in {heavy!r} if m in sys.modules and "
        "type(sys.modules[m]).__name__ != '_LazyModule'))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert ran.stdout.strip() == "[]", ran.stdout
