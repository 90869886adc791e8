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

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")
DEFAULT_OUTBOX = Path("data/outbox")
WarehouseOption = Annotated[Path, typer.Option("--warehouse", help="the warehouse DuckDB file")]
OutboxOption = Annotated[Path, typer.Option("--outbox", help="where finance picks batches up")]


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
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Runs the pipeline on one incident; prints a summary and, last, the run folder.

    A run that passes the quality gate waits for finance: `credits approve RUN_ID --by NAME`.
    """
    from transforms import incident, logs, tables

    def preflight() -> None:
        # Configuration and the inputs' shape are checked before Prefect starts: fast and clear.
        loaded = incident.load(incident_file)
        logs.expand(loaded.sources.logs, loaded.path.parent)
        tables.check(loaded)

    _guarded(preflight)
    from flows import credit_reconciliation as pipeline

    _quiet_expected_tracebacks()
    content = _guarded(
        lambda: pipeline.credit_reconciliation(
            str(incident_file), str(output_dir), str(warehouse_path)
        )
    )
    _print_summary(content)
    out.print(f"waiting for approval: credits approve {content['run_id']} --by NAME")
    out.print(content["run_folder"])


@app.command()
def approve(
    run_id: Annotated[str, typer.Argument(help="the run to approve")],
    by: Annotated[str, typer.Option("--by", help="who approves")],
    note: Annotated[str | None, typer.Option("--note", help="a note for the journal")] = None,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
    outbox: OutboxOption = DEFAULT_OUTBOX,
) -> None:
    """Approves a pending run and publishes its batch (only what was not paid yet)."""
    from transforms import ledger

    decision = _guarded(
        lambda: ledger.approve(warehouse_path, run_id, by=by, note=note, outbox=outbox)
    )
    if decision.already_decided:
        out.print(f"run {run_id} was already published; nothing new")
    if decision.batch_id is None:
        out.print("nothing new to pay for this incident: no batch")
        return
    totals = ", ".join(f"{c} {ledger.decimal_text(v, c)}" for c, v in decision.totals_minor.items())
    out.print(f"batch {decision.batch_id}: {decision.rows} payment(s) {totals}".rstrip())
    if decision.decreases:
        out.print(f"[yellow]{decision.decreases} credit(s) came out lower than already paid[/]")
    out.print(str(decision.batch_folder))


@app.command()
def reject(
    run_id: Annotated[str, typer.Argument(help="the run to decline")],
    by: Annotated[str, typer.Option("--by", help="who declines")],
    reason: Annotated[str, typer.Option("--reason", help="why")],
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Declines a pending run: it will never be published."""
    from transforms import ledger

    decision = _guarded(lambda: ledger.decline(warehouse_path, run_id, by=by, reason=reason))
    out.print(f"run {decision.run_id} is {decision.status}")


@app.command("verify-batch")
def verify_batch(
    path: Annotated[Path, typer.Argument(help="a batch folder in the outbox (or its batch.json)")],
) -> None:
    """Recomputes a batch's control totals and file hashes; exit 3 if anything differs."""
    from transforms import ledger

    problems = _guarded(lambda: ledger.verify_batch(path))
    for problem in problems:
        err.print(f"[bold red]mismatch[/]: {problem}")
    if problems:
        raise typer.Exit(3)
    out.print(f"{path}: verified")


@app.command()
def audit(
    incident_id: Annotated[str | None, typer.Option("--incident", help="only this incident")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="check the hash chain")] = False,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Prints the audit journal; --verify checks that no entry was edited, deleted or moved."""
    from transforms import journal, warehouse

    def read():
        with warehouse.connect(warehouse_path, read_only=True) as con:
            return journal.entries(con, incident_id), journal.verify(con) if verify else []

    entries, problems = _guarded(read)
    for e in entries:
        out.print(
            f"{e.seq:>5}  {e.at:%Y-%m-%dT%H:%M:%SZ}  {e.incident_id or '-'}  {e.run_id or '-'}  "
            f"{e.event:<9}  by {e.actor}  {_compact(e.detail)}".rstrip(),
            markup=False,
        )
    for problem in problems:
        err.print(f"[bold red]tampered[/]: {problem}")
    if problems:
        raise typer.Exit(3)
    if verify:
        out.print(f"journal verified: {len(entries)} entries, chain intact")


def _compact(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, [], {}))


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
