"""A run's start in the warehouse: its `started` entry in the journal, once its incident's id is
known not to be one the warehouse holds spelled in another case. `inc-t` beside INC-T would be a
second incident to the warehouse, but finance reads them as one, and on a case-insensitive file
system (macOS, a Windows share) both are the run folder `incident=INC-T`. Checked under the
writer's lock, as the entry is written: two runs starting at once cannot both pass."""

from __future__ import annotations

from pathlib import Path

import duckdb

from transforms import db
from transforms.errors import InputError
from transforms.finance import journal, pg_location
from transforms.finance.warehouse_schema import ACTOR
from transforms.runfolder.runs import Run


def journal_start(con: duckdb.DuckDBPyConnection, run: Run, key: bytes | None) -> None:
    """Journals that `run` started; `InputError` (exit 2), nothing written, when the warehouse
    holds its incident under an id that differs only in case (`require_one_spelling`)."""
    require_one_spelling(con, run.incident_id)
    journal.append(
        con,
        "started",
        actor=ACTOR,
        key=key,
        incident_id=run.incident_id,
        run_id=run.run_id,
        at=run.started_at,
    )


def require_one_spelling_at(location: Path | str, incident_id: str) -> None:
    """`require_one_spelling` before the run's folder is made (`incident=<id>`), read apart
    from any writer: a warehouse not made yet holds no incident."""
    from transforms.finance import warehouse  # which journals the start through this module

    if pg_location.is_url(location):
        from transforms.finance import pg_store  # its driver only for a URL (warehouse._pg_store)

        held = pg_store.column(str(location), "runs_incident_ids")
    elif Path(location).is_file():
        with warehouse.connect_current(location) as con:
            held = [row[0] for row in db.run(con, "runs_incident_ids").fetchall()]
    else:
        return
    refuse_another_spelling(held, incident_id)


def require_one_spelling(con: duckdb.DuckDBPyConnection, incident_id: str) -> None:
    """Refuses an incident id that differs only in case from one the warehouse holds a run of
    (loaded, or only started), naming the held one; the id exactly as held passes."""
    held = [row[0] for row in db.run(con, "runs_incident_ids").fetchall()]
    refuse_another_spelling(held, incident_id)


def refuse_another_spelling(held: list[str], incident_id: str) -> None:
    """`InputError` (exit 2) when `held` has `incident_id` in another case only."""
    other = [h for h in held if h != incident_id and h.casefold() == incident_id.casefold()]
    if other:
        raise InputError(
            f"incident {incident_id}: the warehouse holds {other[0]}, an id that differs only in "
            "case: finance reads them as one incident, and on a case-insensitive file system "
            f"(macOS, a Windows share) both are the run folder incident={other[0]}. Set "
            f'id = "{other[0]}" in the incident file to run that incident again, or give this '
            "one an id of its own; nothing was run"
        )
