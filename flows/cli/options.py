"""The options and arguments the `credits` commands share, each read once as typed: the
warehouse, the outbox, a run id, a path (never empty), `--wide`, `--verbose`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from flows.settings import (
    OUTBOX,
    OUTBOX_VARIABLE,
    WAREHOUSE,
    WAREHOUSE_VARIABLE,
    outbox_given,
)
from transforms import commands
from transforms.errors import ConfigError


def _warehouse_given(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """A `postgresql://` URL that does not parse (a bracket left open, a port that is not a
    number) is a usage error (exit 2), named before anything connects; so is a DuckDB path that
    is a loop of symbolic links (Python's resolve raises RuntimeError: a bug's exit 1 mid-run).
    Blanks around the value are dropped (`files.as_given`). Typed blank (`--warehouse "$WH"`,
    WH unset) it is refused: it was the current folder, "not a warehouse"; a blank
    `CREDITS_WAREHOUSE` (a `.env` line) is the default, as an empty one is."""
    from transforms import files

    value = files.as_given(value)
    if not value:
        if ctx.get_parameter_source(param.name or "").name == "COMMANDLINE":
            raise typer.BadParameter(
                "empty: name the warehouse (a DuckDB file or a postgresql:// URL), or leave "
                f"--warehouse out for {WAREHOUSE_VARIABLE} or {WAREHOUSE}"
            )
        value = WAREHOUSE
    try:
        if "://" not in value:
            from transforms import pg_url  # the store's module only for a URL: a run imports it

            pg_url.require_no_misread_url(value)
            files.resolved(Path(value), "a DuckDB file")
            if problem := files.unexpanded(value):
                raise ConfigError(problem)
        else:
            from transforms.finance import pg_location

            pg_location.require_location(value)
            if pg_location.is_url(value):
                pg_location.server_of(value)
    except ConfigError as error:
        raise typer.BadParameter(str(error)) from None
    return value


WarehouseOption = Annotated[
    str,
    typer.Option(
        "--warehouse",
        envvar="CREDITS_WAREHOUSE",
        help="the warehouse: a DuckDB file, or a postgresql://user@host:port/db URL",
        callback=_warehouse_given,
    ),
]


def run_id_given(text: str) -> str:
    """A run id as pasted: blanks around it, the run folder `credits run` printed last
    (`.../run=<id>/`), its name (`run=<id>`) or a file in it (`.../run=<id>/report.html`, as
    the browser shows the report) are the id they hold (an id holds no `/`)."""
    parts = text.strip().rstrip("/").split("/")
    folder = next((p for p in reversed(parts) if p.startswith("run=")), parts[-1])
    if not folder.removeprefix("run="):  # `credits approve "$RUN"` with RUN unset
        raise typer.BadParameter(
            f"empty: give the run id `{commands.credits('run')}` printed last "
            f"(`{commands.credits('runs')}` lists them)"
        )
    return folder.removeprefix("run=")


def run_id_argument(help_text: str) -> Any:
    """A command's RUN_ID argument, taken as `run_id_given` reads it."""
    return typer.Argument(metavar="RUN_ID", help=help_text, callback=run_id_given)


def incident_id_given(text: str | None) -> str | None:
    """An incident id typed empty or as blanks only (`credits customers "$INC"`, INC unset) is
    refused as such: it was looked up, "incident : not in the warehouse"."""
    if text is not None and not text.strip():
        raise typer.BadParameter(
            f"empty: give an incident id (e.g. INC-2025-01-07; `{commands.credits('runs')}` "
            "lists the runs and their incidents)"
        )
    return text


WideOption = Annotated[
    bool, typer.Option("--wide", help="every column, none clipped (wider than 120)")
]


def path_given(value: str | Path) -> Path:
    """A path option or argument as typed (a `parser`): an empty one is refused, where Typer
    read it as the current folder (`credits sample --out ""` wrote the sample there), and so is
    one of blanks only (`"$DIR "`, DIR unset: a name no one gives a file)."""
    if isinstance(value, str) and not value.strip():
        raise typer.BadParameter(
            'empty: name a file or folder (an unset shell variable, `"$FILE"`, gives an empty one)'
        )
    return Path(value)


def output_path_given(value: str | Path) -> Path:
    """A path to write (a folder or file the command makes) as typed: `path_given`; one
    written with a shell's `~` or `$VARIABLE` that nothing is named is refused
    (`files.unexpanded`)."""
    from transforms import files

    path = path_given(value)
    if isinstance(value, str) and (problem := files.unexpanded(value)):
        raise typer.BadParameter(problem)
    return path


IncidentFileArgument = Annotated[
    Path, typer.Argument(metavar="FILE", help="the incident's TOML file", parser=path_given)
]


def _outbox_given(ctx: typer.Context, param: typer.CallbackParam, value: str | Path) -> Path:
    """The outbox as given, `CREDITS_OUTBOX`'s too (`settings.outbox_given`). Typed blank on
    the command line (`--outbox "$BOX"`, BOX unset) it is refused: it was the current folder,
    where the audit looked and an approval would publish; a blank `CREDITS_OUTBOX` (a `.env`
    line) is the default."""
    typed = ctx.get_parameter_source(param.name or "").name == "COMMANDLINE"
    if typed and not str(value).strip():
        raise typer.BadParameter(
            f"empty: name the outbox folder, or leave --outbox out for {OUTBOX_VARIABLE} "
            f"or {OUTBOX}"
        )
    from transforms import files

    outbox = outbox_given(str(value))
    if problem := files.unexpanded(str(outbox)):
        raise typer.BadParameter(problem)
    return outbox


OutboxOption = Annotated[
    Path,
    typer.Option(
        "--outbox",
        envvar=OUTBOX_VARIABLE,
        help="where finance picks batches up (shared by every machine that decides)",
        parser=lambda value: value,  # as typed: Typer makes an empty one the current folder
        callback=_outbox_given,
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="show every log line (Prefect's, GX's, counts)")
]


_IN_PLAIN_WORDS = {  # pydantic's error type -> what Typer's option check says instead
    "int_parsing": "must be a whole number, not {input!r}",
    "greater_than_equal": "must be {ge} or more, not {number}",
    "less_than_equal": "must be {le} or less, not {number}",
}


def say_in_plain_words(error: typer.BadParameter) -> None:
    """Typer checks an option's value with pydantic and shows pydantic's words: "Value error,
    'xls' is not one of ..." for a choice, "Input should be a valid integer, unable to parse
    string as an integer" for `--scale x`. The message is rewritten in the docs' words (a
    choice's without the prefix); any other error is left as Typer said it."""
    from pydantic import ValidationError  # imported already: Typer's check raised it

    if not isinstance(error.__cause__, ValidationError):
        return
    first = error.__cause__.errors(include_url=False)[0]
    if first["type"] == "value_error":  # Typer's own ValueError, its input already escaped
        error.message = error.message.removeprefix("Value error, ").rstrip(".")
    elif first["type"] in _IN_PLAIN_WORDS:  # a range's input parsed as a whole number
        number = first["input"] if first["type"] == "int_parsing" else int(first["input"])
        said = _IN_PLAIN_WORDS[first["type"]]
        error.message = said.format(input=first["input"], number=number, **first.get("ctx", {}))
