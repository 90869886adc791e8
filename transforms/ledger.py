"""Finance's decision on a run, and publishing its batch into the outbox exactly once.

A run that passed the gate waits as `pending_approval`. Approving it publishes a batch holding
only the difference against the ledger of what the incident already paid: new credits and
increases (an entry per credit_id and batch); a credit that came out lower is listed in the
batch's `exceptions.csv`, never paid back negatively. Nothing new to pay or report: no batch.

Crash safety: the ledger entries and the batch (state `writing`) are committed first, then the
batch's files are written (temporary name, fsync, rename) with `batch.json`, the trailer, last,
then the batch is marked `published`. A batch left `writing` by a crash is finished by the next
approval before anything else, from the ledger, so no credit is paid twice or lost.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from transforms import db, files, journal, money, warehouse
from transforms.errors import ConfigError, InputError

DEFAULT_OUTBOX = Path("data/outbox")
BATCH_COLUMNS = (
    "entry_id",
    "batch_id",
    "credit_id",
    "incident_id",
    "customer_id",
    "currency",
    "amount",
    "amount_minor",
    "entry_kind",
    "description",
    "policy_version",
    "run_id",
)
BATCH_EXCEPTION_COLUMNS = (
    "batch_id",
    "credit_id",
    "incident_id",
    "customer_id",
    "currency",
    "due_minor",
    "paid_minor",
    "detail",
)
TRAILER = "batch.json"


@dataclass(frozen=True)
class Decision:
    """What approving or declining a run did."""

    run_id: str
    status: str
    batch_id: str | None
    batch_folder: Path | None
    rows: int
    totals_minor: dict[str, int]
    decreases: int
    already_decided: bool


def approve(
    warehouse_path: Path, run_id: str, *, by: str, note: str | None, outbox: Path
) -> Decision:
    """Approves a pending run and publishes its batch; approving a published run is a no-op."""
    _require_name(by)
    with warehouse.write_lock(warehouse_path), warehouse.connect(warehouse_path) as con:
        finish_unwritten_batches(con)
        run = _run(con, run_id)
        if run["status"] == "published":
            return _decision_of(con, run, already_decided=True)
        _require_pending(run)
        now = datetime.now(UTC)
        difference = db.run(
            con, "int_batch_difference", run_id=run_id, incident_id=run["incident_id"]
        ).fetchall()
        batch_id = _next_batch_id(con, run["incident_id"]) if difference else None
        con.begin()
        journal.append(
            con,
            "approved",
            actor=by,
            incident_id=run["incident_id"],
            run_id=run_id,
            detail={"note": note} if note else {},
            at=now,
        )
        if batch_id:
            _record_batch(con, run, batch_id, difference, by, outbox, now)
        _record_decision(
            con,
            run,
            status="published",
            by=by,
            note=note,
            batch_id=batch_id,
            at=now,
            detail={"batch_id": batch_id},
        )
        con.commit()
        if batch_id:
            _write_batch(con, batch_id)
        return _decision_of(con, _run(con, run_id), already_decided=False)


def decline(warehouse_path: Path, run_id: str, *, by: str, reason: str) -> Decision:
    """Declines a pending run: it will never be published."""
    _require_name(by)
    if not reason.strip():
        raise ConfigError("--reason: say why the run is declined")
    with warehouse.write_lock(warehouse_path), warehouse.connect(warehouse_path) as con:
        run = _run(con, run_id)
        if run["status"] == "declined":
            return _decision_of(con, run, already_decided=True)
        _require_pending(run)
        now = datetime.now(UTC)
        con.begin()
        _record_decision(
            con,
            run,
            status="declined",
            by=by,
            note=reason,
            batch_id=None,
            at=now,
            detail={"reason": reason},
        )
        con.commit()
        return _decision_of(con, _run(con, run_id), already_decided=False)


def finish_unwritten_batches(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Writes the files of every batch a crash left in state `writing`; returns their ids."""
    pending = [row[0] for row in db.run(con, "batches_writing").fetchall()]
    for batch_id in pending:
        _write_batch(con, batch_id)
    return pending


def verify_batch(path: Path) -> list[str]:
    """Recomputes a published batch's control totals; returns every mismatch (empty: verified)."""
    folder = path.parent if path.name == TRAILER else path
    trailer_path = folder / TRAILER
    try:
        trailer = json.loads(trailer_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{trailer_path}: no batch trailer; is this a batch folder?") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{trailer_path}: not valid JSON ({error})") from None
    problems = []
    for name, digest in sorted(trailer.get("files", {}).items()):
        actual = files.sha256(folder / name) if (folder / name).exists() else "missing"
        if actual != digest:
            problems.append(f"{name}: sha256 is {actual}, the trailer says {digest}")
    lines = _read_csv(folder / "credits.csv") if (folder / "credits.csv").exists() else []
    recomputed = _control_totals(lines)
    for key in ("row_count", "totals_minor", "entry_hash"):
        if recomputed[key] != trailer.get(key):
            problems.append(
                f"{key}: the file gives {recomputed[key]}, the trailer says {trailer.get(key)}"
            )
    versions = sorted({line["policy_version"] for line in lines})
    if versions and versions != [trailer.get("policy_version")]:
        problems.append(
            f"policy_version: lines say {versions}, the trailer {trailer.get('policy_version')}"
        )
    if {line["batch_id"] for line in lines} - {trailer.get("batch_id")}:
        problems.append("batch_id: a line belongs to another batch")
    return problems


def _record_decision(con, run, *, status, by, note, batch_id, at, detail) -> None:
    """Sets the run's decision and journals it (event = the new status)."""
    db.run(
        con,
        "runs_decide",
        run_id=run["run_id"],
        status=status,
        by=by,
        at=at,
        note=note,
        batch_id=batch_id,
    )
    journal.append(
        con,
        status,
        actor=by,
        incident_id=run["incident_id"],
        run_id=run["run_id"],
        detail=detail,
        at=at,
    )


def _record_batch(con, run, batch_id, difference, by, outbox: Path, now: datetime) -> None:
    columns = (
        "credit_id",
        "customer_id",
        "currency",
        "due_minor",
        "paid_minor",
        "paid_entries",
        "description",
        "policy_version",
        "delta_minor",
    )
    rows = [dict(zip(columns, row, strict=True)) for row in difference]
    payments = [r for r in rows if r["delta_minor"] > 0]
    decreases = [r for r in rows if r["delta_minor"] < 0]
    for r in payments:
        db.run(
            con,
            "ledger_insert",
            entry_id=f"{r['credit_id']}-{r['paid_entries'] + 1:02d}",
            credit_id=r["credit_id"],
            incident_id=run["incident_id"],
            customer_id=r["customer_id"],
            currency=r["currency"],
            amount_minor=r["delta_minor"],
            batch_id=batch_id,
            run_id=run["run_id"],
            published_at=now,
        )
    for r in decreases:
        db.run(
            con,
            "batch_exception_insert",
            batch_id=batch_id,
            credit_id=r["credit_id"],
            incident_id=run["incident_id"],
            customer_id=r["customer_id"],
            currency=r["currency"],
            due_minor=r["due_minor"],
            paid_minor=r["paid_minor"],
            detail="this run's credit is below what was already paid: not paid back; "
            "review by hand",
        )
    previous = db.run(con, "batches_count", incident_id=run["incident_id"]).fetchall()[0][0]
    folder = Path(outbox).resolve() / f"incident={run['incident_id']}" / f"batch={batch_id}"
    totals: Counter[str] = Counter()
    for r in payments:
        totals[r["currency"]] += r["delta_minor"]
    db.run(
        con,
        "batch_insert",
        batch_id=batch_id,
        incident_id=run["incident_id"],
        run_id=run["run_id"],
        kind="supplemental" if previous else "initial",
        row_count=len(payments),
        totals_minor=json.dumps(dict(sorted(totals.items()))),
        entry_hash=_entry_hash(sorted(r["credit_id"] for r in payments)),
        policy_version=run["policy_version"],
        folder=str(folder),
        approved_by=by,
        created_at=now,
    )


def _write_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> Path:
    """Writes a batch's files from the ledger, the trailer last, and marks it published."""
    batch = _one(con, "batch_by_id", batch_id=batch_id)
    folder = Path(batch["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    lines = db.records(db.run(con, "batch_lines", batch_id=batch_id))
    for line in lines:
        line["amount"] = money.decimal_text(line["amount_minor"], line["currency"])
    _write_csv(folder / "credits.csv", BATCH_COLUMNS, lines)
    decreases = db.records(db.run(con, "batch_exceptions_of", batch_id=batch_id))
    _write_csv(folder / "exceptions.csv", BATCH_EXCEPTION_COLUMNS, decreases)
    totals = _control_totals(_read_csv(folder / "credits.csv"))
    trailer = {
        "batch_id": batch_id,
        "incident_id": batch["incident_id"],
        "run_id": batch["run_id"],
        "kind": batch["kind"],
        **totals,
        "totals": {c: money.decimal_text(v, c) for c, v in totals["totals_minor"].items()},
        "policy_version": batch["policy_version"],
        "approved_by": batch["approved_by"],
        "created_at": batch["created_at"].astimezone(UTC).isoformat(),
        "journal_head": journal.head(con),
        "files": {name: files.sha256(folder / name) for name in ("credits.csv", "exceptions.csv")},
    }
    files.write_text(folder / TRAILER, json.dumps(trailer, indent=2, sort_keys=True) + "\n")
    db.run(con, "batch_mark_published", batch_id=batch_id, published_at=datetime.now(UTC))
    return folder


def _control_totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    for line in lines:
        totals[line["currency"]] += int(line["amount_minor"])
    return {
        "row_count": len(lines),
        "totals_minor": dict(sorted(totals.items())),
        "entry_hash": _entry_hash(sorted(line["credit_id"] for line in lines)),
    }


def _entry_hash(credit_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(credit_ids).encode()).hexdigest()


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with files.atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _next_batch_id(con: duckdb.DuckDBPyConnection, incident_id: str) -> str:
    count = db.run(con, "batches_count", incident_id=incident_id).fetchall()[0][0]
    return f"{incident_id}-B{count + 1:03d}"


def _run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    run = _one(con, "run_by_id", run_id=run_id)
    if run is None:
        raise InputError(f"run {run_id}: not in the warehouse (`credits audit` lists the runs)")
    return run


def _one(con: duckdb.DuckDBPyConnection, name: str, **parameters: Any) -> dict[str, Any] | None:
    rows = db.records(db.run(con, name, **parameters))
    return rows[0] if rows else None


def _require_pending(run: dict[str, Any]) -> None:
    if run["status"] != "pending_approval":
        raise ConfigError(
            f"run {run['run_id']}: is {run['status']}, not pending_approval; only a run that "
            "passed the quality gate and was not decided yet can be approved or declined"
        )


def _require_name(by: str) -> None:
    if not by.strip():
        raise ConfigError("--by: name the person who decides")


def _decision_of(con, run: dict[str, Any], *, already_decided: bool) -> Decision:
    batch = _one(con, "batch_by_id", batch_id=run["batch_id"]) if run["batch_id"] else None
    decreases = 0
    if batch:
        decreases = db.run(con, "batch_exceptions_count", batch_id=batch["batch_id"]).fetchall()[0][
            0
        ]
    return Decision(
        run_id=run["run_id"],
        status=run["status"],
        batch_id=run["batch_id"],
        batch_folder=Path(batch["folder"]) if batch else None,
        rows=batch["row_count"] if batch else 0,
        totals_minor=json.loads(batch["totals_minor"]) if batch else {},
        decreases=decreases,
        already_decided=already_decided,
    )
