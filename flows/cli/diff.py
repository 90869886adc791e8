"""Finance's look before it approves: `diff` (what a run changes against what is published or
another run), and the diff as `approve` shows it: its summary before publishing, its dry run,
the decreases it asks a decision for. Reads the warehouse only, never starts Prefect."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape

from flows.cli.common import app, err, guarded, out, print_lines, typed
from flows.cli.options import (
    WarehouseOption,
    output_path_given,
    run_id_argument,
    run_id_given,
)
from flows.settings import WAREHOUSE, journal_key
from transforms import commands

if TYPE_CHECKING:  # imported where a diff is made: `--help` and the other commands skip it
    from transforms.finance import diff as diffs

T = TypeVar("T")
SHOWN = 20  # credit lines per change kind (and batch rows) shown before `--all`


class DiffFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def diff(
    run_id: Annotated[str, run_id_argument("the run finance is about to approve")],
    against: Annotated[
        str,
        typer.Option(
            "--against",
            help="'published' (what the incident has been paid) or another run id",
            callback=run_id_given,  # a pasted run folder, as for RUN_ID ('published' stays)
        ),
    ] = "published",  # diffs.PUBLISHED (tests/flows/test_cli.py holds them equal)
    output_format: Annotated[
        DiffFormat, typer.Option("--format", help="table, csv (spreadsheet-safe) or json")
    ] = DiffFormat.table,
    every_line: Annotated[bool, typer.Option("--all", help="every line, not the first 20")] = False,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="write every line to this file for a spreadsheet (owner-only)",
            parser=output_path_given,
        ),
    ] = None,
    warehouse_path: WarehouseOption = WAREHOUSE,
) -> None:
    """Shows what a run changes against what is published (or another run): a summary (lines
    and totals per change and currency, the reasons ranked), then the first 20 credit lines of
    each change with their reasons; --all every line, --csv FILE every line for a spreadsheet."""
    from transforms.finance import diff as diffs
    from transforms.finance import warehouse
    from transforms.serving import exports

    def read() -> tuple[diffs.Diff, str | None]:
        with warehouse.connect_current(warehouse_path) as con:
            return diffs.compute(con, run_id, against), warehouse.moved_notice(con, warehouse_path)

    kind = exports.Kind("`credits diff` CSV", diffs.COLUMNS)
    if csv_file is not None:  # before the diff is printed, not after
        guarded(lambda: exports.require_target(csv_file, kind, "--csv"))
    found, moved = guarded(read)
    if moved is not None:
        err.print(f"[yellow]note[/]: {escape(moved)}")
    if output_format is DiffFormat.csv:
        sys.stdout.write(_csv(found))
    elif output_format is DiffFormat.json:
        sys.stdout.write(exports.json_text(found.document()))
    else:
        shown = typed(f"diff {run_id}", warehouse_path)
        print_diff(found, lines=csv_file is None, every=every_line, more=shown, diff=shown)
    if csv_file is not None:
        guarded(lambda: exports.write_private(csv_file, _csv(found), kind, "--csv"))
        err.print(f"{len(found.lines):,} line(s) written to {csv_file}", markup=False)


def _csv(found: diffs.Diff) -> str:
    from transforms.finance import diff as diffs
    from transforms.serving import exports

    return exports.csv_text(diffs.COLUMNS, [line.row() for line in found.lines])


def print_diff(
    found: diffs.Diff,
    *,
    lines: bool = True,
    every: bool = False,
    more: str = "",
    diff: str = "",
) -> None:
    """The diff for people: its summary, then (with `lines`) the first `SHOWN` changed credits
    of each change kind and why (`every`: all of them), then how to see the rest (`more`: the
    command that showed this, `diff`: `credits diff` of the run, each as typed: `typed`)."""
    from transforms.finance import diff as diffs
    from transforms.finance import diff_text

    for text in diff_text.summary(found):
        out.print(text, markup=False)
    if not lines or not found.lines:
        return
    left_out = 0
    for change in diffs.CHANGES:
        of_kind = [line for line in found.lines if line.change == change]
        if not of_kind:
            continue
        shown = of_kind if every else of_kind[:SHOWN]
        left_out += len(of_kind) - len(shown)
        out.print()
        count = f"{len(of_kind):,}" if every else f"first {len(shown):,} of {len(of_kind):,}"
        out.print(f"{change} ({count}):", markup=False)
        for line in shown:
            _print_line(line)
    if left_out:
        out.print()
        out.print(
            f"{left_out:,} more line(s) not shown. `{more} --all` prints every line; "
            f"`{diff or commands.credits(f'diff {found.run_id}')} --csv FILE` writes every line to "
            "FILE for a "
            "spreadsheet.",
            markup=False,
        )


def _print_line(line: diffs.Line) -> None:
    from transforms.finance import diff as diffs

    out.print(
        f"{line.customer_id}  {line.change}: {_money(line.before_minor, line.currency)} -> "
        f"{_money(line.after_minor, line.currency)} "
        f"({diffs.signed(line.difference_minor, line.currency)})",
        markup=False,
    )
    for reason in line.reasons:
        out.print(f"    because {reason}", markup=False)


def print_decreases(found: diffs.Diff, limit: int | None = None) -> None:
    """The decreases a batch would carry, one line each (the first `limit`)."""
    for line in found.decreases[:limit]:
        out.print(f"  decrease: {line.describe()}", markup=False)
    if limit is not None and len(found.decreases) > limit:
        out.print(f"  and {len(found.decreases) - limit:,} more decrease(s)", markup=False)


def approving(action: Callable[[], T], run_id: str, warehouse_path: str) -> T:
    """`guarded(action)` for an approval: decreases not accepted are listed, then exit 2."""
    from transforms.finance import diff as diffs

    try:
        return guarded(action, passing=(diffs.DecreasesNeedDecision,))
    except diffs.DecreasesNeedDecision as refused:
        for line in refused.done:  # a batch a stopped approval left, finished first
            err.print(f"[yellow]note[/]: {escape(line)}")
        print_decreases(refused.diff)
        said = (
            f"run {run_id}'s batch would carry {len(refused.diff.decreases)} decrease(s) (listed "
            "above; never paid back). Nothing was published. To publish it, approve again with "
            f"--accept-decreases (journaled); `{typed(f'diff {run_id}', warehouse_path)}` shows "
            "every change"
        )
        err.print(f"[bold red]stopped[/]: {escape(said)}")
        raise typer.Exit(refused.exit_code) from None


def dry_run(
    run_id: str,
    warehouse_path: Path,
    outbox: Path,
    *,
    force_superseded: bool = False,
    accept_decreases: bool = False,
    every: bool = False,
) -> None:
    """`credits approve --dry-run`: the batch approval would publish, and the diff (the first
    `SHOWN` rows of each table and change, `every`: all); exits as the approval would (2 when
    it would stop: superseded, decreases not accepted)."""
    from transforms import money
    from transforms.finance import diff as diffs
    from transforms.finance import review

    found = guarded(
        lambda: review.preview(
            warehouse_path,
            run_id,
            key=journal_key(),
            outbox=outbox,
            against=diffs.PUBLISHED,
            force_superseded=force_superseded,
            accept_decreases=accept_decreases,
        )
    )
    out.print(f"dry run: nothing is written. Approving run {run_id} now would publish:")
    if found.batch_id is None:
        out.print("  nothing new to pay or report: no batch", markup=False)
    else:
        totals = ", ".join(money.display(v, c) for c, v in found.totals_minor.items())
        out.print(
            f"  batch {found.batch_id}: {len(found.payments):,} payment(s) {totals}".rstrip(),
            markup=False,
        )
        more = typed(f"approve {run_id} --dry-run", warehouse_path, outbox)
        if found.payments:
            _print_table(_BATCH_PREVIEW, found.payments, every, more)
        if found.decreases:
            out.print(f"  and {len(found.decreases)} decrease(s), never paid back:", markup=False)
            print_decreases(found.diff, None if every else SHOWN)
        if found.pay_by_hand:
            out.print("  and to pay by hand (closed accounts):", markup=False)
            _print_table(_PAY_BY_HAND, found.pay_by_hand, every, more)
    for text in found.notes:
        out.print(f"note: {text}", markup=False)
    out.print()
    more = typed(f"approve {run_id} --dry-run", warehouse_path, outbox)
    print_diff(found.diff, every=every, more=more, diff=typed(f"diff {run_id}", warehouse_path))
    if found.refusals:
        for text in found.refusals:
            err.print(f"[bold red]would stop[/]: {escape(text)}")
        err.print(
            f"dry run: approving run {run_id} now would stop there and publish nothing (exit 2)"
        )
        raise typer.Exit(2)


def _print_table(columns, rows, every: bool, more: str) -> None:
    from transforms.serving import views

    cells = [views.Column(heading, lambda r, z, cell=cell: cell(r)) for heading, cell in columns]
    shown = list(rows) if every else list(rows)[:SHOWN]
    print_lines(views.lines(cells, shown, "UTC", wide=True, indent="    "))
    if len(shown) < len(rows):
        out.print(f"    and {len(rows) - len(shown):,} more (`{more} --all`)", markup=False)


def _money(amount_minor: int, currency: str) -> str:
    from transforms import money

    return money.display(amount_minor, currency)


# (heading, row -> cell) of the dry run's tables.
_BATCH_PREVIEW = (
    ("entry", lambda r: r["entry_id"]),
    ("customer", lambda r: r["customer_id"]),
    ("amount", lambda r: _money(r["amount_minor"], r["currency"])),
    ("kind", lambda r: r["entry_kind"]),
)
_PAY_BY_HAND = (
    ("customer", lambda r: r["customer_id"]),
    ("owed", lambda r: _money(r["credit_owed_minor"], r["currency"])),
    ("already paid", lambda r: _money(r["paid_minor"], r["currency"])),
    ("listed before", lambda r: _money(r["listed_before_minor"], r["currency"])),
    ("to pay", lambda r: _money(r["to_pay_minor"], r["currency"])),
)
