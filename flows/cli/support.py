"""Support's commands, read-only: `customers` (an incident's affected customers) and `lookup`
(one customer across incidents)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import app, err, guarded, out, plain, print_lines, terminal_width
from flows.cli.options import WarehouseOption, WideOption, incident_id_given, output_path_given
from flows.settings import WAREHOUSE
from transforms.errors import (
    ConfigError,
)


@app.command()
def customers(
    incident_id: Annotated[
        str,
        typer.Argument(
            metavar="INCIDENT_ID",
            help="the incident, e.g. INC-2025-01-07",
            callback=incident_id_given,
        ),
    ],
    segment: Annotated[str | None, typer.Option(help="only this customer segment")] = None,
    status: Annotated[
        str,
        typer.Option(
            help="pending (approval), published, by_hand (closed account), excluded or all"
        ),
    ] = "all",
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="table, csv (spreadsheet-safe) or json; default: from --out's suffix, else table",
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="write csv or json here (owner-only file)", parser=output_path_given
        ),
    ] = None,
    wide: WideOption = False,
    warehouse_path: WarehouseOption = WAREHOUSE,
) -> None:
    """Lists an incident's affected customers: failed payments, credit and its status.

    One line per customer and currency, ready for a mail merge (csv). Reads the warehouse only.
    """
    from transforms.serving import exports, support, views

    # `CSV`, ` csv`: a format name is read without case or blanks (`xlsx` is still refused)
    output_format = (output_format or "").strip().casefold() or guarded(
        lambda: _format_of(out_file)
    )

    def read():
        if output_format not in ("table", "csv", "json"):
            raise ConfigError(f"--format: '{output_format}' is not one of table, csv, json")
        if out_file is not None and output_format == "table":
            raise ConfigError("--out: choose --format csv or json for a file")
        named = out_file.suffix.lower().lstrip(".") if out_file is not None else ""
        if named in ("csv", "json") and named != output_format:  # a .json file of CSV
            raise ConfigError(
                f"--out {out_file.name} names a .{named} file, --format {output_format} another "
                "format: make them agree"
            )
        with support.connect(warehouse_path) as con:
            return support.customers(con, incident_id, segment=segment, status=status)

    found = guarded(read)
    run = found.run
    about = (
        f"{run.incident_id}: {len(found.rows):,} customer line(s) from run {run.run_id} "
        f"({run.status}); times in {run.timezone}"
    )
    if run.note:
        about += f"; {run.note}"
    if output_format == "table":
        out.print(about, markup=False)
        width = terminal_width()  # COLUMNS wins, as for `credits runs`
        _print_fitted(
            views.lines(views.CUSTOMERS, found.rows, run.timezone, wide=wide, width=width), wide
        )
        return
    if output_format == "csv":
        text = views.customers_csv(found.rows)
    else:
        values = (run.incident_id, run.run_id, run.status, run.timezone, run.note, found.rows)
        text = exports.json_text(dict(zip(views.CUSTOMERS_JSON, values, strict=True)))
    if out_file is None:
        sys.stdout.write(text)
        return
    kind = views.CUSTOMERS_CSV_KIND if output_format == "csv" else views.CUSTOMERS_JSON_KIND
    guarded(lambda: exports.write_private(out_file, text, kind))
    err.print(about, markup=False)
    err.print(f"wrote {out_file} (readable by you only)", markup=False)


@app.command()
def lookup(
    customer_id: Annotated[
        str | None,
        typer.Argument(
            metavar="CUSTOMER_ID",
            help="the customer's id (e.g. cus_0000012), e-mail address, a payment's id or "
            "the customer's name",
        ),
    ] = None,
    txn_id: Annotated[
        str | None, typer.Option("--txn", help="find the customer by a payment")
    ] = None,
    wide: WideOption = False,
    warehouse_path: WarehouseOption = WAREHOUSE,
) -> None:
    """Shows one customer across incidents: failed payments, credits and status, exceptions.

    Found by the customer's id, e-mail address (whatever its case), one of their payments' ids
    or their name (without case or accents; several customers it matches are listed, exit 2),
    as the support page's search box does; blanks around what was pasted are ignored."""
    from transforms.serving import support, views

    def read():
        with support.connect(warehouse_path) as con:
            if txn_id is None and customer_id is not None:
                return support.search(con, customer_id)
            if customer_id is None and txn_id is not None:
                return support.lookup_payment(con, txn_id)
            return support.lookup(con, customer_id, txn_id)

    found = guarded(read)
    if found.by_name:
        out.print(
            f"name '{plain(found.by_name)}' matches one customer: {found.customer_id}",
            markup=False,
        )
    if found.txn_id and found.customer_id:
        out.print(
            f"transaction {found.txn_id} belongs to customer {found.customer_id}", markup=False
        )
    elif found.txn_id:
        out.print(f"transaction {found.txn_id}: no customer known for it", markup=False)
    if found.customer:
        person = found.customer
        out.print(
            f"customer {found.customer_id}: {plain(person['name'])} <{plain(person['email'])}>, "
            f"{person['country']}, segment {person['segment']}",
            markup=False,
        )
    elif found.customer_id:
        out.print(f"customer {found.customer_id}: not in the customer table", markup=False)
    cut = False  # a cell cut to fit, in any table
    for story in found.incidents:
        run = story.run
        out.print()
        out.print(f"{run.incident_id}: {plain(run.title or '')}", markup=False, style="bold")
        note = f"; {run.note}" if run.note else ""
        out.print(
            f"  from run {run.run_id} ({run.status}); times in {run.timezone}{note}", markup=False
        )
        paid_by = f" (from run {', '.join(story.paid_by)}, which paid them)"
        for heading, rows, columns in (
            ("credit", story.credits, views.CREDITS),
            (
                "failed payments" + (paid_by if story.paid_by else ""),
                story.transactions,
                views.TRANSACTIONS,
            ),
            ("for finance", story.exceptions, views.EXCEPTIONS),
        ):
            if rows:
                out.print(f"  {heading}", markup=False)
                lines = views.lines(
                    columns, rows, run.timezone, wide=wide, indent="    ", width=terminal_width()
                )
                cut = _print_fitted(lines, wide, hint=False) or cut
    for waiting in found.unanswered:
        out.print()
        out.print(
            f"{waiting.incident_id}: no answer yet ({waiting.why}): whether it concerns this "
            "customer is not known yet",
            markup=False,
        )
    if cut:
        _cut_hint()


def _print_fitted(lines: list[str], wide: bool, hint: bool = True) -> bool:
    """Prints a table's lines; whether a cell was cut to fit (and, with `hint`, says how to see
    it whole)."""
    from transforms.serving.views import CLIPPED

    print_lines(lines)
    cut = not wide and any(CLIPPED in line for line in lines)
    if cut and hint:
        _cut_hint()
    return cut


def _cut_hint() -> None:
    err.print("(text cut with … to fit: --wide, or a wider COLUMNS, shows it whole)", markup=False)


def _format_of(out_file: Path | None) -> str:
    """The format `--out`'s suffix names (`.csv`, `.json`), when --format is not given."""
    if out_file is None:
        return "table"
    suffix = out_file.suffix.lower().lstrip(".")
    if suffix not in ("csv", "json"):
        raise ConfigError(
            f"--out: cannot tell the format from '{out_file.name}'; add --format csv or json"
        )
    return suffix
