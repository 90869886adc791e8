"""`credits runs`: the runs in the warehouse, told apart, with their status as it is now.
Read-only, no Prefect."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from flows.cli.common import app, err, guarded, out, print_lines, terminal_width
from flows.cli.options import WarehouseOption, WideOption, incident_id_given
from flows.settings import WAREHOUSE


@app.command("runs")
def list_runs(
    incident_id: Annotated[
        str | None,
        typer.Option("--incident", help="only this incident's runs", callback=incident_id_given),
    ] = None,
    statuses: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="only runs in this status (repeatable): sealing, pending_approval, rejected, "
            "declined, published",
        ),
    ] = None,
    warehouse_path: WarehouseOption = WAREHOUSE,
    wide: WideOption = False,
) -> None:
    """Lists the runs, newest first, with their status as it is now.

    Window in the incident's time zone, status, finance's decision and totals, fitted to the
    terminal (COLUMNS wins): the incident, then the window, are left out first; the decision
    and the amounts are never cut. `--wide` shows every column whole and adds the start, the
    batch and the incident file with its sha256 (a run's own pages show its status as it ended).
    """
    from transforms.serving import run_listing, support, views

    def read():
        with support.connect(warehouse_path) as con:
            found = run_listing.runs(con, incident_id, tuple(statuses or ()))
            # a status asked for: only runs of that status; a run never loaded has none
            return found, [] if statuses else run_listing.unloaded(con, incident_id)

    found, unloaded = guarded(read)
    for run in unloaded:
        err.print(
            f"[yellow]note[/]: {escape(f'run {run.run_id} ({run.incident_id})')} started "
            f"{run.started_utc} and is not in the warehouse: it is still running, or was stopped "
            "before its results were loaded (then it can never be approved: run the incident "
            "again)"
        )
    if not found:
        out.print("no run matches", markup=False)
        return
    rows = [{**vars(run), "totals": views.ITEMS.join(run.totals)} for run in found]
    width = terminal_width()
    table = views.layout(_columns(), rows, "UTC", wide=wide, width=width)
    print_lines(table.lines)
    if table.left_out:
        err.print(
            f"{', '.join(table.left_out)}: left out to fit {width} columns (a wider terminal, "
            "COLUMNS=200 or --wide shows them)",
            markup=False,
        )


def _columns():
    """The table's columns: times come formatted in each run's own zone; the start, the batch,
    the incident file and its hash only with `--wide`; the incident, then the window, left out
    when the rest does not fit; the totals show their leading amounts, each whole."""
    from transforms.serving.views import Column

    def field(key):
        return lambda r, _: r[key]

    return (
        Column("run", field("run_id")),
        Column("incident", field("incident_id"), drop=1),
        Column("window", field("window_local"), drop=2),
        Column("started", field("started_local"), wide=True),
        Column("status", field("status")),
        Column("decision", field("decision")),
        Column("batch", field("batch_id"), wide=True),
        Column("totals", field("totals"), items=True),
        Column("incident file", field("incident_file"), wide=True),
        Column("sha256", field("incident_file_sha256"), wide=True),
    )
