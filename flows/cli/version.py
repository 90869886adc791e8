"""`credits --version` (`-V`): the installed version, for a newcomer and a bug report."""

from importlib.metadata import version
from typing import Annotated

import typer

from flows.cli.common import app


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"credits (outage-credits) {version('outage-credits')}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Show the installed version and exit.",
        ),
    ] = False,
) -> None:
    # No docstring: the app's own help text stays the one `credits --help` shows.
    return None
