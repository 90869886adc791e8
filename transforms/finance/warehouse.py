"""The warehouse: every run's results, the ledger and the audit journal, in a DuckDB file (one
machine, the default) or a PostgreSQL database that several machines share (a `postgresql://`
URL: `pg_store`, which says how). Commands open it with `reader` or `writer` and work on a
DuckDB connection either way; the rest of this docstring is about the DuckDB file.

Schema in `sql/warehouse_schema.sql`; a writer upgrades a warehouse an earlier version made
(`warehouse_schema`: its version, the upgrade once a process). One writer at a
time: every write happens under `write_lock` (a file lock beside the database's resolved path),
so two runs or approvals never interleave. Readers
(support's lists and lookups, the audit) open it read-only and never start Prefect; a reader and
a writer wait for each other to close the file.

A run is loaded as `sealing`: it becomes `pending_approval` (or `rejected`) only when its
manifest is written, under the same lock (`seal_run`), so a run found `sealing` by a holder of
the lock was killed before its manifest: it can never be approved.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import TypeVar

import duckdb

from transforms import commands, db
from transforms.errors import ConfigError, CreditsError, InputError, ProofFailed
from transforms.finance import damage, journal, lock_file, pg_location, rows, run_proof, run_start
from transforms.finance.pg_privileges import Access as Access
from transforms.finance.warehouse_schema import ACTOR as ACTOR
from transforms.finance.warehouse_schema import SCHEMA_VERSION as SCHEMA_VERSION
from transforms.finance.warehouse_schema import is_current, opened
from transforms.finance.warehouse_schema import schema_version as schema_version
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import Run, RunStatus
from transforms.runfolder.summary import RunSummary

LOCK_WAIT_SECONDS = 60.0
EDGE_MARGIN_MINUTES = 30  # run_edge_transactions: how near a window edge a transaction must be


T = TypeVar("T")
Location = Path | str  # a DuckDB file, or a postgresql:// URL


def locate(value: Location) -> Location:
    """A warehouse location as given: a `postgresql://` URL stays a string, anything else is
    the path of a DuckDB file."""
    return value if pg_location.is_url(value) else Path(value)


def shown(location: Location) -> str:
    """The location as messages show it (a URL's password masked)."""
    return pg_location.shown(location) if pg_location.is_url(location) else str(location)


def _pg_store():
    """The PostgreSQL store's module, imported when a URL is first opened: its driver (ADBC,
    which brings pyarrow's datasets and pandas) was a third of a quick command's start on a
    DuckDB file (0.3 of 1.1 CPU s for `credits lookup`)."""
    from transforms.finance import pg_store

    return pg_store


def reachable(location: Location, access: Access = Access.READ) -> None:
    """Refuses at once a PostgreSQL store that cannot be reached, or whose login may not do
    `access` (a DuckDB file is made when first written): a run checks it before it starts
    Prefect, an approval or a decline before it reads anything."""
    if pg_location.is_url(location):
        _pg_store().reachable(str(location), access)


@contextmanager
def writer(
    location: Location, wait_seconds: float | None = None, *, moved_ok: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, as its one writer: a DuckDB file under its write lock, or a
    PostgreSQL store's mirror under the store's writer lock (each commit sent to the server).
    A DuckDB file moved into a PostgreSQL store is refused (`require_not_moved`) unless
    `moved_ok` (its own upgrade, the copy's record of the move)."""
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    location = locate(location)
    if isinstance(location, str):
        with _pg_store().writer(location, wait, WarehouseBusy) as con:
            yield con
        return
    require_duckdb_file(location)  # before its lock file is made beside it
    with write_lock(location, wait), connect(location) as con:
        if not moved_ok:
            require_not_moved(con, location)
        yield con


def require_not_moved_file(location: Location) -> None:
    """`require_not_moved` for a DuckDB file that is there, read-only: what a run checks before
    it starts Prefect (a new file, or a PostgreSQL store, passes)."""
    if pg_location.is_url(location) or not Path(location).is_file():
        return
    require_duckdb_file(Path(location))
    with connect(location, read_only=True) as con:
        if db.run(con, "warehouse_has_journal").fetchall()[0][0]:
            require_not_moved(con, Path(location))


def require_not_moved_at(con: duckdb.DuckDBPyConnection, location: Location) -> None:
    """`require_not_moved` for a reader that refuses as a writer would (`approve --dry-run`
    rehearses an approval): a PostgreSQL store passes."""
    if not pg_location.is_url(location):
        require_not_moved(con, Path(location))


def moved_notice(con: duckdb.DuckDBPyConnection, location: Location) -> str | None:
    """What a reader of a DuckDB file `credits warehouse copy` moved (or began to move) into a
    PostgreSQL store is told: it reads the file as it was then (None: a file never moved, or a
    store)."""
    if pg_location.is_url(location):
        return None
    moved = db.run(con, "journal_moved").fetchall()
    if not moved:
        return None
    to, at, event = moved[0]
    when = f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    what = (
        f"this warehouse was moved to {to} on {when}"
        if event == "moved"
        else f"a copy of this warehouse into {to} started on {when} and was stopped before it "
        "recorded its end"
    )
    return (
        f"{location}: {what} (`credits warehouse copy`): this is the file as it was then; runs "
        f"and approvals since are in the store: give --warehouse {to}"
    )


def require_not_moved(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuses (exit 2) to write a DuckDB warehouse `credits warehouse copy` moved into a
    PostgreSQL store: runs and approvals on both would pay the same credits twice (each with
    its own ledger). It stays readable, for checking."""
    moved = db.run(con, "journal_moved").fetchall()
    if moved and moved[0][2] == "moving":  # a copy killed before it recorded its end
        to, at, _ = moved[0]
        verify = commands.credits(commands.verify_at(to))
        raise ConfigError(
            f"{path}: a copy of this warehouse into {to} started on "
            f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (`credits warehouse copy`) and was stopped "
            "before it recorded its end: the store may hold the copy, committed. Writing here "
            f"as well could pay the same credits twice. If the store holds it (`{verify}`), run "
            "and approve there; if it is empty, run the copy again. The file stays readable, for "
            "checking"
        )
    if moved and moved[0][2] == "moved":
        to, at, _ = moved[0]
        raise ConfigError(
            f"{path}: this warehouse was moved to {to} on {at.astimezone(UTC):%Y-%m-%d %H:%M} "
            "UTC (`credits "
            "warehouse copy`): runs and approvals go there now (CREDITS_WAREHOUSE or "
            "--warehouse); writing here as well could pay the same credits twice. The file "
            "stays readable, for checking"
        )


DUCKDB_MAGIC = b"DUCK"  # a DuckDB file's bytes 8-11


def require_duckdb_file(path: Path) -> None:
    """Refuses (`InputError`) a warehouse path that is a folder or a file DuckDB did not make;
    a path where nothing is yet is fine (a writer makes the warehouse there)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(
            f"{path}: a folder, not a warehouse (a DuckDB file, or a postgresql:// URL)"
        )
    if path.is_file() and not path.stat().st_size:
        raise InputError(
            f"{path}: an empty file, not a warehouse; remove it (a writer then makes the "
            "warehouse there) or give the warehouse's DuckDB file or a postgresql:// URL"
        )
    if path.is_file():
        with open(path, "rb") as handle:
            head = handle.read(12)
        if head[8:12] != DUCKDB_MAGIC:
            raise InputError(
                f"{path}: not a DuckDB warehouse (a file of something else); give the "
                "warehouse's DuckDB file or a postgresql:// URL"
            )


def require_existing(location: Location) -> None:
    """Refuses (`InputError`) a DuckDB path where no warehouse is yet: for a command that only
    reads or changes what a run recorded (a mistyped `--warehouse` must not make one). The
    message names the absolute path looked at (a relative one is read from the current folder)."""
    if pg_location.is_url(location) or Path(location).exists():
        return
    raise NoWarehouseYet(Path(location))


class NoWarehouseYet(InputError):
    """No warehouse at the DuckDB path a command that only reads or changes one was given;
    `given_as` is how its user names another (a command's option, `make notebooks`' variable)."""

    def __init__(self, path: Path, given_as: str = "--warehouse PATH (or set CREDITS_WAREHOUSE)"):
        self.path = path
        project = project_above(path)
        super().__init__(
            f"{looked_at(path)}: no warehouse yet; one is at {project / path}: give it as "
            f"{given_as}, or run from {project}"
            if project is not None
            else f"{looked_at(path)}: no warehouse yet; "
            f"`{commands.credits('run INCIDENT_FILE')}` creates it. If the warehouse is "
            f"elsewhere, give it as {given_as}"
        )


def project_above(path: Path) -> Path | None:
    """Where a relative DuckDB path missing here (`data/warehouse.duckdb` from `data/sample`
    or `/tmp`) is: the nearest folder above, else the running venv's project, that has it."""
    if path.is_absolute():
        return None
    here, venv = Path.cwd(), commands.venv_project()
    folders = [*here.parents, *([venv] if venv not in (None, here) else [])]
    return next((folder for folder in folders if (folder / path).is_file()), None)


def looked_at(path: Path) -> str:
    """A DuckDB path as the place a command looked: absolute, and a relative one (the default
    `data/warehouse.duckdb`) said to be read from the current folder."""
    if path.is_absolute():
        return str(path)
    return f"{path.absolute()} ({path}, relative to the current folder)"


TRY_AGAIN = " Try again when it has finished."
"""How a busy warehouse's message ends (both stores'): a seal that gives up says instead that its
run is to be run again (`sealing`)."""


class WarehouseBusy(CreditsError):
    """Another process holds the warehouse's write lock for longer than we may wait (exit 4:
    the machine, not the data or the code, kept us out; try again in a moment)."""

    exit_code = 4


@contextmanager
def write_lock(path: Path, wait_seconds: float | None = None) -> Iterator[None]:
    """Holds the warehouse's exclusive write lock, waiting up to `wait_seconds` for it."""
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    lock_path = Path(path).resolve().with_suffix(".lock")  # a symlinked path shares the lock
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.opened(lock_path, path) as handle:
        _waiting(
            lambda: fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB),
            lambda error: isinstance(error, BlockingIOError),
            wait_seconds,
            f"{path}: another run or approval is writing to the warehouse; waited "
            f"{wait_seconds:.0f} s.{TRY_AGAIN}",
        )
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(
    path: Location, read_only: bool = False, wait_seconds: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Opens the warehouse, waiting up to `wait_seconds` while another process has it open in a
    conflicting mode; a writer creates it, or upgrades its schema, a reader needs it to exist.
    A PostgreSQL store opens read-only here (a snapshot in its mirror); writers use `writer`."""
    if pg_location.is_url(path):
        if not read_only:
            raise ValueError("a PostgreSQL warehouse is written through warehouse.writer")
        return _pg_store().reader(str(path))
    path = Path(path)
    if read_only:
        require_existing(path)
    require_duckdb_file(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    con = _waiting(
        lambda: _open(path, read_only),
        lambda error: isinstance(error, duckdb.IOException) and "lock" in str(error).lower(),
        wait_seconds,
        f"{path}: a run or an approval is writing to the warehouse (or a reader has it open); "
        f"waited {wait_seconds:.0f} s, try again in a moment",
    )
    opened(con, path, read_only)
    return con


def connect_current(path: Location) -> duckdb.DuckDBPyConnection:
    """Opens the warehouse read-only at the current schema: one an earlier version made is
    upgraded first, once (under the write lock), for readers of what versions 2 and 3 changed."""
    con = connect(path, read_only=True)
    if is_current(con):
        return con
    if not pg_location.is_url(path) and not db.run(con, "warehouse_has_journal").fetchall()[0][0]:
        con.close()  # a DuckDB file of something else: a reader never writes the schema into it
        raise InputError(
            f"{path}: a DuckDB file without the warehouse's tables (no `journal`), not a "
            "warehouse; give the warehouse's file or a postgresql:// URL"
        )
    con.close()
    with writer(path, moved_ok=True):
        pass
    return connect(path, read_only=True)


def run_folders(location: Location) -> list[Path]:
    """The folder of every run the warehouse lists, read apart from any snapshot: on a
    PostgreSQL store without copying its tables (`pg_store.run_folders`)."""
    if pg_location.is_url(location):
        return [Path(folder) for folder in _pg_store().run_folders(str(location))]
    with connect_current(location) as con:
        return [Path(folder) for (folder,) in db.run(con, "run_folders").fetchall()]


def record_start(location: Location, run: Run, key: bytes | None) -> None:
    """Journals that a run started, unless its incident is held in another case (`run_start`)."""
    with writer(location) as con:
        run_start.journal_start(con, run, key)


def load_run(con: duckdb.DuckDBPyConnection, run: Run, manifest: Manifest) -> str:
    """Loads one finished run's results (its work database still present) as `sealing`, in a
    single transaction, with a copy of its manifest; `seal_run` decides its status once its
    manifest is written. Returns the copy's text as bound (what `seal_run` journals)."""
    ids = {"run_id": run.run_id}
    incident = manifest.incident
    text = json.dumps(manifest.plain(), sort_keys=True)
    with _work_attached(con, run), db.transaction(con):
        db.run(
            con,
            "wh_load_run",
            **ids,
            incident_id=incident.id,
            incident_title=incident.title,
            timezone=incident.timezone,
            window_start_utc=manifest.window.start_utc,
            window_end_utc=manifest.window.end_utc,
            status=RunStatus.SEALING,
            policy_version=manifest.policy.version,
            policy_sha256=manifest.policy.sha256,
            run_folder=str(run.folder),
            started_at=manifest.started_at,
            finished_at=manifest.finished_at,
            manifest=text,
        )
        db.run(con, "wh_load_evidence", **ids, incident_id=incident.id)
        db.run(con, "wh_load_credits", **ids)
        db.run(con, "wh_load_exceptions", **ids)
        db.run(con, "wh_load_customers", **ids)
        db.run(con, "wh_load_failure_minutes", **ids, incident_id=incident.id)
        db.run(
            con,
            "wh_load_edge_transactions",
            **ids,
            incident_id=incident.id,
            margin_minutes=EDGE_MARGIN_MINUTES,
        )
    return text


@contextmanager
def _work_attached(con: duckdb.DuckDBPyConnection, run: Run) -> Iterator[None]:
    """The run's work database attached as `work` for the block, detached after it."""
    db.run(con, "attach_work", work_db=str(run.work_db))
    try:
        yield
    finally:
        con.execute("detach database if exists work")


def seal_run(
    con: duckdb.DuckDBPyConnection,
    run: Run,
    summary: RunSummary,
    key: bytes | None,
    manifest_text: str,
) -> None:
    """Gives a loaded run whose manifest is written its verdict's status, and journals it with
    the sha256 of the manifest `load_run` bound (`manifest_text`) and the run's folder, which
    `audit --verify` and every approval check the warehouse's against (`run_proof`). Refuses
    (ProofFailed, exit 3) when the copy the warehouse holds is not that manifest."""
    status, sha256 = summary.verdict, run_proof.manifest_sha256(manifest_text)
    loaded = rows.run(con, "run_by_id", run_id=run.run_id)
    if run_proof.manifest_sha256(loaded.manifest) != sha256:
        raise ProofFailed(
            f"run {run.run_id}: not sealed: the manifest the warehouse holds is not the one the "
            "run loaded into it",
            [f"run {run.run_id}: its manifest in the warehouse was changed after it was loaded"],
        )
    with db.transaction(con):
        db.run(con, "runs_seal", run_id=run.run_id, status=status, sealing=RunStatus.SEALING)
        journal.append(
            con,
            "rejected" if status == RunStatus.REJECTED else "validated",
            actor=ACTOR,
            key=key,
            incident_id=run.incident_id,
            run_id=run.run_id,
            detail={
                "verdict": status,
                "totals_minor": summary.totals_minor,
                "blocking": list(summary.blocking),
                "manifest_sha256": sha256,
                "run_folder": str(run.folder),  # as loaded (`run_proof.check_runs`)
            },
        )


def _waiting(
    attempt: Callable[[], T], busy: Callable[[Exception], bool], wait_seconds: float, message: str
) -> T:
    """`attempt()`, tried again every 0.1 s while it fails because another process holds the
    file; `WarehouseBusy(message)` after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return attempt()
        except Exception as error:
            if not busy(error):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(message) from None
            time.sleep(0.1)


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    with damage.named(path):  # its log changed or left beside a replaced file: named, exit 3
        if read_only:
            return duckdb.connect(
                str(path),
                read_only=True,
                config={"autoinstall_known_extensions": False, "TimeZone": "UTC"},
            )
        return db.connect(path)
