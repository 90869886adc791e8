"""What must hold before finance decides a run: a name for the decider; the run in the
warehouse and pending (not stopped while sealing, not decided); sealed as the warehouse recorded
it, every output with its recorded sha256; its credit lines those of its sealed credits.csv; and
not superseded by a newer published run of its incident. Each refusal says what to do instead.
"""

from __future__ import annotations

import hashlib
import shlex
from datetime import datetime
from typing import Any, Literal

import duckdb

from transforms import commands, csv_lf, db, files, pages, spreadsheet, times
from transforms.errors import ConfigError, InputError, ProofFailed
from transforms.finance import chain, rows
from transforms.finance.rows import RunRow
from transforms.reconcile import outputs
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import RunStatus


def recorded_manifest(run: RunRow) -> Manifest:
    """The manifest the warehouse recorded for the run (a row of `runs`)."""
    try:
        return Manifest.parse(run.manifest)
    except ValueError as error:  # the warehouse's copy, edited into something no run writes
        raise InputError(
            f"the warehouse's copy of the manifest of run {run.run_id} is not a manifest "
            f"({error}); it cannot be approved: run its incident again and approve the new run"
        ) from None


def require_sealed(run: RunRow) -> None:
    """The run's manifest.json is there, is the one the warehouse loaded, lists a credits.csv,
    and every output it lists still has the hash it records (`folder_changes`, the first)."""
    recorded = recorded_manifest(run)
    again = f"it cannot be approved; {_rerun(recorded)}"
    changes = folder_changes(run)
    if changes:
        raise InputError(f"{changes[0]}; {again}")
    if "credits.csv" not in recorded.outputs:
        raise InputError(f"{run.run_folder / 'manifest.json'}: lists no credits.csv; {again}")


def folder_changes(run: RunRow) -> list[str]:
    """What no longer matches in the run's folder, each naming its file: its manifest.json
    missing, not a file, unreadable or not the one the warehouse recorded (compared as JSON
    values: the copy is written more compactly; then nothing else is checked), and each output
    it lists missing, not a file or with another sha256. A file is read only if it is a regular
    file (a pipe would be waited on)."""
    folder = run.run_folder
    path = folder / "manifest.json"
    if path.exists() and not path.is_file():  # a folder, or a pipe a read would wait on
        return [f"{path}: is not a file"]
    try:
        sealed = chain.parsed(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [
            f"{path}: missing: run {run.run_id} was never sealed (killed before its manifest "
            "was written) or the file was removed"
        ]
    except (OSError, ValueError) as error:
        return [f"{path}: cannot be read ({error})"]
    # Compared as JSON values, not as models: an edit the model would refuse or normalise is
    # still reported as an edit.
    if sealed != chain.parsed(run.manifest):
        return [
            f"{path}: is not the manifest the warehouse recorded for run {run.run_id} "
            "(edited or replaced)"
        ]
    changes = []
    for name, output in sorted(recorded_manifest(run).outputs.items()):
        target = folder / name
        try:
            actual = files.sha256(target) if target.is_file() else None
        except OSError as error:
            changes.append(f"{target}: cannot be read ({error.strerror})")
            continue
        if actual != output.sha256:
            what = "does not match its sha256 in manifest.json"
            if actual is None:
                what = "is not a file" if target.exists() else "is missing"
            changes.append(f"{target}: {what} (changed after the run was sealed)")
    return changes


def require_as_sealed(con, run: RunRow) -> str | None:
    """The run as it was sealed: its folder (where this machine reaches it) checked file by file
    (`require_sealed`, `require_lines_as_sealed`); and always, as on a machine that shares only
    the warehouse and the outbox, its credit lines in the warehouse, written again as
    credits.csv, against the manifest the warehouse recorded (`require_record_as_sealed`: every
    column, the description and policy version a batch's lines carry too, as `audit --verify`
    checks them). Returns the note to show and journal then."""
    if run.run_folder.is_dir():
        require_sealed(run)
        require_lines_as_sealed(con, run)
        require_record_as_sealed(con, run)
        require_exceptions_as_sealed(con, run)
        return None
    require_record_as_sealed(con, run)
    require_exceptions_as_sealed(con, run)
    return (
        f"run folder {run.run_folder} is not reachable from this machine: checked on the "
        "warehouse's sealed record instead (its credit lines, written again as credits.csv, "
        "against the sealed manifest's sha256)"
    )


def require_record_as_sealed(con, run: RunRow) -> None:
    """The run's credit lines in the warehouse are the credits.csv its recorded manifest sealed
    (the manifest is in the journal-proved store): the same count and totals per currency (the
    message says by how much they differ), and, written again as that file, its sha256 (a
    credit moved from one customer to another keeps the totals)."""
    manifest = recorded_manifest(run)
    found = db.records(db.run(con, "run_credits_totals", run_id=run.run_id))
    lines = sum(row["lines"] for row in found)
    totals = {row["currency"]: row["total_minor"] for row in found if row["total_minor"]}
    sealed = manifest.outputs.get("credits.csv")
    expected = {c: t for c, t in manifest.totals_minor.items() if t}
    if sealed is None or lines != sealed.rows or totals != expected:
        raise ProofFailed(
            f"run {run.run_id}: its credit lines in the warehouse are not those its sealed "
            "manifest records: nothing was paid",
            [
                f"warehouse: {lines} line(s), totals {totals}; sealed manifest: "
                f"{sealed.rows if sealed else 'no credits.csv'} line(s), totals {expected}"
            ],
        )
    lines_now = db.arrow(con, "run_credit_file", run_id=run.run_id)
    guarded = outputs.guarded(manifest.csv_writer)  # as its writer wrote the file
    rendered = csv_lf.file_bytes(outputs.CREDIT_COLUMNS, lines_now, guarded=guarded)
    rendered = hashlib.sha256(rendered).hexdigest()
    if rendered != sealed.sha256:
        raise ProofFailed(
            f"run {run.run_id}: its credit lines in the warehouse are not those its sealed "
            "manifest records: nothing was paid",
            [
                "warehouse: the same count and totals, but written as credits.csv they have "
                f"sha256 {rendered[:16]}..., the sealed manifest {sealed.sha256[:16]}...: a "
                "line was changed (a credit moved between customers?)"
            ],
        )


def require_exceptions_as_sealed(con, run: RunRow) -> None:
    """The run's exceptions in the warehouse, written again as exceptions.csv, have the sha256
    its recorded manifest sealed: the batch's accounts to pay by hand are made from these rows,
    so a row added, changed or removed after the seal would be paid by hand unseen."""
    manifest = recorded_manifest(run)
    sealed = manifest.outputs.get("exceptions.csv")
    rows = db.arrow(con, "run_exception_file", run_id=run.run_id)
    guarded = outputs.guarded(manifest.csv_writer)  # as its writer wrote the file
    rendered = csv_lf.file_bytes(outputs.EXCEPTION_COLUMNS, rows, guarded=guarded)
    rendered = hashlib.sha256(rendered).hexdigest()
    if sealed is None or rendered != sealed.sha256:
        raise ProofFailed(
            f"run {run.run_id}: its exceptions in the warehouse are not those its sealed "
            "manifest records (the accounts a batch lists to pay by hand come from them): "
            "nothing was paid",
            [
                f"warehouse: {rows.num_rows} exception row(s), written as exceptions.csv sha256 "
                f"{rendered[:16]}...; sealed manifest: "
                + (f"{sealed.rows} row(s), sha256 {sealed.sha256[:16]}..." if sealed else "none")
            ],
        )


def require_lines_as_sealed(con, run: RunRow) -> None:
    """The run's credit lines in the warehouse (what approving pays) are its sealed credits.csv
    (a customer id compared as the file's writer wrote it: `spreadsheet.safe` when guarded)."""
    path = run.run_folder / "credits.csv"
    unmatched = db.run(
        con,
        "int_run_credits_unmatched",
        run_id=run.run_id,
        path=str(path),
        guarded=outputs.guarded(recorded_manifest(run).csv_writer),
        formula_starts=list(spreadsheet.FORMULA_STARTS),
        plain_number=spreadsheet.PLAIN_NUMBER.pattern,
    )
    differing = db.records(unmatched)
    if differing:
        raise ProofFailed(
            f"run {run.run_id}: its credit lines in the warehouse are not those of {path}, "
            "which finance reviewed: nothing was paid",
            [
                f"credit {d['credit_id']} ({d['customer_id']}, {d['currency']}) in the "
                f"{d['side']} only: {d['credit_amount_minor']} minor units"
                for d in differing
            ],
        )


def _rerun(manifest: Manifest) -> str:
    return f"run the incident again (`{rerun(manifest)}`) and approve the new run"


def rerun(manifest: Manifest) -> str:
    """The command that runs the manifest's incident again."""
    return commands.credits(f"run {shlex.quote(str(manifest.incident.file.path))}")


def newer_published(con, run: RunRow) -> RunRow | None:
    """The incident's newest published run when `run` started before it (run is superseded),
    in the warehouse's order of starts (`runs_ordered`), which no machine's clock can change."""
    newest = rows.run(con, "runs_newest_published", incident_id=run.incident_id)
    if newest is not None and _newness(con, run.run_id) > _newness(con, newest.run_id):
        return newest
    return None


def _newness(con, run_id: str) -> int:
    ((newness,),) = db.run(con, "run_newness", run_id=run_id).fetchall()
    return newness


def on_incident_clock(at: datetime, timezone: str) -> str:
    """A decision's time on the incident's clocks, as `credits runs` shows it
    (`2025-01-08 10:30 EST`)."""
    return f"{at.astimezone(times.zone(timezone)):%Y-%m-%d %H:%M %Z}"


def approved_before(
    run_id: str, by: str | None, at: datetime | None, timezone: str | None, batch_id: str | None
) -> str:
    """Who approved a published run, when on the incident's clocks, and in which batch, as the
    warehouse holds the decision: what approving it again says, and its dry run."""
    return f"run {run_id} was already published: {_approval(by, at, timezone, batch_id)}"


def declined_before(
    run_id: str, by: str | None, at: datetime | None, timezone: str | None, note: str | None
) -> str:
    """Who declined a run, when on the incident's clocks, and why: what declining it again
    says (in UTC it read 16:13 where `credits runs` read 11:13 EST)."""
    return f"run {run_id} was already {_declined(by, at, timezone, note)}"


def _declined(by: str | None, at: datetime | None, timezone: str | None, note: str | None) -> str:
    """A decline in words: who, when on the incident's clocks (as an approval), and why."""
    when = on_incident_clock(at, timezone) if at and timezone else "?"
    return f"declined by {by} on {when}: {note}"


def _approval(
    by: str | None, at: datetime | None, timezone: str | None, batch_id: str | None
) -> str:
    """An approval in words: who, when on the incident's clocks, and its batch."""
    when = on_incident_clock(at, timezone) if at and timezone else "?"
    batch = f"in batch {batch_id}" if batch_id else "with nothing new to pay"
    return f"approved by {by} on {when}, {batch}"


def superseded(run: RunRow, newer: RunRow) -> str:
    """Why `run` is refused: the newer run published, its approval on the incident's clocks."""
    approved = on_incident_clock(newer.decided_at, newer.timezone)
    return (
        f"run {run.run_id}: superseded: it started before run {newer.run_id}, the newest "
        f"published run of {run.incident_id} (approved {approved}). "
        "Approving it would pay its credits over the newer run's (increases back to this "
        "run's amounts). Decline it, or approve a newer run; if finance really means to pay "
        "this run's amounts, approve it with --force-superseded (the journal records that)"
    )


def find_run(con: duckdb.DuckDBPyConnection, run_id: str) -> RunRow:
    """The run of that exact id; `InputError` naming the runs a slip may have meant (never
    taken for it: finance approves what it names)."""
    run = rows.run(con, "run_by_id", run_id=run_id)
    if run is None and db.run(con, "run_started_unrecorded", run_id=run_id).fetchall()[0][0]:
        raise InputError(
            f"run {run_id}: started (the journal records it) but not loaded into the warehouse: "
            "it is still running (approve it when it ends), or was stopped before its results "
            "were loaded: then it can never be approved; run the incident again"
        )
    if run is None:
        incident_runs = rows.runs(con, "runs_of", incident_id=run_id)[::-1]
        if incident_runs:  # an incident's id, given for one of its runs
            listed = ", ".join(f"{r.run_id} ({r.status})" for r in incident_runs[:3])
            more = f" and {len(incident_runs) - 3} more" if len(incident_runs) > 3 else ""
            raise InputError(
                f"run {run_id}: not in the warehouse; {run_id} is an incident: its runs, newest "
                f"first: {listed}{more}; `{commands.credits(commands.runs_of(run_id))}` lists "
                "them with their totals"
            )
        batch = rows.batch(con, run_id.removeprefix("batch="))  # `approve` printed a batch
        if batch is not None:
            raise InputError(
                f"run {run_id}: not in the warehouse; {batch.batch_id} is a batch of "
                f"{batch.incident_id}, published from run {batch.run_id}: give a run id "
                f"(`{commands.credits('runs')}` lists the runs)"
            )
        meant = [row[0] for row in db.run(con, "run_ids_meant", given=run_id).fetchall()]
        newest = rows.runs(con, "runs_of", incident_id=None)[-1:]  # a placeholder, as `RUN_ID`
        hint = (
            f"; did you mean {' or '.join(meant)}?"
            if meant
            else "".join(
                f"; the newest run is {r.run_id} ({r.incident_id}, {r.status})" for r in newest
            )
        )
        raise InputError(
            f"run {run_id}: not in the warehouse{hint} (`{commands.credits('runs')}` lists "
            "the runs)"
        )
    return run


def one(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> dict[str, Any] | None:
    rows = db.records(db.run(con, name, **parameters))
    return rows[0] if rows else None


def require_pending(run: RunRow, *, to: Literal["approved", "declined"] = "approved") -> None:
    """Refuses a run that is not pending approval; `to` is what it was to be (approved,
    declined). A run decided meanwhile (another machine's decision took the lock first) names
    that decision: who, when and how."""
    if run.status == RunStatus.SEALING:
        raise InputError(
            f"run {run.run_id}: was stopped before it was sealed (status "
            f"sealing): it can never be approved; {_rerun(recorded_manifest(run))}"
        )
    if run.status == RunStatus.REJECTED:
        raise ConfigError(
            f"run {run.run_id}: is rejected by the quality gate, so it can never be approved "
            f"or declined: see its validation.html ({run.run_folder}), fix the input it names "
            f"and {_rerun(recorded_manifest(run))}"
        )
    decided = _decided(run)
    if decided:
        raise ConfigError(
            f"run {run.run_id}: was already {decided}: a decided run cannot be {to}; nothing "
            "recorded"
        )
    if run.status != RunStatus.PENDING_APPROVAL:
        raise ConfigError(
            f"run {run.run_id}: is {run.status}, not pending_approval; only a run that "
            "passed the quality gate and was not decided yet can be approved or declined"
        )


def _decided(run: RunRow) -> str | None:
    """The decision on a decided run, as the loser of two decisions is told it: on the
    incident's clocks, an approval with its batch, a decline with its reason (as `approve` and
    `decline` given again say them)."""
    if run.decided_by is None or run.decided_at is None:
        return None
    if run.status == RunStatus.PUBLISHED:
        return _approval(run.decided_by, run.decided_at, run.timezone, run.batch_id)
    if run.status == RunStatus.DECLINED:
        return _declined(run.decided_by, run.decided_at, run.timezone, run.decision_note)
    return None


LONGEST_NAME = 200  # a person's name, recorded in the journal and every batch's batch.json


def require_name(by: str) -> None:
    """Who decides: a name on one line of plain text (an escape or a line break went into the
    journal and batch.json as given, for another tool to show as a forged line)."""
    if not by.strip():
        raise ConfigError("--by: name the person who decides")
    if len(by) > LONGEST_NAME:
        raise ConfigError(f"--by: at most {LONGEST_NAME} characters ({len(by):,}): give a name")
    odd = next(
        (i for i, (a, b) in enumerate(zip(by, pages.visible(by), strict=True)) if a != b), None
    )
    if odd is not None:
        raise ConfigError(
            f"--by: holds the control or format character U+{ord(by[odd]):04X} at character "
            f"{odd + 1}: give the name as plain text on one line"
        )
