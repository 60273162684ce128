"""Root of the ``sostenuto`` command; capability commands register themselves here."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sostenuto import __version__
from sostenuto.cli import admin, consent, identify, label, log, registry, remuneration, voice
from sostenuto.cli.output import err_console
from sostenuto.errors import SostenutoError

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


def main() -> None:
    """Entry point: the one place that turns Sostenuto errors into exit codes."""
    try:
        app(standalone_mode=False)
    except SostenutoError as error:
        err_console.print(f"[red]error[/red] {error.diagnostics()}", highlight=False)
        sys.exit(error.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as error:
        # Usage errors arrive here in non-standalone mode. Typer 0.29 vendors its own click
        # (typer._click), older releases use click itself: both have show() and exit_code.
        show, code = getattr(error, "show", None), getattr(error, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
