"""The warehouse: a DuckDB file holding every run's results, the ledger and the audit journal.

Schema in `sql/warehouse_schema.sql`. One writer at a time: every write happens under
`write_lock` (a file lock beside the database), so two runs or approvals never interleave.
Readers (support's lists and lookups) open it read-only and never start Prefect.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from transforms import db, journal
from transforms.errors import CreditsError, InputError
from transforms.runs import Run

DEFAULT_PATH = Path("data/warehouse.duckdb")
ACTOR = "pipeline"
LOCK_WAIT_SECONDS = 60.0
EDGE_MARGIN_MINUTES = 30  # run_edge_transactions: how near a window edge a transaction must be


class WarehouseBusy(CreditsError):
    """Another process holds the warehouse's write lock for longer than we may wait (exit 1)."""


@contextmanager
def write_lock(path: Path, wait_seconds: float | None = None) -> Iterator[None]:
    """Holds the warehouse's exclusive write lock, waiting up to `wait_seconds` for it."""
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    lock_path = Path(path).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"{path}: another run or approval is writing to the warehouse; "
                        f"waited {wait_seconds:.0f} s. Try again when it has finished."
                    ) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Opens the warehouse; a writer creates it and its schema, a reader needs it to exist."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise InputError(f"{path}: no warehouse yet; `credits run` creates it")
        return duckdb.connect(
            str(path),
            read_only=True,
            config={"autoinstall_known_extensions": False, "TimeZone": "UTC"},
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    con = db.connect(path)
    con.execute(db.statement("warehouse_schema"))
    if db.run(con, "warehouse_keyed_run_tables").fetchall():
        _unkey_run_tables(con)
    return con


def _unkey_run_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuilds the per-run tables of a warehouse made when they had keys, keeping every row.

    Their keys refused a rejected run's rows (a duplicated txn_id); see warehouse_schema.sql.
    Writers hold the write lock; readers never migrate (they read either form alike).
    """
    con.begin()
    try:
        con.execute(db.statement("warehouse_unkey_rename"))
        con.execute(db.statement("warehouse_schema"))
        con.execute(db.statement("warehouse_unkey_copy"))
        con.commit()
    except BaseException:
        con.rollback()
        raise


def record_start(path: Path, run: Run) -> None:
    """Journals that a run started."""
    with write_lock(path), connect(path) as con:
        journal.append(
            con,
            "started",
            actor=ACTOR,
            incident_id=run.incident_id,
            run_id=run.run_id,
            at=run.started_at,
        )


def record_run(path: Path, run: Run, manifest: dict[str, Any]) -> None:
    """Loads a finished run (its work database still present) and journals the gate's verdict."""
    with write_lock(path), connect(path) as con:
        load_run(con, run, manifest)


def load_run(con: duckdb.DuckDBPyConnection, run: Run, manifest: dict[str, Any]) -> None:
    """Loads one run's results and journals its verdict, in a single transaction."""
    ids = {"run_id": run.run_id}
    incident = manifest["incident"]
    policy = manifest["policy"]
    status = manifest["verdict"]
    db.run(con, "attach_work", work_db=str(run.work_db))
    con.begin()
    try:
        db.run(
            con,
            "wh_load_run",
            **ids,
            incident_id=incident["id"],
            incident_title=incident["title"],
            timezone=incident["timezone"],
            window_start_utc=manifest["window"]["start_utc"],
            window_end_utc=manifest["window"]["end_utc"],
            status=status,
            policy_version=policy["version"],
            policy_sha256=policy["sha256"],
            run_folder=str(run.folder),
            started_at=manifest["started_at"],
            finished_at=manifest["finished_at"],
            manifest=json.dumps(manifest, sort_keys=True),
        )
        db.run(con, "wh_load_evidence", **ids, incident_id=incident["id"])
        db.run(con, "wh_load_credits", **ids)
        db.run(con, "wh_load_exceptions", **ids)
        db.run(con, "wh_load_customers", **ids)
        db.run(con, "wh_load_failure_minutes", **ids, incident_id=incident["id"])
        db.run(
            con,
            "wh_load_edge_transactions",
            **ids,
            incident_id=incident["id"],
            margin_minutes=EDGE_MARGIN_MINUTES,
        )
        journal.append(
            con,
            "rejected" if status == "rejected" else "validated",
            actor=ACTOR,
            incident_id=incident["id"],
            run_id=run.run_id,
            detail={
                "verdict": status,
                "totals_minor": manifest["totals_minor"],
                "blocking": manifest["validation"]["blocking"],
            },
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.execute("detach database if exists work")
