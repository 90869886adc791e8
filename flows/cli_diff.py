"""`credits diff`: what a run would change before finance approves it; and the diff as
`credits approve` shows it (its summary, its dry run, the decreases it asks a decision for).
Reads the warehouse only, never starts Prefect."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from transforms.finance import diff as diffs

out = Console(highlight=False, soft_wrap=True)


class DiffFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def diff(
    run_id: Annotated[str, typer.Argument(help="the run finance is about to approve")],
    against: Annotated[
        str,
        typer.Option(
            "--against", help="'published' (what the incident has been paid) or another run id"
        ),
    ] = diffs.PUBLISHED,
    output_format: Annotated[DiffFormat, typer.Option("--format", help="table, csv or json")] = (
        DiffFormat.table
    ),
    warehouse_path: Annotated[
        Path, typer.Option("--warehouse", help="the warehouse DuckDB file")
    ] = Path("data/warehouse.duckdb"),
) -> None:
    """Shows what a run changes against what is published (or another run): credits added,
    removed, increased and decreased, each with its reason, and totals per currency."""
    from flows.cli import _guarded
    from transforms import exports, warehouse

    def read() -> diffs.Diff:
        with warehouse.connect(warehouse_path, read_only=True) as con:
            return diffs.compute(con, run_id, against)

    found = _guarded(read)
    if output_format is DiffFormat.csv:
        sys.stdout.write(exports.csv_text(diffs.COLUMNS, [line.row() for line in found.lines]))
    elif output_format is DiffFormat.json:
        sys.stdout.write(exports.json_text(found.document()))
    else:
        print_diff(found)


def print_diff(found: diffs.Diff, *, lines: bool = True) -> None:
    """The diff for people: its summary, then (with `lines`) one row per changed credit."""
    for text in diffs.summary(found):
        out.print(text, markup=False)
    if not lines or not found.lines:
        return
    out.print()
    for line in found.lines:
        row = line.row()
        out.print(
            f"{line.customer_id}  {line.currency}  {line.change}: {row['before']} -> "
            f"{row['after']} ({'+' if line.difference_minor >= 0 else ''}{row['difference']})",
            markup=False,
        )
        for reason in line.reasons:
            out.print(f"    because {reason}", markup=False)


def print_decreases(found: diffs.Diff) -> None:
    """The decreases a batch would carry, one line each."""
    for line in found.decreases:
        out.print(f"  decrease: {diffs.describe(line)}", markup=False)
