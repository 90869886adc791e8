"""Proof of each batch's record where no trailer shows it: its state against the journal's
approvals (`states`), its folder and publication time against its `published` entry and the
next approval's (`committed`). `proof.check` runs them with the other checks."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import duckdb

from transforms import commands
from transforms.errors import ProofFailed
from transforms.finance import chain, journal, outbox, rows
from transforms.finance.rows import BatchRow, BatchState


def batch_of(entry: journal.Entry) -> str | None:
    """The batch a `published` entry names; None when it names none, or a value the product
    never writes there (an edit, which the entry's link names)."""
    batch_id = entry.detail.get("batch_id")
    return batch_id if isinstance(batch_id, str) else None


def states(entries: list[journal.Entry], batches: list[BatchRow]) -> list[str]:
    """A batch left `writing` although an approval was journaled after it was committed: every
    approval finishes the batches left writing before it decides, so its state was set back
    (which would have the next approval write it into the outbox again)."""
    committed = {batch_of(e): e.seq for e in entries if e.event == "published"}
    approvals = [e.seq for e in entries if e.event == "approved"]
    problems = []
    for batch in batches:
        if batch.state != BatchState.WRITING or batch.batch_id not in committed:
            continue
        later = next((s for s in approvals if s > committed[batch.batch_id]), None)
        if later is not None:
            problems.append(
                f"batch {batch.batch_id}: marked writing, but an approval was journaled after "
                f"it was committed (journal entry {later}), which finished it first: its state "
                "was set back"
            )
    return problems


def committed(entries: list[journal.Entry], batches: list[BatchRow]) -> list[str]:
    """Each batch's record against what no trailer holds: its folder against the one its
    `published` journal entry recorded (batches committed before it did have none to check),
    and its publication time against its state and, for a batch whose `published` entry recorded
    its folder (this version's), against its commit (`outbox.write` never sets one before the
    commit, even on a clock set back; an earlier version's batch finished on a machine whose
    clock was behind may have one)."""
    folders = {
        batch_of(e): (e.seq, e.detail["folder"])
        for e in entries
        if e.event == "published" and batch_of(e) and "folder" in e.detail
    }
    problems = _publication_times(entries, batches)
    for batch in batches:
        name = f"batch {batch.batch_id}"
        if batch.batch_id in folders:
            seq, folder = folders[batch.batch_id]
            if str(batch.folder) != folder:
                problems.append(
                    f"{name}: the warehouse records folder {chain.quoted(str(batch.folder))}, "
                    f"journal entry {seq} recorded {chain.quoted(folder)} when the batch was "
                    "committed: the batch's record was edited"
                )
        published_at = batch.published_at
        if batch.state == BatchState.PUBLISHED and published_at is None:
            problems.append(
                f"{name}: published, but the warehouse records no time it was published: the "
                "batch's record was edited"
            )
        elif batch.state == BatchState.WRITING and published_at is not None:
            problems.append(
                f"{name}: left writing, but the warehouse records it published at "
                f"{published_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z: the batch's record was "
                "edited"
            )
        elif (
            # only a batch this version published: its time is never before the commit; one
            # an earlier version finished on a machine whose clock was behind may be
            batch.batch_id in folders
            and published_at is not None
            and published_at < batch.created_at
        ):
            problems.append(
                f"{name}: published before it was committed (published_at "
                f"{published_at.astimezone(UTC).isoformat()}, created_at "
                f"{batch.created_at.astimezone(UTC).isoformat()}): the batch's record was edited"
            )
    return problems


def _publication_times(entries: list[journal.Entry], batches: list[BatchRow]) -> list[str]:
    """Each batch's publication time against the one the next approval journaled
    (`outbox.publication_times`): a time moved after the commit, where no order shows it. A
    batch no approval followed yet has none to check."""
    journaled = {
        batch_id: (e.seq, at)
        for e in entries
        if e.event == "approved" and isinstance(e.detail.get(outbox.PUBLISHED_AT), dict)
        for batch_id, at in e.detail[outbox.PUBLISHED_AT].items()
    }
    problems = []
    for batch in batches:
        if batch.batch_id not in journaled or batch.published_at is None:
            continue  # none journaled, or no time (named by `_check_committed`)
        seq, at = journaled[batch.batch_id]
        found = batch.published_at.astimezone(UTC).isoformat()
        if found != at:
            problems.append(
                f"batch {batch.batch_id}: the warehouse records it published at {found}, journal "
                f"entry {seq} (the next approval) recorded {chain.quoted(str(at))}: the batch's "
                "record was edited"
            )
    return problems


def final_folder(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """`outbox.batch_folder` for `verify-batch`, but a folder of the outbox's layout without its
    trailer whose batch the warehouse records published is `ProofFailed` (exit 3): its trailer
    was deleted after publication, which the next approval refuses, where the folder was called
    one an approval left unfinished, to be finished by the next."""
    folder = path.parent if path.name == outbox.TRAILER else path
    batch = rows.batch(con, folder.name.removeprefix("batch="))
    if (folder / outbox.TRAILER).exists() or batch is None or batch.state != BatchState.PUBLISHED:
        return outbox.batch_folder(path)
    when = f"{batch.published_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if batch.published_at else ""
    raise ProofFailed(
        f"{folder}: batch {batch.batch_id}: its trailer {outbox.TRAILER} is missing, but the "
        f"warehouse records it published (approved by {batch.approved_by}, {when}): it was "
        "deleted since, so nothing in the folder may be picked up, and every approval of "
        f"{batch.incident_id} refuses until it is put back from a copy taken out of the outbox "
        f"(`{commands.credits('audit --verify')}` lists every finding)",
        [],
    )
