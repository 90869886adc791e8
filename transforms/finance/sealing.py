"""Sealing a run: loaded into the warehouse, the manifest written last, and only then is the run
decidable and the scratch folder removed, all under the warehouse's write lock.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack

import duckdb

from transforms.errors import StorageError
from transforms.finance import approval, pg_location, publication, rows, warehouse
from transforms.runfolder import manifest, runs
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import Run
from transforms.runfolder.summary import NothingNew, RunSummary

# A seal comes after the whole run's work, lost if it gives up: it outwaits a long approval
# (a 100k-line one takes seconds, a queue of them a minute) where a command waits a minute.
SEAL_WAIT_SECONDS = 600.0


def seal(
    run: Run, content: Manifest, location: warehouse.Location, key: bytes | None
) -> RunSummary:
    """Loads the run into the warehouse (status sealing), writes the manifest (the last file of
    a run), then gives the run its verdict's status (pending_approval or rejected) and journals
    it, all under the warehouse's write lock; the scratch folder goes once it is sealed. A run
    killed before its manifest stays `sealing`: never approvable, never answering for its
    incident. Returns what callers read of the run, with whether approving it would publish
    nothing new, or is refused as superseded (what it says last: hints, looked up once the run
    is sealed)."""
    summary = manifest.summary(content, run)
    with ExitStack() as held:
        con = _written_to(held, location, run, content)
        loaded = warehouse.load_run(con, run, content)
        manifest.write(content, run.folder / "manifest.json")
        warehouse.seal_run(con, run, summary, key, loaded)
        runs.finish(run)
        if summary.verdict == runs.RunStatus.PENDING_APPROVAL:
            summary = dataclasses.replace(
                summary,
                nothing_new=_nothing_new(con, run),
                superseded_by=superseded_by(con, run.run_id),
            )
    return summary


def _written_to(
    held: ExitStack, location: warehouse.Location, run: Run, content: Manifest
) -> duckdb.DuckDBPyConnection:
    """The warehouse's writer for the seal, held by `held`, waiting up to `SEAL_WAIT_SECONDS`;
    a seal that gives up, or whose store refuses the connection (a database renamed, its
    connections all taken while the run worked), says what is left of the run and what to do:
    running the command again makes another run."""
    try:
        return held.enter_context(warehouse.writer(location, SEAL_WAIT_SECONDS))
    except warehouse.WarehouseBusy as busy:
        waited = str(busy).removesuffix(warehouse.TRY_AGAIN)
        raise warehouse.WarehouseBusy(
            f"{waited} {_not_sealed(run)}; once that writer has finished, run the incident "
            f"again (`{approval.rerun(content)}`)"
        ) from None
    except pg_location.Unreachable as refused:
        raise StorageError(
            f"{refused.refused}. {_not_sealed(run)}; {refused.advice} (the incident's run: "
            f"`{approval.rerun(content)}`)"
        ) from None


def _not_sealed(run: Run) -> str:
    return f"Run {run.run_id} is not sealed: nothing of it was loaded, it can never be approved"


def superseded_by(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The incident's newest published run when `run_id` started before it (another machine
    ran the incident after this run started, and finance approved that run while this one ran):
    approving this one is refused as superseded. None when not, or when the store fails to
    answer (a hint never fails a run already sealed)."""
    try:
        run = rows.run(con, "run_by_id", run_id=run_id)
        newer = approval.newer_published(con, run) if run is not None else None
    except duckdb.Error:
        return None
    return newer.run_id if newer is not None else None


def _nothing_new(con: duckdb.DuckDBPyConnection, run: Run) -> NothingNew | None:
    """`publication.nothing_new` for a sealed run; None (the run says it waits for approval, as it
    does) when the store fails to answer: a hint never fails a run already sealed."""
    try:
        return publication.nothing_new(con, run.run_id, run.incident_id)
    except duckdb.Error:
        return None
