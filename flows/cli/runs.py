"""`credits runs`: the runs in the warehouse, told apart, with their status as it is now.
Read-only, no Prefect."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import DEFAULT_WAREHOUSE, WarehouseOption, app, guarded, out, print_rows


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
    warehouse_path: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Lists the runs, newest first, with their status as it is now.

    Window and start in the incident's time zone, finance's decision and the batch, totals, and
    the incident file with its sha256 (a run's own pages show its status as it ended).
    """
    from transforms.serving import run_listing, support

    def read():
        with support.connect(warehouse_path) as con:
            return run_listing.runs(con, incident_id, tuple(statuses or ()))

    found = guarded(read)
    if not found:
        out.print("no run matches", markup=False)
        return
    print_rows([vars(run) for run in found], _RUN_TABLE)


# (heading, row -> cell) per column.
_RUN_TABLE = (
    ("run", lambda r: r["run_id"]),
    ("incident", lambda r: r["incident_id"]),
    ("window", lambda r: r["window_local"]),
    ("started", lambda r: r["started_local"]),
    ("status", lambda r: r["status"]),
    ("decision", lambda r: r["decision"]),
    ("batch", lambda r: r["batch_id"]),
    ("totals", lambda r: ", ".join(r["totals"])),
    ("incident file", lambda r: r["incident_file"]),
    ("sha256", lambda r: r["incident_file_sha256"]),
)
