"""The credit reconciliation flow: payment logs + transaction table -> a validated credit file.

A recipe of thin tasks; each opens the run's work database by path, calls one transform and
closes it. The business rules live in `transforms/`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, pause_flow_run, task, unmapped
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import Field

from flows import progress
from flows.quiet import quiet_expected_tracebacks
from flows.settings import (
    OUTPUT_DIR,
    WAREHOUSE,
    journal_key,
    outbox_default,
    warehouse_named,
)
from transforms import commands, db, memory
from transforms.errors import CreditsError, ValidationRejected, WorkersLost
from transforms.finance import diff, diff_text, ledger, run_start, sealing, warehouse
from transforms.ingest import incident, logs, tables
from transforms.quality import gate, validation_page
from transforms.reconcile import credits, window
from transforms.runfolder import manifest, publish, report, runs
from transforms.runfolder.summary import RunSummary

# A run paused for finance's answer waits a week, asking the server every 10 s whether it came.
APPROVAL_TIMEOUT_S = 7 * 24 * 3600
APPROVAL_POLL_S = 10


@contextmanager
def _work_db(run: runs.Run) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's work database; memory freed before it opens and once it is closed goes back to
    the system, so that one task's peak does not stay under the next (DuckDB's own too: its
    instance outlives the connection while `_work_kept`)."""
    memory.trim()
    with db.connect(run.work_db, run.spill_dir) as con:
        yield con
        db.release_memory(con)
    memory.trim()


@contextmanager
def _work_kept(run: runs.Run) -> Iterator[None]:
    """The run's work database held open for the block, so that each task's `_work_db` is a
    connection to this one DuckDB instance (DuckDB's instance cache: the same file and
    configuration) instead of a new instance, whose catalog costs about 20 ms of CPU to set up:
    a tenth of a small run's. Closed before the run is published: sealing attaches the work
    database to the warehouse, a second instance of the file in this process."""
    with db.connect(run.work_db, run.spill_dir):
        yield


@contextmanager
def _scratch_removed_if_stopped(run: runs.Run) -> Iterator[None]:
    """A run stopped by its input, its configuration or the machine (a `CreditsError`: exit 2,
    3 or 4) removes its scratch `_work/` as it stops; only a killed run's is left, for the next
    run's sweep (a bug's, exit 1, too: what it left helps to find it)."""
    try:
        yield
    except CreditsError:
        runs.finish(run)
        raise


@task(name="start-run", cache_policy=NO_CACHE)
def start_run(
    incident_file: str, output_dir: str, warehouse_path: str
) -> tuple[incident.Incident, runs.Run]:
    loaded = incident.load(Path(incident_file))
    run_start.require_one_spelling_at(warehouse_path, loaded.id)  # before its folder is made
    run = runs.start(loaded, Path(output_dir))
    for swept in runs.sweep(Path(output_dir)):
        get_run_logger().warning(  # on the console too: an earlier run here was killed
            "removed the scratch _work/ (%.1f MB) of a run that did not finish on this machine "
            "(killed, or stopped by a bug): %s",
            swept.size_bytes / 1e6,
            swept.folder,
        )
    warehouse.record_start(warehouse_path, run, journal_key())
    return loaded, run


def task_runner(name: str = "threads", dask_address: str | None = None):
    """Where the log map runs: threads here, or a Dask cluster (at `dask_address`, or a
    `LocalCluster` started for the run)."""
    if name == "threads":
        return ThreadPoolTaskRunner(max_workers=os.cpu_count())
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=dask_address) if dask_address else DaskTaskRunner()


def extracted(futures, planned: logs.Plan) -> list[logs.Extract]:
    """The map's results. A Dask worker that dies mid-map has its partitions rerun elsewhere by
    the scheduler (up to `distributed.scheduler.allowed-failures` deaths per partition); past
    that, the run stops with `WorkersLost`, before anything is written."""
    partitions = planned.partitions
    for future in progress.over(futures, "map", f"{planned.files:,} log files", len(partitions)):
        future.wait()
    try:
        return futures.result()
    except Exception as error:
        from distributed import KilledWorker  # only a Dask cluster raises these
        from distributed.client import FutureCancelledError

        if isinstance(error, FutureCancelledError):  # the scheduler went away mid-map
            raise WorkersLost(
                f"the Dask cluster cancelled the log map ({' '.join(str(error).split())}): "
                "its scheduler was lost or restarted; nothing was published. Start it again "
                "and run again."
            ) from None
        if not isinstance(error, KilledWorker):
            raise
        keys = [future.wrapped_future.key for future in futures]
        names = [file.name for file in partitions[keys.index(error.task)].files]
        what = names[0] + (f" and {len(names) - 1} more file(s)" if len(names) > 1 else "")
        raise WorkersLost(
            f"the Dask cluster lost every worker that read the log partition of {what} "
            f"({error.allowed_failures + 1} deaths; distributed.scheduler.allowed-failures is "
            f"{error.allowed_failures}); nothing was published. See the workers' logs (out of "
            "memory? killed?) and run again."
        ) from None


@task(name="extract-logs", cache_policy=NO_CACHE)
def extract_logs(partition: logs.Partition, reading: logs.Reading, out_dir: Path) -> logs.Extract:
    return logs.extract(partition, reading, out_dir)


def map_on_task_runner(
    planned: logs.Plan, reading: logs.Reading, out_dir: Path
) -> list[logs.Extract]:
    """The recipe's map as one `extract-logs` task run per partition, on the flow's task runner
    (threads or a Dask cluster); the memory the map's threads used goes back before the reduce."""
    progress.note(
        "plan",
        "%d log files to read in %d partition(s), %d pruned by their hour",
        planned.files,
        len(planned.partitions),
        len(planned.pruned),
    )
    futures = extract_logs.map(planned.partitions, unmapped(reading), unmapped(out_dir))
    extracts = extracted(futures, planned)
    memory.trim()
    return extracts


@task(name="stage-logs", cache_policy=NO_CACHE)
def stage_logs(loaded: incident.Incident, run: runs.Run) -> list[logs.LogFile]:
    with _work_db(run) as con:
        read = logs.stage(con, loaded, run.work_dir, map_on_task_runner)
    opened = [f for f in read if not f.pruned]
    lines = sum(f.lines for f in opened)
    progress.note("reduce", "%s log lines from %d files", f"{lines:,}", len(opened))
    return read


@task(name="stage-tables", cache_policy=NO_CACHE)
def stage_tables(loaded: incident.Incident, run: runs.Run) -> list[tables.TableFile]:
    with _work_db(run) as con:
        staged = tables.stage(con, loaded)
    progress.note("tables", ", ".join(f"{t.name}: {t.rows:,} rows" for t in staged))
    return staged


@task(name="reconcile", cache_policy=NO_CACHE)
def reconcile_credits(loaded: incident.Incident, run: runs.Run) -> None:
    with _work_db(run) as con:
        credits.reconcile(con, loaded)
        counts = [con.table(name).shape[0] for name in ("evidence", "credits", "exceptions")]
    progress.note(
        "reconcile",
        "%s candidate transactions, %s credit lines, %s exceptions",
        *(f"{n:,}" for n in counts),
    )


@task(name="write-outputs", cache_policy=NO_CACHE)
def write_outputs(run: runs.Run) -> publish.Written:
    with _work_db(run) as con:
        return publish.write_outputs(con, run)


@task(name="check-quality", cache_policy=NO_CACHE)
def check_quality(
    loaded: incident.Incident,
    run: runs.Run,
    written: publish.Written,
    read: list[logs.LogFile],
    warehouse_path: str,
) -> tuple[manifest.Accounting, gate.Verdict]:
    with _work_db(run) as con:
        accounting = manifest.account(con, read)
        totals = manifest.credit_totals(con)
        unread = gate.unread_logs(loaded, read)
        verdict = gate.check(
            con, loaded, written.pending_credits, totals, accounting.problems, unread
        )
    validation_page.write_report(
        verdict.results,
        run.folder,
        incident_id=loaded.id,
        run_id=run.run_id,
        quarantine=verdict.quarantine,
        warehouse=warehouse_named(warehouse_path),
    )
    outcome = "passed" if verdict.passed else f"REJECTED: {len(verdict.blocking)} blocking"
    progress.note("gate", "%s, %d warning(s)", outcome, len(verdict.warnings))
    return accounting, verdict


@task(name="check-window", cache_policy=NO_CACHE)
def check_window(loaded: incident.Incident, run: runs.Run) -> window.Check:
    with _work_db(run) as con:
        checked = window.check(con, loaded)
    # the flow run's log keeps them; the summary shows them
    for message in checked.messages(loaded, commands.credits):
        get_run_logger().info(message)
    return checked


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(
    loaded: incident.Incident,
    run: runs.Run,
    accounting: manifest.Accounting,
    verdict: gate.Verdict,
    window_check: window.Check,
    warehouse_path: str,
) -> None:
    named = warehouse_named(warehouse_path)
    with _work_db(run) as con:
        written = report.write(con, loaded, run, accounting, verdict, window_check, named)
    key = report.artifact_key(loaded.id)
    create_markdown_artifact(written.markdown, key=key, description="the run at a glance")
    create_link_artifact(written.path.as_uri(), link_text=report.NAME, key=f"{key}-page")


@task(name="publish", cache_policy=NO_CACHE)
def publish_run(run: runs.Run, warehouse_path: str, **evidence: Any) -> RunSummary:
    with _work_db(run) as con:
        content = publish.publish(con, run=run, **evidence)
    summary = sealing.seal(run, content, warehouse_path, journal_key())
    progress.note("publish", "%s, loaded into the warehouse", summary.verdict)
    return summary


class Approval(RunInput):
    """Finance's answer to a batch waiting in a paused flow run. What the server can check
    from the form's schema it refuses at resume, the run still paused (a `by` of blanks); a
    decline without a note asks again (`missing`)."""

    approve: bool
    by: str = Field(pattern=r"\S", description="who decides (a name)")
    note: str = Field("", description="for the journal; to decline, say why (required)")
    accept_decreases: bool = False

    @property
    def missing(self) -> str | None:
        """Why the answer cannot be acted on, if it cannot."""
        if not self.approve and not self.note.strip():
            return "A decline needs a note saying why: answer again."
        return None


@task(name="show-batch", cache_policy=NO_CACHE)
def show_batch(summary: RunSummary, warehouse_path: str) -> str:
    """The run waiting for approval and what it changes against what is published (decreases
    first), as an artifact; returns the same Markdown for the pause form."""
    with warehouse.connect(warehouse_path, read_only=True) as con:
        changes = diff.compute(con, summary.run_id)
    totals = "\n".join(f"| {c} | {v:,} |" for c, v in summary.totals_minor.items())
    markdown = (
        f"# {summary.incident_id}: run {summary.run_id}\n\n"
        f"Waiting for approval. Totals in minor units:\n\n| currency | total |\n|---|---|\n"
        f"{totals}\n\nExceptions: {summary.exceptions}\n\n{diff_text.markdown(changes)}"
    )
    create_markdown_artifact(key="batch-summary", markdown=markdown)
    return markdown


@task(name="decide", cache_policy=NO_CACHE)
def decide(
    run_id: str, answer: Approval, warehouse_path: str, outbox: str | None
) -> ledger.Decision:
    path, key, outbox = warehouse_path, journal_key(), str(outbox or outbox_default())
    if answer.approve:
        return ledger.approve(
            path,
            run_id,
            by=answer.by,
            note=answer.note,
            outbox=Path(outbox),
            key=key,
            accept_decreases=answer.accept_decreases,
        )
    return ledger.decline(
        path, run_id, by=answer.by, reason=answer.note, key=key, outbox=Path(outbox)
    )


@flow(name="credit-reconciliation", log_prints=True, task_runner=task_runner())
def credit_reconciliation(
    incident_file: str,
    output_dir: str = str(OUTPUT_DIR),
    warehouse_path: str = WAREHOUSE,
    wait_for_approval: bool = False,
    outbox: str | None = None,
) -> RunSummary:
    """Runs one incident end to end: a passing run waits for approval in the warehouse (or, with
    `wait_for_approval` on a Prefect server, in this paused flow run's form); a rejected one
    raises `ValidationRejected` after its evidence is written. Served (`make serve`), a bad
    input is one line in the log, its file named, without a traceback."""
    quiet_expected_tracebacks()
    loaded, run = start_run(incident_file, output_dir, warehouse_path)
    with _scratch_removed_if_stopped(run):
        with _work_kept(run):
            # Extract: log partitions mapped to Parquet extracts and reduced; the tables
            # checked and staged
            read = stage_logs(loaded, run)
            staged = stage_tables(loaded, run)
            # Transform: candidate transactions classed, credits priced, exceptions listed
            reconcile_credits(loaded, run)
            written = write_outputs(run)
            # Validate: the quality gate over every dataset, and the accounting identities.
            # The log files' list and the verdict (GX's whole results) are handed on `quote`d:
            # Prefect would otherwise walk every element of them for futures, in each task
            # they are given to.
            accounting, verdict = check_quality(loaded, run, written, quote(read), warehouse_path)
            # Report: the declared window checked against the logs (never blocking), a page
            # for people in the run folder, and the run at a glance in Prefect
            window_check = check_window(loaded, run)
            write_report(loaded, run, accounting, quote(verdict), window_check, warehouse_path)
        # Load: the credit file only if the gate passed, the run into the warehouse, the
        # manifest last
        summary = publish_run(
            run,
            warehouse_path,
            incident=loaded,
            written=written,
            log_files=quote(read),
            table_files=staged,
            accounting=accounting,
            verdict=quote(verdict),
            window_check=window_check,
        )
    if summary.rejected:
        raise ValidationRejected(f"run {run.run_id} rejected by the quality gate", summary)
    if wait_for_approval:
        answer = _asked(show_batch(summary, warehouse_path))
        if answer is None:  # no answer in the form: the run waits for the command line
            return summary
        decision = decide(run.run_id, answer, warehouse_path, outbox)
        summary = dataclasses.replace(summary, decision=runs.RunStatus(decision.status))
    return summary


def _asked(batch: str) -> Approval | None:
    """Finance's answer in this paused flow run's form, asked again while it cannot be acted
    on; None when none came within `APPROVAL_TIMEOUT_S` (the run stays pending_approval:
    `credits approve` or `credits decline` decides it then)."""
    description = batch
    while True:
        try:
            answer = pause_flow_run(
                wait_for_input=Approval.with_initial_data(description=description),
                timeout=APPROVAL_TIMEOUT_S,
                poll_interval=APPROVAL_POLL_S,
            )
        except FlowPauseTimeout:
            get_run_logger().warning(
                "no answer in the approval form within %d days: the run waits for `%s` or `%s`",
                APPROVAL_TIMEOUT_S // 86400,
                commands.credits("approve RUN_ID --by NAME"),
                commands.credits("decline RUN_ID --by NAME --reason WHY"),
            )
            return None
        if answer.missing is None:
            return answer
        description = f"**{answer.missing}**\n\n{batch}"
