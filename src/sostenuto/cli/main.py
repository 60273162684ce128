"""Root of the ``sostenuto`` command; capability commands register themselves here.

Every command also takes ``--json``, ``--server`` and ``--token``: they are added here to each
command's signature, once, so that no command can lack them. Exit codes are the table in
``docs/cli.md``; :func:`main` is the one place that turns errors into them.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from sostenuto import __version__
from sostenuto.cli import (
    _context,
    admin,
    consent,
    identify,
    label,
    log,
    registry,
    remuneration,
    voice,
)
from sostenuto.cli.output import err_console
from sostenuto.errors import SostenutoError

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_FILE = 13
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="sostenuto",
    help="Rights infrastructure for generative AI in music.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (admin, registry, consent, log, label, remuneration, voice, identify):
    module.register(app)


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Rights infrastructure for generative AI in music."""


_COMMON: dict[str, Any] = {
    "json_output": Annotated[
        bool, typer.Option("--json", help="Print the answer as JSON (for scripts).")
    ],
    "server": Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="SOSTENUTO_SERVER",
            help="Run against this Sostenuto server (URL) instead of the local database.",
        ),
    ],
    "token": Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="SOSTENUTO_TOKEN",
            help="Act as this API token's holder (default: the local operator).",
        ),
    ],
}
_DEFAULTS: dict[str, Any] = {"json_output": False, "server": None, "token": None}


def _with_common_options(callback: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(callback, eval_str=True)
    # A command with its own ``--json`` (``as_json``) keeps it; the flag is shared either way.
    own_json = "as_json" in signature.parameters
    added = {
        name: kind for name, kind in _COMMON.items() if not (own_json and name == "json_output")
    }

    @functools.wraps(callback)
    def command(*args: Any, **kwargs: Any) -> Any:
        common = {name: kwargs.pop(name, _DEFAULTS[name]) for name in added}
        as_json = kwargs.get("as_json", common.get("json_output", False))
        _context.configure(json=bool(as_json), server=common["server"], token=common["token"])
        try:
            return callback(*args, **kwargs)
        finally:
            # Options die with their command: an in-process caller (a script, a test) that
            # runs another command or a service next must not find --server still set.
            _context.configure(json=False, server=None, token=None)

    extra = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS[name], annotation=kind
        )
        for name, kind in added.items()
    ]
    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    command.__annotations__ = {**callback.__annotations__, **added}
    return command


def _add_common_options(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_common", False):
            info.callback = _with_common_options(info.callback)
            info.callback._common = True  # type: ignore[attr-defined]
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _add_common_options(group.typer_instance)


_add_common_options(app)


def main() -> None:
    """Entry point: the one place that turns errors into exit codes (``docs/cli.md``)."""
    try:
        app(standalone_mode=False)
    except SostenutoError as error:
        err_console.print(f"[red]error[/red] {error.diagnostics()}", highlight=False)
        sys.exit(error.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(EXIT_INTERRUPTED)
    except OSError as error:
        # A file that cannot be read or written: name it, no traceback.
        where = f": {error.filename}" if error.filename else ""
        err_console.print(f"[red]error[/red] file: {error.strerror or error}{where}")
        sys.exit(EXIT_FILE)
    except Exception as error:
        # Usage errors arrive here in non-standalone mode. Typer 0.29 vendors its own click
        # (typer._click), older releases use click itself: both have show() and exit_code.
        show, code = getattr(error, "show", None), getattr(error, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        if os.environ.get("SOSTENUTO_DEBUG"):
            raise
        err_console.print(
            f"[red]error[/red] unexpected {type(error).__name__}: {error}\n"
            "  this is a bug in Sostenuto; SOSTENUTO_DEBUG=1 shows where it happened",
            highlight=False,
        )
        sys.exit(EXIT_UNEXPECTED)
