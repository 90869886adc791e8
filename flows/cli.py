"""The `credits` command line. Exit codes: 0 done, 2 bad usage or configuration or input,
3 data rejected by validation or a ledger, journal or batch that does not prove itself, 4 the
machine refused a write (full disk, read-only folder, permission), 1 anything else (a bug);
`credits run` stopped by a signal exits 128 + its number.

Quick commands never import Prefect: only `credits run` starts it.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import unicodedata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.settings import configure_prefect, journal_key
from transforms.chain import KEY_VARIABLE
from transforms.errors import (
    ConfigError,
    CreditsError,
    StorageError,
    ValidationRejected,
    environment_problem,
)

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


class TaskRunner(enum.StrEnum):
    """Where `credits run` reads the log files."""

    threads = "threads"
    dask = "dask"


@app.command()
def run(
    incident_file: Annotated[Path, typer.Argument(help="the incident's TOML file")],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="root of the run folders")
    ] = Path("data/output"),
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
    task_runner: Annotated[
        TaskRunner,
        typer.Option(help="where the log files are read: threads here, or a Dask cluster"),
    ] = TaskRunner.threads,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            help="scheduler of a running Dask cluster (tcp://HOST:PORT); without it "
            "--task-runner dask starts a local cluster",
        ),
    ] = None,
) -> None:
    """Runs the pipeline on one incident; prints a summary and, last, the run folder.

    A run that passes the quality gate waits for finance: `credits approve RUN_ID --by NAME`.
    """
    from flows import server
    from transforms import incident, logs, tables

    if dask_address and task_runner is not TaskRunner.dask:
        err.print("[bold red]error[/]: --dask-address needs --task-runner dask")
        raise typer.Exit(2)
    configure_prefect()
    for pid in server.reap_orphans(server.home()):
        err.print(f"stopped Prefect's temporary server (pid {pid}) left by a killed run")

    def preflight() -> None:
        # Configuration and the inputs' shape are checked before Prefect starts: fast and clear.
        loaded = incident.load(incident_file)
        logs.expand(loaded.sources.logs, loaded.path.parent)
        tables.check(loaded)

    _guarded(preflight)
    from flows import credit_reconciliation as pipeline

    _quiet_expected_tracebacks()
    flow = pipeline.credit_reconciliation.with_options(
        task_runner=pipeline.task_runner(task_runner.value, dask_address)
    )

    def run_flow() -> dict[str, Any]:
        with server.temporary_server(server.home()):
            return flow(str(incident_file), str(output_dir), str(warehouse_path))

    try:
        content = _guarded(run_flow)
    except server.Stopped as stopped:
        err.print(
            f"[bold red]stopped[/] by {stopped}: Prefect's temporary server and the run's other "
            "processes are stopped. A run stopped before its manifest was written can never be "
            "approved: run the incident again"
        )
        raise typer.Exit(stopped.exit_code) from None
    _print_summary(content)
    out.print(f"waiting for approval: credits approve {content['run_id']} --by NAME")
    out.print(content["run_folder"])


@app.command()
def approve(
    run_id: Annotated[str, typer.Argument(help="the run to approve")],
    by: Annotated[str | None, typer.Option("--by", help="who approves")] = None,
    note: Annotated[str | None, typer.Option("--note", help="a note for the journal")] = None,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
    outbox: OutboxOption = DEFAULT_OUTBOX,
    force_superseded: Annotated[
        bool,
        typer.Option(
            "--force-superseded",
            help="approve a run older than the incident's newest published run (journaled)",
        ),
    ] = False,
    accept_decreases: Annotated[
        bool,
        typer.Option(
            "--accept-decreases",
            help="publish a batch that carries decreases (never paid back; journaled)",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="print the batch approval would publish and the diff; change nothing"
        ),
    ] = False,
) -> None:
    """Approves a pending run and publishes its batch (only what was not paid yet).

    Shows first what the run changes against what is published; a batch that would carry
    decreases stops and asks for --accept-decreases."""
    from flows import cli_diff
    from transforms import ledger, money
    from transforms.finance import diff as diffs

    if dry_run:
        _dry_run(run_id, warehouse_path, outbox)
        return
    if by is None:
        err.print("[bold red]error[/]: --by: name the person who decides (or use --dry-run)")
        raise typer.Exit(2)
    try:
        decision = _guarded(
            lambda: ledger.approve(
                warehouse_path,
                run_id,
                by=by,
                note=note,
                outbox=outbox,
                key=journal_key(),
                force_superseded=force_superseded,
                accept_decreases=accept_decreases,
                show=lambda found: cli_diff.print_diff(found, lines=False),
            ),
            passing=(diffs.DecreasesNeedDecision,),
        )
    except diffs.DecreasesNeedDecision as refused:
        cli_diff.print_decreases(refused.diff)
        err.print(
            f"[bold red]stopped[/]: run {run_id}'s batch would carry "
            f"{len(refused.diff.decreases)} decrease(s) (listed above; never paid back). Nothing "
            "was published. To publish it, approve again with --accept-decreases (journaled); "
            f"`credits diff {run_id}` shows every change"
        )
        raise typer.Exit(refused.exit_code) from None
    if decision.already_decided:
        out.print(f"run {run_id} was already published; nothing new")
    if decision.batch_id is None:
        out.print("nothing new to pay for this incident: no batch")
        return
    totals = ", ".join(f"{c} {money.decimal_text(v, c)}" for c, v in decision.totals_minor.items())
    out.print(f"batch {decision.batch_id}: {decision.rows} payment(s) {totals}".rstrip())
    if decision.decreases:
        out.print(f"[yellow]{decision.decreases} credit(s) came out lower than already paid[/]")
    if decision.pay_by_hand:
        out.print(f"{decision.pay_by_hand} closed account(s) in pay_by_hand.csv")
    out.print(str(decision.batch_folder))


def _dry_run(run_id: str, warehouse_path: Path, outbox: Path) -> None:
    """`credits approve --dry-run`: the batch approval would publish, and the diff."""
    from flows import cli_diff
    from transforms import money
    from transforms.finance import diff as diffs
    from transforms.finance import review

    found = _guarded(
        lambda: review.preview(
            warehouse_path, run_id, key=journal_key(), outbox=outbox, against=diffs.PUBLISHED
        )
    )
    out.print(f"dry run: nothing is written. Approving run {run_id} now would publish:")
    if found.batch_id is None:
        out.print("  nothing new to pay or report: no batch", markup=False)
    else:
        totals = ", ".join(money.display(v, c) for c, v in found.totals_minor.items())
        out.print(
            f"  batch {found.batch_id}: {len(found.payments)} payment(s) {totals}".rstrip(),
            markup=False,
        )
        _print_rows(list(found.payments), _BATCH_PREVIEW, indent="    ")
        if found.decreases:
            out.print(f"  and {len(found.decreases)} decrease(s), never paid back:", markup=False)
            cli_diff.print_decreases(found.diff)
        if found.pay_by_hand:
            out.print("  and to pay by hand (closed accounts):", markup=False)
            _print_rows(list(found.pay_by_hand), _PAY_BY_HAND, indent="    ")
    for text in found.notes:
        out.print(f"note: {text}", markup=False)
    out.print()
    cli_diff.print_diff(found.diff)


_PAY_BY_HAND = (
    ("customer", lambda r: r["customer_id"]),
    ("owed", lambda r: _money(r["credit_owed_minor"], r["currency"])),
    ("already paid", lambda r: _money(r["paid_minor"], r["currency"])),
    ("listed before", lambda r: _money(r["listed_before_minor"], r["currency"])),
    ("to pay", lambda r: _money(r["to_pay_minor"], r["currency"])),
)


def _money(amount_minor: int, currency: str) -> str:
    from transforms import money

    return money.display(amount_minor, currency)


_BATCH_PREVIEW = (
    ("entry", lambda r: r["entry_id"]),
    ("customer", lambda r: r["customer_id"]),
    ("amount", lambda r: f"{r['currency']} {r['amount']}"),
    ("kind", lambda r: r["entry_kind"]),
)


@app.command()
def reject(
    run_id: Annotated[str, typer.Argument(help="the run to decline")],
    by: Annotated[str, typer.Option("--by", help="who declines")],
    reason: Annotated[str, typer.Option("--reason", help="why")],
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Declines a pending run: it will never be published."""
    from transforms import ledger

    decision = _guarded(
        lambda: ledger.decline(warehouse_path, run_id, by=by, reason=reason, key=journal_key())
    )
    out.print(f"run {decision.run_id} is {decision.status}")


@app.command("verify-batch")
def verify_batch(
    path: Annotated[Path, typer.Argument(help="a batch folder in the outbox (or its batch.json)")],
) -> None:
    """Recomputes a batch's control totals and file hashes; exit 3 if anything differs."""
    from transforms import outbox

    problems = _guarded(lambda: outbox.verify(path))
    for problem in problems:
        err.print(f"[bold red]mismatch[/]: {problem}")
    if problems:
        raise typer.Exit(3)
    out.print(f"{path}: verified")


@app.command()
def audit(
    incident_id: Annotated[
        str | None, typer.Option("--incident", help="only this incident")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="check the journal, the ledger and every published batch"),
    ] = False,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
    outbox: OutboxOption = DEFAULT_OUTBOX,
) -> None:
    """Prints the audit journal; --verify proves the journal, the ledger and the batches: no
    entry edited, deleted or moved (exit 3 naming it; exit 2 if keyed links need the key)."""
    from transforms import journal, proof, warehouse

    def read():
        with warehouse.connect_current(warehouse_path) as con:
            entries = journal.entries(con, incident_id)
            records = proof.gather(con) if verify else None
        # The warehouse is closed before the outbox is read: writers need not wait for that.
        return entries, proof.check(records, journal_key(), outbox) if records else None

    entries, found = _guarded(read)
    for e in entries:
        out.print(
            f"{e.seq:>5}  {e.at:%Y-%m-%dT%H:%M:%SZ}  {e.incident_id or '-'}  {e.run_id or '-'}  "
            f"{e.event:<9}  by {e.actor}  {_compact(e.detail)}".rstrip(),
            markup=False,
        )
    if found is None:
        return
    for problem in found.tampered:
        err.print(f"[bold red]tampered[/]: {escape(problem)}")
    for problem in found.unverified:
        err.print(f"[yellow]unverified[/]: {escape(problem)}")
    if found.tampered:
        raise typer.Exit(3)
    if found.unverified:
        err.print(f"set {KEY_VARIABLE} to check the keyed links")
        raise typer.Exit(2)
    out.print(
        f"verified: journal of {found.journal_entries} entries, ledger of "
        f"{found.ledger_entries} entries, {found.batches_checked} published batch(es) against "
        "their trailers; every chain intact"
    )


@app.command()
def customers(
    incident_id: Annotated[str, typer.Argument(help="the incident, e.g. INC-2025-01-07")],
    segment: Annotated[str | None, typer.Option(help="only this customer segment")] = None,
    status: Annotated[
        str, typer.Option(help="pending (approval), published, excluded or all")
    ] = "all",
    output_format: Annotated[
        str, typer.Option("--format", help="table, csv (spreadsheet-safe) or json")
    ] = "table",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write csv or json here (owner-only file)")
    ] = None,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Lists an incident's affected customers: failed payments, credit and its status.

    One line per customer and currency, ready for a mail merge (csv). Reads the warehouse only.
    """
    from transforms import exports, support

    def read():
        if output_format not in ("table", "csv", "json"):
            raise ConfigError(f"--format: '{output_format}' is not one of table, csv, json")
        if out_file is not None and output_format == "table":
            raise ConfigError("--out: choose --format csv or json for a file")
        with support.connect(warehouse_path) as con:
            return support.customers(con, incident_id, segment=segment, status=status)

    found = _guarded(read)
    run = found.run
    about = (
        f"{run.incident_id}: {len(found.rows):,} customer line(s) from run {run.run_id} "
        f"({run.status}); times in {run.timezone}"
    )
    if run.note:
        about += f"; {run.note}"
    if output_format == "table":
        out.print(about, markup=False)
        _print_rows(found.rows, _CUSTOMER_TABLE)
        return
    if output_format == "csv":
        text = exports.csv_text(support.COLUMNS, found.rows)
    else:
        text = exports.json_text(
            {
                "incident_id": run.incident_id,
                "run_id": run.run_id,
                "run_status": run.status,
                "timezone": run.timezone,
                "note": run.note,
                "customers": found.rows,
            }
        )
    if out_file is None:
        sys.stdout.write(text)
        return
    _guarded(lambda: exports.write_private(out_file, text))
    err.print(about, markup=False)
    err.print(f"wrote {out_file} (readable by you only)", markup=False)


@app.command()
def lookup(
    customer_id: Annotated[
        str | None, typer.Argument(help="the customer, e.g. cus_0001575")
    ] = None,
    txn_id: Annotated[
        str | None, typer.Option("--txn", help="find the customer by a payment")
    ] = None,
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Shows one customer across incidents: failed payments, credits and status, exceptions."""
    from transforms import support

    def read():
        with support.connect(warehouse_path) as con:
            return support.lookup(con, customer_id, txn_id)

    found = _guarded(read)
    if found.txn_id and found.customer_id:
        out.print(
            f"transaction {found.txn_id} belongs to customer {found.customer_id}", markup=False
        )
    elif found.txn_id:
        out.print(f"transaction {found.txn_id}: no customer known for it", markup=False)
    if found.customer:
        person = found.customer
        out.print(
            f"customer {found.customer_id}: {_plain(person['name'])} <{_plain(person['email'])}>, "
            f"{person['country']}, segment {person['segment']}",
            markup=False,
        )
    elif found.customer_id:
        out.print(f"customer {found.customer_id}: not in the customer table", markup=False)
    for story in found.incidents:
        run = story.run
        out.print()
        out.print(f"{run.incident_id}: {_plain(run.title or '')}", markup=False, style="bold")
        note = f"; {run.note}" if run.note else ""
        out.print(
            f"  from run {run.run_id} ({run.status}); times in {run.timezone}{note}", markup=False
        )
        for heading, rows, columns in (
            ("credit", story.credits, _CREDIT_TABLE),
            ("failed payments", story.transactions, _TRANSACTION_TABLE),
            ("exceptions for finance", story.exceptions, _EXCEPTION_TABLE),
        ):
            if rows:
                out.print(f"  {heading}", markup=False)
                _print_rows(rows, columns, indent="    ")


# (heading, row -> cell) per column of the tables support reads.
_CUSTOMER_TABLE = (
    ("customer", lambda r: r["customer_id"]),
    ("name", lambda r: r["name"]),
    ("email", lambda r: r["email"]),
    ("country", lambda r: r["country"]),
    ("segment", lambda r: r["segment"]),
    ("failed", lambda r: r["failed_txn_count"]),
    ("first failure", lambda r: r["first_failure_local"]),
    ("last failure", lambda r: r["last_failure_local"]),
    ("credit", lambda r: _amount(r["credit_amount"], r["currency"])),
    ("status", lambda r: r["status"]),
    ("why", lambda r: r["detail"]),
)
_CREDIT_TABLE = (
    ("credit", lambda r: _amount(r["credit_amount"], r["currency"])),
    ("status", lambda r: r["status"]),
    ("why", lambda r: r["detail"]),
    ("failed payments", lambda r: r["failed_txn_count"]),
)
_TRANSACTION_TABLE = (
    ("payment", lambda r: r["txn_id"]),
    ("first failure", lambda r: r["first_failure_local"]),
    ("last failure", lambda r: r["last_failure_local"]),
    ("error codes", lambda r: r["error_codes"]),
    ("class", lambda r: r["class"]),
    ("credited", lambda r: "yes" if r["credited"] else f"no: {r['reason']}"),
    ("amount", lambda r: _amount(r["amount"], r["currency"])),
)
_EXCEPTION_TABLE = (
    ("exception", lambda r: r["exception"]),
    ("payment", lambda r: r["txn_id"]),
    ("credit owed", lambda r: _amount(r["credit_owed"], r["currency"])),
    ("failed amount", lambda r: _amount(r["failed_amount"], r["currency"])),
    ("detail", lambda r: r["detail"]),
)


def _amount(amount: str | None, currency: str | None) -> str:
    return "" if amount is None else f"{currency} {amount}"


def _print_rows(rows: list[dict[str, Any]], columns, indent: str = "") -> None:
    """Rows as aligned plain text, one line each (fast, and grep finds a customer's line).

    Control characters in the data (a name carrying a terminal escape) are shown as `?`.
    """
    cells = [[_plain(heading) for heading, _ in columns]]
    cells += [[_plain(cell(row)) for _, cell in columns] for row in rows]
    widths = [max(cell_len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        indent + "  ".join(c + " " * (w - cell_len(c)) for c, w in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    lines = [line.rstrip() for line in lines]
    out.file.write("\n".join(lines) + "\n")


def _plain(value: Any) -> str:
    text = "" if value is None else str(value)
    return "".join("?" if unicodedata.category(c)[0] == "C" else c for c in text)


def _compact(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, [], {}))


def _guarded(action, passing: tuple[type[Exception], ...] = ()):
    """Runs `action`, turning our errors into a message and their exit code, and bugs into 1;
    the errors in `passing` are the caller's to report."""
    try:
        return action()
    except passing:
        raise
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
        err.print(f"[bold red]error[/]: {escape(str(error))}")
        raise typer.Exit(error.exit_code) from None
    except Exception as error:  # a bug: say so briefly; CREDITS_DEBUG=1 shows the traceback
        problem = environment_problem(error)
        if problem is not None:  # not a bug: the machine refused (full disk, read-only, ...)
            refused = StorageError(
                f"{problem}. The command stopped there; what it committed before stays "
                "committed (`credits audit` shows it). Free the space or make the folder "
                "writable, then run it again"
            )
            err.print(f"[bold red]error[/]: {escape(str(refused))}")
            raise typer.Exit(refused.exit_code) from None
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
    table = Table(
        title=f"{content['incident']['id']} run {content['run_id']}: {content['verdict']}"
    )
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


def _register_commands() -> None:
    from flows import cli_diff

    app.command("diff")(cli_diff.diff)


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
