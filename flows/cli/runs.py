"""`credits runs`: the runs in the warehouse, told apart, with their status as it is now.
Read-only, no Prefect."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import WarehouseOption, app, guarded, out, print_lines
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
) -> None:
    """Lists the runs, newest first, with their status as it is now.

    Window and start in the incident's time zone, finance's decision and the batch, totals, and
    the incident file with its sha256 (a run's own pages show its status as it ended).
    """
    from transforms.serving import run_listing, support, views

    def read():
        with support.connect(warehouse_path) as con:
            return run_listing.runs(con, incident_id, tuple(statuses or ()))

    found = guarded(read)
    if not found:
        out.print("no run matches", markup=False)
        return
    # Every column, whole: times come formatted in each run's own zone.
    columns = [views.Column(heading, lambda r, _, key=key: r[key]) for heading, key in _COLUMNS]
    rows = [{**vars(run), "totals": ", ".join(run.totals)} for run in found]
    print_lines(views.lines(columns, rows, "UTC", wide=True))


# (heading, field of run_listing.ListedRun) per column.
_COLUMNS = (
    ("run", "run_id"),
    ("incident", "incident_id"),
    ("window", "window_local"),
    ("started", "started_local"),
    ("status", "status"),
    ("decision", "decision"),
    ("batch", "batch_id"),
    ("totals", "totals"),
    ("incident file", "incident_file"),
    ("sha256", "incident_file_sha256"),
)
