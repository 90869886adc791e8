"""`credits runs`: the runs in the warehouse, told apart, with their status as it is now.
Read-only, no Prefect."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import WarehouseOption, WideOption, app, guarded, out, print_lines
from flows.settings import WAREHOUSE


@app.command("runs")
def list_runs(
    incident_id: Annotated[
        str | None, typer.Option("--incident", help="only this incident's runs")
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

    Window in the incident's time zone, status, finance's decision and totals; `--wide` adds
    the start, the batch and the incident file with its sha256 (a run's own pages show its
    status as it ended).
    """
    from transforms.serving import run_listing, support, views

    def read():
        with support.connect(warehouse_path) as con:
            return run_listing.runs(con, incident_id, tuple(statuses or ()))

    found = guarded(read)
    if not found:
        out.print("no run matches", markup=False)
        return
    rows = [{**vars(run), "totals": ", ".join(run.totals)} for run in found]
    print_lines(views.lines(_columns(), rows, "UTC", wide=wide))


def _columns():
    """The table's columns: times come formatted in each run's own zone; what does not fit 120
    cells (the start, the batch, the incident file and its hash) is shown with `--wide`."""
    from transforms.serving.views import Column

    def field(key):
        return lambda r, _: r[key]

    return (
        Column("run", field("run_id")),
        Column("incident", field("incident_id")),
        Column("window", field("window_local")),
        Column("started", field("started_local"), wide=True),
        Column("status", field("status")),
        Column("decision", field("decision"), flexible=True),
        Column("batch", field("batch_id"), wide=True),
        Column("totals", field("totals"), flexible=True),
        Column("incident file", field("incident_file"), wide=True),
        Column("sha256", field("incident_file_sha256"), wide=True),
    )
