"""The runs in the warehouse, for people telling them apart (`credits runs`), read-only.

One `ListedRun` per run, newest first: its window and start in the incident's time zone, its
status as it is now (a run's own files say what it was when it ran), finance's decision and the
batch, the totals per currency, and the incident file it ran (path and sha256).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from transforms import commands, db, money, times
from transforms.errors import ConfigError, InputError
from transforms.finance.outbox import TRAILER
from transforms.runfolder import runs as run_folders
from transforms.runfolder.runs import RunStatus
from transforms.serving import filters

# Every status a run can be in.
STATUSES = tuple(RunStatus)


@dataclass(frozen=True)
class ListedRun:
    """One run as `credits runs` shows it; times are local to the incident, money for people."""

    run_id: str
    incident_id: str
    window_local: str
    started_local: str
    status: str
    decision: str
    batch_id: str | None
    totals: tuple[str, ...]
    incident_file: str | None
    incident_file_sha256: str | None


@dataclass(frozen=True)
class UnloadedRun:
    """A run the journal saw start that the warehouse never loaded: running now, or stopped
    before its results were loaded (never approvable). Its time zone is in no row: UTC."""

    run_id: str
    incident_id: str | None
    started_utc: str


def local_time(instant: datetime, timezone: str) -> str:
    """`2025-01-07 09:15 EST`: minutes, in the incident's time zone, with its abbreviation."""
    return f"{instant.astimezone(times.zone(timezone)):%Y-%m-%d %H:%M %Z}"


def require_incident(con: duckdb.DuckDBPyConnection, incident_id: str) -> str:
    """The incident as the warehouse holds it: `incident_id`, or it without the blanks around
    what was pasted (as `credits customers` and the support page read it); `InputError` (exit
    2) unless the warehouse holds a run of it, the message listing the incidents it holds, the
    one meant first (`filters.meant_incident`)."""
    known = [row[0] for row in db.run(con, "runs_incident_ids").fetchall()]
    for held in (incident_id, incident_id.strip()):
        if held in known:
            return held
    hint = filters.meant_incident(incident_id, known)[1]
    listed = ", ".join(known) or f"none yet (`{commands.credits('run INCIDENT_FILE')}` adds them)"
    raise InputError(
        f"incident {incident_id}: unknown to the warehouse{hint} (incidents: {listed})"
    )


# What people call a run's status (the journal's event, the table's words), and the status meant.
RUN_WORDS = {
    "approved": RunStatus.PUBLISHED,
    "paid": RunStatus.PUBLISHED,
    "pending": RunStatus.PENDING_APPROVAL,
}


def _unknown_status(given: str) -> ConfigError:
    """`--status` given a word no run has: every status, and the one meant when a case slip, a
    typo or another word for it says which (`filters.meant`)."""
    known = ", ".join(s.value for s in STATUSES)
    close = filters.meant(given, [s.value for s in STATUSES], RUN_WORDS)
    if close is None:
        return ConfigError(f"--status: '{given}' is not a run status; choose from {known}")
    return ConfigError(
        f"--status: '{given}' is not a run status; did you mean '{close}'? (choose from {known})"
    )


def runs(
    con: duckdb.DuckDBPyConnection,
    incident_id: str | None = None,
    statuses: tuple[str, ...] = (),
) -> list[ListedRun]:
    """The runs, newest first: only `incident_id`'s when given, only those in `statuses` when
    any (a status that does not exist is a `ConfigError` naming the ones that do)."""
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise _unknown_status(unknown[0])
    if incident_id is not None:
        incident_id = require_incident(con, incident_id)
    rows = db.records(db.run(con, "runs_listed", incident_id=incident_id, statuses=list(statuses)))
    return [_listed(row) for row in rows]


def unloaded(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[UnloadedRun]:
    """The runs started and never loaded, newest first; only `incident_id`'s when given."""
    found = db.run(con, "runs_unloaded", incident_id=incident_id).fetchall()
    return [UnloadedRun(run_id, incident, local_time(at, "UTC")) for run_id, incident, at in found]


def _listed(row: dict) -> ListedRun:
    tz = row["timezone"]
    totals = json.loads(row["totals_minor_json"] or "{}")
    return ListedRun(
        run_id=row["run_id"],
        incident_id=row["incident_id"],
        window_local=(
            f"{local_time(row['window_start_utc'], tz)} to {local_time(row['window_end_utc'], tz)}"
        ),
        started_local=local_time(row["started_at"], tz),
        status=row["status"],
        decision=_decision(row),
        batch_id=row["batch_id"],
        totals=tuple(money.display(v, c) for c, v in sorted(totals.items())),
        incident_file=row["incident_file"],
        incident_file_sha256=row["incident_file_sha256"],
    )


# A `sealing` run, as its folder tells (`runs.still_running`): True, False, None (cannot tell).
SEALING_WORDS = {
    True: "sealing now (its process runs on this machine)",
    False: "stopped before it was sealed: never approvable (run again)",
    None: "stopped before it was sealed, or sealing elsewhere now",
}


def _decision(row: dict) -> str:
    if row["status"] == RunStatus.SEALING:
        return SEALING_WORDS[run_folders.still_running(Path(row["run_folder"]))]
    if row["superseded_by"] is not None:  # pending, but approval would refuse it
        return f"superseded by {row['superseded_by']} (approve refuses it unless forced)"
    if row["decided_by"] is None:
        return ""
    verb = {RunStatus.PUBLISHED: "approved", RunStatus.DECLINED: "declined"}.get(
        row["status"], "decided"
    )
    decided = f"{verb} by {row['decided_by']} {local_time(row['decided_at'], row['timezone'])}"
    if row["batch_state"] == "writing":  # an approval stopped before it marked the batch
        folder = Path(row["batch_folder"]) if row.get("batch_folder") else None
        if folder is not None and (folder / TRAILER).is_file():  # stopped after its trailer
            return (
                f"{decided}; batch {row['batch_id']} final in the outbox ({folder}), not marked "
                "published yet (approve again: it only marks it)"
            )
        return f"{decided}; batch {row['batch_id']} unfinished (not in the outbox: approve again)"
    return decided
