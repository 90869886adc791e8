"""Committing finance's decision on a run: the journal's entries, and for an approval the
ledger's entries of the batch's payments, its decreases, its accounts to pay by hand and the
batch itself (state `writing`), in one transaction (`ledger` writes the batch's files after).

A batch holds only the difference against the ledger of what the incident already paid: new
credits and increases (an entry per credit_id and batch); a credit that came out lower is listed
in the batch's `decreases.csv`, never paid back negatively. The run's closed accounts go into
`pay_by_hand.csv` with what is left to pay of each. Nothing new to pay, report or pay by hand:
no batch (`nothing_new`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms import db
from transforms.finance import journal, ledger_entries, outbox, rows
from transforms.finance.rows import RunRow
from transforms.runfolder.runs import RunStatus
from transforms.runfolder.summary import NothingNew

DECREASE_DETAIL = "this run's credit is below what was already paid: not paid back; review by hand"
CLOSED_DETAIL = (
    "the account has closed since it was paid: no payment instruction now; what is left to pay "
    "is in pay_by_hand.csv"
)


def publish(con, run, *, by, note, outbox_root: Path, key, detail) -> str | None:
    """Commits the decision, the ledger entries and the batch (state writing) in one
    transaction; returns the batch id (None: nothing new to pay or report)."""
    now = datetime.now(UTC)
    incident_id = run.incident_id
    difference = db.arrow(con, "int_batch_difference", run_id=run.run_id, incident_id=incident_id)
    by_hand = db.arrow(con, "int_batch_pay_by_hand", run_id=run.run_id, incident_id=incident_id)
    batch_id = _next_batch_id(con, incident_id) if _batch_due(difference, by_hand) else None
    payments = difference.filter(pc.greater(difference["delta_minor"], 0))
    detail = {**detail, **outbox.publication_times(con)}  # the batches finished by now
    with db.transaction(con):
        journal.append(
            con,
            "approved",
            actor=by,
            key=key,
            incident_id=incident_id,
            run_id=run.run_id,
            detail=detail,
            at=now,
        )
        ledger_head = None
        published: dict[str, Any] = {"batch_id": batch_id}
        if batch_id:
            ledger_head = ledger_entries.append(
                con, incident_id, _entries(payments, run, batch_id, now), key
            )
            decreases = difference.filter(pc.less(difference["delta_minor"], 0))
            _record_decreases(con, batch_id, incident_id, decreases, by_hand)
            _record_pay_by_hand(con, batch_id, run, by_hand)
            # the files' sha256, fixed by what was just recorded, and where they go: the
            # journal anchors them
            published["files"] = outbox.digests(con, batch_id)
            published["folder"] = str(outbox.folder_of(outbox_root, incident_id, batch_id))
        record_decision(
            con,
            run,
            status=RunStatus.PUBLISHED,
            by=by,
            note=note,
            batch_id=batch_id,
            at=now,
            detail=published,
            key=key,
        )
        if batch_id:
            _record_batch(con, run, batch_id, payments, by, outbox_root, now, ledger_head)
    return batch_id


def nothing_new(con: duckdb.DuckDBPyConnection, run_id: str, incident_id: str) -> NothingNew | None:
    """`NothingNew`, naming the incident's newest batch and counting the closed accounts listed
    to pay by hand beyond what the run owes them (`credits diff` names them), when approving the
    run now would publish no batch (`_publish`'s rule); None when it would."""
    ids = {"run_id": run_id, "incident_id": incident_id}
    difference = db.arrow(con, "int_batch_difference", **ids)
    if _batch_due(difference, db.arrow(con, "int_batch_pay_by_hand", **ids)):
        return None
    batches = rows.batches(con, "batches_of", incident_id=incident_id)
    beyond = db.run(con, "diff_listed_beyond_owed", **ids).fetchall()
    return NothingNew(batches[-1].batch_id if batches else None, len(beyond))


def _batch_due(difference: pa.Table, by_hand: pa.Table) -> bool:
    """Whether approving publishes a batch: a payment or a decrease to report, or something
    left to pay by hand."""
    return bool(difference.num_rows or pc.sum(by_hand["to_pay_minor"]).as_py())


def _entries(payments: pa.Table, run: RunRow, batch_id: str, now: datetime) -> pa.Table:
    """The batch's payments as ledger entries (their content; `ledger_entries` chains them)."""
    entries = payments.rename_columns({"delta_minor": "amount_minor"})
    constants = {
        "incident_id": run.incident_id,
        "batch_id": batch_id,
        "run_id": run.run_id,
        "published_at_us": ledger_entries.microseconds(now),
    }
    for name, value in constants.items():
        entries = entries.append_column(name, pa.array([value] * entries.num_rows))
    return entries


def _record_decreases(
    con, batch_id: str, incident_id: str, decreases: pa.Table, by_hand: pa.Table
) -> None:
    """The batch's credits that came out lower than paid: reported, never paid back. One whose
    account has closed since says so: what it is owed now is in `pay_by_hand.csv`."""
    rows = decreases.select(["credit_id", "customer_id", "currency", "due_minor", "paid_minor"])
    closed = set(
        zip(*(by_hand.column(c).to_pylist() for c in ("customer_id", "currency")), strict=True)
    )
    keys = zip(*(rows.column(c).to_pylist() for c in ("customer_id", "currency")), strict=True)
    detail = [CLOSED_DETAIL if key in closed else DECREASE_DETAIL for key in keys]
    rows = rows.append_column("detail", pa.array(detail, pa.string()))
    for name, value in {"batch_id": batch_id, "incident_id": incident_id}.items():
        rows = rows.append_column(name, pa.array([value] * rows.num_rows, pa.string()))
    db.run_over(con, "batch_exceptions_append", rows)


def _record_pay_by_hand(con, batch_id: str, run: RunRow, lines: pa.Table) -> None:
    """The run's closed_account lines, for finance to pay by hand: what is left to pay of each."""
    constants = {"batch_id": batch_id, "incident_id": run.incident_id, "run_id": run.run_id}
    for name, value in constants.items():
        lines = lines.append_column(name, pa.array([value] * lines.num_rows, pa.string()))
    db.run_over(con, "batch_pay_by_hand_append", lines)


def _record_batch(con, run, batch_id, payments: pa.Table, by, outbox_root, now, head) -> None:
    previous = db.run(con, "batches_count", incident_id=run.incident_id).fetchall()[0][0]
    summed = payments.group_by("currency").aggregate([("delta_minor", "sum")])
    totals = dict(
        zip(summed["currency"].to_pylist(), summed["delta_minor_sum"].to_pylist(), strict=True)
    )
    db.run(
        con,
        "batch_insert",
        batch_id=batch_id,
        incident_id=run.incident_id,
        run_id=run.run_id,
        kind="supplemental" if previous else "initial",
        row_count=payments.num_rows,
        totals_minor=json.dumps(dict(sorted(totals.items()))),
        entry_hash=outbox.entry_hash(sorted(payments["credit_id"].to_pylist())),
        policy_version=run.policy_version,
        folder=str(outbox.folder_of(outbox_root, run.incident_id, batch_id)),  # as journaled
        approved_by=by,
        created_at=now,
        journal_head=journal.head(con),
        ledger_head=head,
    )


def record_decision(con, run, *, status, by, note, batch_id, at, detail, key) -> None:
    """Sets the run's decision and journals it (event = the new status)."""
    db.run(
        con,
        "runs_decide",
        run_id=run.run_id,
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
        key=key,
        incident_id=run.incident_id,
        run_id=run.run_id,
        detail=detail,
        at=at,
    )


def _next_batch_id(con: duckdb.DuckDBPyConnection, incident_id: str) -> str:
    count = db.run(con, "batches_count", incident_id=incident_id).fetchall()[0][0]
    return f"{incident_id}-B{count + 1:03d}"
