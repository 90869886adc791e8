"""The `credits` command line. Exit codes: 0 published, 2 bad usage or configuration or input,
3 data rejected by validation, 1 anything else.

Quick commands never import Prefect: only `credits run` starts it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from transforms.errors import CreditsError, ValidationRejected

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Find every customer hurt by a payment outage and pay a fair credit, once, with proof.",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

MAX_OFFENDING_SHOWN = 20


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the sample into")] = Path(
        "data/sample"
    ),
    scale: Annotated[int, typer.Option(min=1, help="volume multiplier")] = 1,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same bytes")] = 7,
) -> None:
    """Writes a realistic sample incident (logs, tables, incident file) for 2025-01-07."""
    from transforms import sample as sample_data

    counts = _guarded(lambda: sample_data.generate(out_dir, scale=scale, seed=seed))
    for key, value in counts.items():
        out.print(f"{key:>20}: {value:,}")
    out.print(str((out_dir / "INC-2025-01-07.toml").resolve()))


@app.command()
def run(
    incident_file: Annotated[Path, typer.Argument(help="the incident's TOML file")],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="root of the run folders")
    ] = Path("data/output"),
) -> None:
    """Runs the pipeline on one incident; prints a summary and, last, the run folder."""
    from transforms import incident, logs, tables

    def preflight() -> None:
        # Configuration and the inputs' shape are checked before Prefect starts: fast and clear.
        loaded = incident.load(incident_file)
        logs.expand(loaded.sources.logs, loaded.path.parent)
        tables.check(loaded)

    _guarded(preflight)
    from flows import credit_reconciliation as pipeline

    _quiet_expected_tracebacks()
    content = _guarded(lambda: pipeline.credit_reconciliation(str(incident_file), str(output_dir)))
    _print_summary(content)
    out.print(content["run_folder"])


def _guarded(action):
    """Runs `action`, turning our errors into a message and their exit code, and bugs into 1."""
    try:
        return action()
    except ValidationRejected as rejected:
        _print_summary(rejected.manifest)
        err.print(f"[bold red]rejected[/]: {rejected}; nothing was published")
        for line in rejected.manifest.get("validation", {}).get("blocking", []):
            err.print(f"  - {line}")
        folder = rejected.manifest.get("run_folder")
        if folder:
            out.print(folder)
        raise typer.Exit(rejected.exit_code) from None
    except CreditsError as error:
        err.print(f"[bold red]error[/]: {error}")
        raise typer.Exit(error.exit_code) from None
    except Exception as error:  # a bug: say so briefly; CREDITS_DEBUG=1 shows the traceback
        if os.environ.get("CREDITS_DEBUG"):
            raise
        err.print(f"[bold red]internal error[/]: {type(error).__name__}: {error}")
        err.print("set CREDITS_DEBUG=1 to see the traceback")
        raise typer.Exit(1) from None


def _print_summary(content: dict[str, Any]) -> None:
    if not content:
        return
    funnel = content.get("log_funnel", {})
    classes = content.get("candidates", {}).get("by_class", {})
    table = Table(title=f"{content['incident']['id']} run {content['run_id']}: {content['verdict']}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in funnel.items():
        if key != "identity_holds":
            table.add_row(f"log lines: {key.replace('_', ' ')}", f"{value:,}")
    for key, value in classes.items():
        table.add_row(f"class {key}", f"{value:,}")
    for key, value in content.get("exceptions", {}).items():
        table.add_row(f"exception {key}", f"{value:,}")
    for currency, total in content.get("totals_minor", {}).items():
        table.add_row(f"credits {currency} (minor units)", f"{total:,}")
    out.print(table)
    for line in content.get("validation", {}).get("warnings", []):
        out.print(f"[yellow]warning[/]: {line}")


class _DropExpectedTraceback(logging.Filter):
    """Our own errors are reported by the CLI in one line: Prefect's log keeps no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], CreditsError):
            record.exc_info = None
            record.exc_text = None
        return True


def _quiet_expected_tracebacks() -> None:
    quiet = _DropExpectedTraceback()
    for name in ("prefect", ""):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(quiet)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
