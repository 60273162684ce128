"""Root of the ``sostenuto`` command; capability commands register themselves here."""

from __future__ import annotations

import sys

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
    except Exception as error:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise
