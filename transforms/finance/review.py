"""Approval rehearsed: the batch that approving a run would publish, and what it changes against
what is published, read from the warehouse opened read-only. Nothing is written: not the
warehouse, not its lock file, not the outbox.

The checks approval makes before it pays are made here too, and refuse alike (a DuckDB file
`credits warehouse copy` moved into a PostgreSQL store; the run pending, sealed, its lines
those of its credits.csv; the journal, ledger and batches proving themselves); a superseded
run and decreases, which approval refuses unless finance says so (--force-superseded,
--accept-decreases), are the preview's refusals: the dry run exits as the approval would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from transforms import db, money
from transforms.finance import approval, journal, proof, rows, warehouse, witnesses
from transforms.finance import diff as diffs
from transforms.runfolder.runs import RunStatus


@dataclass(frozen=True)
class Preview:
    """What `credits approve RUN_ID` would do now."""

    run_id: str
    incident_id: str
    batch_id: str | None
    payments: tuple[dict[str, Any], ...]
    decreases: tuple[dict[str, Any], ...]
    pay_by_hand: tuple[dict[str, Any], ...]
    totals_minor: dict[str, int]
    diff: diffs.Diff
    notes: tuple[str, ...]
    refusals: tuple[str, ...]  # why approving now would stop (exit 2), unless finance says so


def preview(
    warehouse_path: warehouse.Location,
    run_id: str,
    *,
    key: bytes | None,
    outbox: Path,
    against: str,
    force_superseded: bool = False,
    accept_decreases: bool = False,
) -> Preview:
    """The batch approving `run_id` would publish, the diff against `against`, notes, and the
    refusals approval would stop on given the same two decisions."""
    # read before the warehouse: a PostgreSQL store's snapshot lets decisions commit meanwhile
    seen = witnesses.witnessed_at(warehouse_path, outbox)
    with warehouse.connect_current(warehouse_path) as con:
        warehouse.require_not_moved_at(con, warehouse_path)  # approval's writer refuses it
        run = approval.find_run(con, run_id)
        journal.require_key(con, key)  # as approval, before anything else
        notes, refusals = [], []
        if run.status == RunStatus.PUBLISHED:
            decision = (run.decided_by, run.decided_at, run.timezone, run.batch_id)
            before = approval.approved_before(run_id, *decision)
            notes.append(f"{before}; approving it again does nothing")
        else:
            approval.require_pending(run)
        unreachable = approval.require_as_sealed(con, run)
        notes += [unreachable] if unreachable else []
        proof.require(con, [run.incident_id], key, seen)
        writing = rows.batches(con, "batches_writing")
        notes += [
            f"batch {b.batch_id} was left unfinished (state writing): approval finishes it "
            "first, from the ledger"
            for b in writing
        ]
        batch = batch_lines(con, run_id, run.incident_id)
        notes += credited_elsewhere(con, run_id, run.incident_id, batch)
        newer = approval.newer_published(con, run)
        if newer and run.status != RunStatus.PUBLISHED:
            (notes if force_superseded else refusals).append(approval.superseded(run, newer))
        published = diffs.compute(con, run_id)
        changes = published if against == diffs.PUBLISHED else diffs.compute(con, run_id, against)
        payments: list[dict[str, Any]] = []
        decreases: list[dict[str, Any]] = []
        by_hand: list[dict[str, Any]] = []
        if run.status != RunStatus.PUBLISHED:
            difference, by_hand = batch
            payments = [_payment(d) for d in difference if d["delta_minor"] > 0]
            decreases = [d for d in difference if d["delta_minor"] < 0]
            if published.decreases and accept_decreases:
                notes.append(
                    f"the batch carries {len(published.decreases)} decrease(s), accepted with "
                    "--accept-decreases (journaled)"
                )
            elif published.decreases:
                refusals.append(
                    f"the batch carries {len(published.decreases)} decrease(s): approval stops "
                    "and asks for --accept-decreases"
                )
        batch_id = None
        if payments or decreases or any(r["to_pay_minor"] for r in by_hand):
            count = db.run(con, "batches_count", incident_id=run.incident_id).fetchall()[0][0]
            batch_id = f"{run.incident_id}-B{count + 1:03d}"
    totals: dict[str, int] = {}
    for payment in payments:
        totals[payment["currency"]] = totals.get(payment["currency"], 0) + payment["amount_minor"]
    return Preview(
        run_id=run_id,
        incident_id=run.incident_id,
        batch_id=batch_id,
        payments=tuple(payments),
        decreases=tuple(decreases),
        pay_by_hand=tuple(by_hand),
        totals_minor=dict(sorted(totals.items())),
        diff=changes,
        notes=tuple(notes),
        refusals=tuple(refusals),
    )


def batch_lines(
    con: duckdb.DuckDBPyConnection, run_id: str, incident_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What approving the run would carry: its lines against what the incident paid
    (`int_batch_difference`) and the closed accounts' lines to pay by hand."""
    ids = {"run_id": run_id, "incident_id": incident_id}
    difference = db.records(db.run(con, "int_batch_difference", **ids))
    return difference, db.records(db.run(con, "int_batch_pay_by_hand", **ids))


def credited_elsewhere(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    incident_id: str,
    batch: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> list[str]:
    """A note per other incident whose published batch paid (or listed to pay by hand) some of
    the credited transactions of the lines approving this run pays (added or increased; a line
    its incident paid already is not paid again), and one per such incident for the
    transactions of the closed accounts approval lists to pay by hand: approving pays their
    customers a second time (never refused: two outages may hit one payment's retries; finance
    decides, and declines one if the windows overlap by mistake). `batch`: the run's
    `batch_lines`, when the caller has them."""
    difference, listing = batch or batch_lines(con, run_id, incident_id)
    paying = [d["credit_id"] for d in difference if d["delta_minor"] > 0]
    by_hand = [[r["customer_id"], r["currency"]] for r in listing if r["to_pay_minor"] > 0]
    found = db.run(con, "review_other_incidents", run_id=run_id, paying=paying, by_hand=by_hand)
    return [
        (
            f"{txns:,} credited transaction(s) of this run (e.g. {first}) were credited by "
            f"incident {other}'s published batch too: approving pays their customers again"
            if kind == "paid"
            else f"{txns:,} transaction(s) of this run's closed accounts (e.g. {first}) that "
            "approving lists to pay by hand were paid or listed to pay by hand by incident "
            f"{other}'s published batch too: paying them by hand pays their customers again"
        )
        + "; decline this run if the two incidents' windows overlap by mistake"
        for other, kind, txns, first in found.fetchall()
    ]


def _payment(difference: dict[str, Any]) -> dict[str, Any]:
    amount, currency = difference["delta_minor"], difference["currency"]
    return {
        "entry_id": difference["entry_id"],
        "credit_id": difference["credit_id"],
        "customer_id": difference["customer_id"],
        "currency": currency,
        "amount": money.decimal_text(amount, currency),
        "amount_minor": amount,
        "entry_kind": "initial" if difference["entry_id"].endswith("-01") else "increase",
    }
