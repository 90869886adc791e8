"""`credits sample`, `credits run` and `credits serve-prefect`: the commands that make data, run
the pipeline, and keep a Prefect server for the runs. Only these two start Prefect."""

from __future__ import annotations

import enum
import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from flows import long_lived, server, stopping
from flows.cli.common import (
    STOP_SIGNALS,
    app,
    err,
    guarded,
    interrupt,
    out,
    print_summary,
    stop_signal,
    typed,
)
from flows.cli.options import (
    IncidentFileArgument,
    VerboseOption,
    WarehouseOption,
    output_path_given,
)
from flows.quiet import quiet_expected_tracebacks
from flows.settings import OUTPUT_DIR, WAREHOUSE, warehouse_parameter
from transforms import commands
from transforms.errors import ENVIRONMENT_ERRNOS, CreditsError, InputError, StorageError

if TYPE_CHECKING:
    from transforms.runfolder.summary import RunSummary

# Prefect's console handler level (its logging.yml); the API handler, for the UI, keeps all.
QUIET_CONSOLE = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
# How often `serve-prefect` looks for a stop signal (`until_interrupted`).
WAKE_SECONDS = 0.5


@app.command()
def sample(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="folder to write the sample into", parser=output_path_given),
    ] = Path("data/sample"),
    scale: Annotated[
        int,
        typer.Option(
            min=1, help="volume multiplier (about 4.6 MB each; more than the disk holds exits 4)"
        ),
    ] = 1,
    seed: Annotated[int, typer.Option(min=0, help="random seed: same seed, same bytes")] = 7,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="first what the generator planted, by kind")
    ] = False,
) -> None:
    """Writes a realistic sample incident (logs, tables, incident file) for 2025-01-07.

    Prints the incident file; with -v, first what the generator planted, by kind.
    """
    from transforms import sample as sample_data

    _refuse_a_file_in_the_way("--out", out_dir, out_dir)
    guarded(lambda: sample_data.require_replaceable(out_dir))
    guarded(lambda: sample_data.require_room(out_dir, scale))
    guarded(lambda: _make_folder("--out", out_dir))
    counts = guarded(lambda: sample_data.generate(out_dir, scale=scale, seed=seed))
    if verbose:
        for key, value in counts.items():
            out.print(f"{key:>20}: {value:,}")
    out.print(str((out_dir / "INC-2025-01-07.toml").resolve()), markup=False)


class TaskRunner(enum.StrEnum):
    """Where `credits run` reads the log files."""

    threads = "threads"
    dask = "dask"


@app.command()
def run(
    incident_file: IncidentFileArgument,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="root of the run folders", parser=output_path_given)
    ] = OUTPUT_DIR,
    warehouse_path: WarehouseOption = WAREHOUSE,
    task_runner: Annotated[
        TaskRunner,
        typer.Option(help="where the log files are read: threads here, or a Dask cluster"),
    ] = TaskRunner.threads,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            help="scheduler of a running Dask cluster (tcp://HOST:PORT); without it "
            "--task-runner dask starts a local cluster",
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Runs the pipeline on one incident; prints a line per stage, a summary, the run folder.

    With -v every log line too (the Prefect UI keeps them all either way).

    A run that passes the quality gate waits for finance: `credits approve RUN_ID --by NAME`.
    """
    try:
        # The extensions first (DuckDB, Arrow, NumPy: `db` imports them; pydantic's core Typer
        # imported reading the arguments), while the console's guard, which lets an import
        # finish, is in place: the run's own stop handling raises at once, which aborts an
        # extension's initialisation (nanobind: exit 134). Only a run pays for them here, not
        # every command's start.
        from transforms import db  # noqa: F401

        new_warehouse = _new_warehouse(output_dir, warehouse_path, task_runner, dask_address)
        # Before Prefect is imported: quiet, its console shows warnings and errors only (unless
        # the environment says otherwise); -v shows every line whatever the environment says.
        os.environ[QUIET_CONSOLE] = (
            "NOTSET" if verbose else os.environ.get(QUIET_CONSOLE, "WARNING")
        )
        prefect_home = guarded(long_lived.home)  # before anything reads or writes there
        for pid in server.reap_orphans(prefect_home):
            err.print(f"stopped Prefect's temporary server (pid {pid}) left by a killed run")
        # Prefect's server starts first: it starts while the run checks its inputs and imports.
        with server.prefect_api(prefect_home) as api:
            flow = _prepared(incident_file, warehouse_path, task_runner, dask_address, verbose)

            def run_flow() -> RunSummary:
                from flows import progress  # imports Prefect

                with api.serving(), progress.shown(err):
                    location = warehouse_parameter(warehouse_path)
                    return flow(str(incident_file), str(output_dir), location)

            from transforms.finance.warehouse import shown

            places = f"{output_dir.resolve()} or into the warehouse {shown(warehouse_path)}"
            try:
                summary = guarded(run_flow, where=places)
            except typer.Exit as stopped:  # a refusal, not a bug: its scratch goes with it
                if stopped.exit_code in (2, 3, 4):
                    from transforms.runfolder import runs

                    runs.sweep_mine(output_dir)
                raise
    except stopping.Stopped as stopped:
        err.print(f"[bold red]stopped[/] by {stopped}: {stopping.STOPPED_NOTE}")
        stopping.exit_now(stopped.exit_code)
    except KeyboardInterrupt as stopped:  # a stop before the run's own handling is in place
        name = stop_signal(stopped)
        err.print(f"[bold red]stopped[/] by {name.name} before the run started: nothing was run")
        raise typer.Exit(128 + name) from None
    except CreditsError as error:  # the Prefect API the run was given, before it started
        err.print(f"[bold red]error[/]: {escape(str(error))}")
        raise typer.Exit(error.exit_code) from None
    print_summary(summary)
    if new_warehouse is not None and new_warehouse.exists():
        out.print(new_warehouse_note(new_warehouse), markup=False)
    out.print(next_step(summary, warehouse_path), markup=False)
    out.print(str(summary.run_folder), markup=False)


def new_warehouse_note(made: Path) -> str:
    """What a run that made the warehouse `made` says: a run from another folder finds no
    `data/warehouse.duckdb` there and makes one, which does not see the runs and payments of the
    warehouse finance uses; the project's, when a folder above has it (a run from `data/sample`)."""
    from transforms.finance.warehouse import project_above

    note = (
        f"note: no warehouse was at {made.resolve()}: this run made a new one, which knows no "
        "earlier run or payment"
    )
    project = project_above(made)
    if project is None:
        return f"{note}; if finance keeps another, give it as --warehouse (or CREDITS_WAREHOUSE)"
    return (
        f"{note}; the project's is at {project / made}: run again from {project} (or with "
        f"--warehouse {project / made})"
    )


def _new_warehouse(
    output_dir: Path, warehouse_path: str, task_runner: TaskRunner, dask_address: str | None
) -> Path | None:
    """Exits 2 on options that cannot work (a Dask address without Dask, a file where a folder
    must be); returns the DuckDB warehouse this run will make, if there is none yet."""
    if dask_address and task_runner is not TaskRunner.dask:
        err.print("[bold red]error[/]: --dask-address needs --task-runner dask")
        raise typer.Exit(2)
    from transforms.finance import pg_location

    duckdb_file = None if pg_location.is_url(warehouse_path) else Path(warehouse_path)
    places = [("--output-dir", output_dir, output_dir)]
    if duckdb_file is not None:
        places.append(("--warehouse", duckdb_file, duckdb_file.parent))
    for option, path, folder in places:  # each path, and the folder it must be or go in
        _refuse_a_file_in_the_way(option, path, folder)
    return duckdb_file if duckdb_file is not None and not duckdb_file.exists() else None


def next_step(summary: RunSummary, warehouse_path: str) -> str:
    """What the run waits for, said last before its folder: finance's review and approval; or, when
    approving it would publish no batch (`summary.nothing_new`), that nothing changed since the
    incident's newest batch, as `credits diff` and `approve --dry-run` say; or, when a newer run
    was published while it ran (`summary.superseded_by`), that approving it is refused."""
    command = approve_command(summary.run_id, warehouse_path)
    if summary.superseded_by:
        return (
            f"superseded: run {summary.superseded_by}, started after this one, was approved "
            f"while it ran, so approving run {summary.run_id} is refused (`--force-superseded` "
            "would pay its amounts over the newer run's): run the incident again for a run to "
            "approve"
        )
    if summary.nothing_new is None:
        review = typed(f"diff {shlex.quote(summary.run_id)}", warehouse_path)
        return f"waiting for approval: review it with `{review}`, then: {command}"
    batch = summary.nothing_new.since_batch
    nothing = f"no change since batch {batch}: nothing new to pay" if batch else "nothing to pay"
    beyond = summary.nothing_new.listed_beyond
    if beyond:  # no payment and no decrease, yet more was listed to pay by hand than is owed
        nothing += (
            f", but {beyond:,} closed account(s) listed to pay by hand beyond what the run owes "
            f"(`{typed(f'diff {shlex.quote(summary.run_id)}', warehouse_path)}` names them)"
        )
    return f"{nothing}; approving run {summary.run_id} publishes no batch: {command}"


def approve_command(run_id: str, warehouse_path: str) -> str:
    """The approval as one types it here: this environment's `credits` (`.venv/bin/credits`: it
    is not on PATH unless the venv is activated) and the run's warehouse when it is not the one
    `approve` finds by itself (a URL's password masked)."""
    return typed(f"approve {run_id} --by NAME", warehouse_path)


def _refuse_a_file_in_the_way(option: str, path: Path, folder: Path) -> None:
    """Exits 2 naming `path` (given as `option`) when a file, or a link to nothing, is where
    `folder` (the path itself, or the folder it goes in) or one of its parents must be."""
    in_the_way = _file_in_the_way(folder)
    if in_the_way is not None:
        how = "is" if in_the_way == path else f"goes through {in_the_way}, which is"
        what = "a link to nothing" if not in_the_way.exists() else "a file"
        named = escape(
            f"{option} {path}: {how} {what}, not a folder; give another path, or move it"
        )
        err.print(f"[bold red]error[/]: {named}")
        raise typer.Exit(2)


def _make_folder(option: str, folder: Path) -> None:
    """Makes `folder` and its parents: `StorageError` (exit 4) when the machine refuses (a
    permission, a read-only place), `InputError` (exit 2) when folders cannot be made there at
    all (`/proc`), each naming the folder."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno in ENVIRONMENT_ERRNOS:
            raise StorageError(
                f"{option} {folder}: cannot make this folder ({error.strerror}); give a folder "
                "you can write in"
            ) from None
        raise InputError(
            f"{option} {folder}: no folder can be made there ({error.strerror}); give a folder "
            "you can write in"
        ) from None


def _file_in_the_way(folder: Path) -> Path | None:
    """The first of `folder` and its parents that exists and is not a folder: a run cannot
    make `folder` (None: nothing in the way)."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
        if path.is_symlink():  # a link to nothing: nothing can be made through it
            return path
    return None


def _prepared(
    incident_file: Path,
    warehouse_path: str,
    task_runner: TaskRunner,
    dask_address: str | None,
    verbose: bool,
):
    """The flow, ready to run: the incident file, its inputs and a PostgreSQL warehouse's
    reach checked (before Prefect is imported: fast and clear), the flow imported, and the
    heavy imports of the quality gate and the report started in a thread: they overlap
    Prefect's start-up instead of the gate."""
    from transforms.finance import warehouse
    from transforms.ingest import incident, logs, tables
    from transforms.quality import gx_run
    from transforms.runfolder import report

    def preflight() -> None:
        loaded = incident.load(incident_file)
        logs.of_incident(loaded)
        tables.check(loaded)
        warehouse.reachable(warehouse_path, warehouse.Access.RUN)
        warehouse.require_not_moved_file(warehouse_path)
        if dask_address:  # its address, its workers and their code, before anything starts
            from flows import dask_cluster

            dask_cluster.check(dask_address)

    guarded(preflight)

    def preload() -> None:
        gx_run.preload()
        report.preload()

    # Once the inputs are known good (a bad one ends the run at once, with no thread importing).
    threading.Thread(target=preload, name="preload", daemon=True).start()
    from flows import credit_reconciliation as pipeline

    quiet_expected_tracebacks(verbose)
    return pipeline.credit_reconciliation.with_options(
        task_runner=pipeline.task_runner(task_runner.value, dask_address)
    )


@app.command("serve-prefect")
def serve_prefect(
    port: Annotated[int, typer.Option(min=1, max=65535, help="the server's port")] = 4200,
) -> None:
    """Starts a long-lived local Prefect server (its UI at 127.0.0.1:PORT) until Ctrl-C.

    Every `credits run` on this machine (same PREFECT_HOME) then finds it by itself and uses it
    instead of starting a temporary server: the set-up for people who run many incidents.
    Ctrl-C (SIGINT, even to a background job started with it ignored) or SIGTERM stops it.
    """
    url = f"http://127.0.0.1:{port}/api"
    # SIGTERM stops it as Ctrl-C does; and Ctrl-C does even where the process was started with
    # SIGINT ignored (a shell's background job), which Python would otherwise keep ignoring.
    previous: dict[signal.Signals, object] = {}
    try:
        for signum in (*STOP_SIGNALS, signal.SIGHUP):  # SIGHUP: its terminal was closed
            previous[signum] = signal.signal(signum, interrupt)
        prefect_home = long_lived.home()
        with long_lived.running(url, prefect_home) as server:
            out.print(f"Prefect UI: {url.removesuffix('/api')}")
            out.print(
                f"every `credits run` with PREFECT_HOME={prefect_home} now uses this server; "
                "Ctrl-C stops it"
            )
            until_interrupted(server)
    except KeyboardInterrupt:
        pass
    except CreditsError as error:  # another server there already, or ours did not start
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(error.exit_code) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    out.print("stopped: the Prefect server")


def until_interrupted(server: subprocess.Popen | None = None) -> None:
    """Waits until Ctrl-C or SIGTERM raise KeyboardInterrupt, or `server` exits (`StorageError`:
    a server killed behind its back left `serve-prefect` running, silent, its record naming a
    dead process). Not `signal.pause()`: the kernel may hand the signal to another thread of
    the process (jemalloc's, a library's), whose C handler only notes it; `pause()` in the main
    thread would then never return, and Python runs the handler when the main thread next runs:
    here within `WAKE_SECONDS`."""
    while True:
        time.sleep(WAKE_SECONDS)
        if server is not None and server.poll() is not None:
            raise StorageError(
                f"the Prefect server (pid {server.pid}) exited with code {server.returncode}: "
                "runs here start their own temporary server again; its log is server.log in "
                f"PREFECT_HOME. Start `{commands.credits('serve-prefect')}` again"
            )
