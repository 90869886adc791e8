"""One published batch's folder against the warehouse: its trailer's heads in the journal's and
the ledger's chains, its record, each data file against the sha256 the journal recorded when it
was committed, and its payment lines against the ledger's entries. `proof` runs it on every
batch of the incidents it checks, and on the folder `credits verify-batch` is given.
"""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa

from transforms import files, money
from transforms.errors import InputError
from transforms.finance import chain, ledger_entries, outbox
from transforms.finance.rows import BatchRow

SHOWN_PER_BATCH = 20  # differences listed per batch before "and N more"
LINE_FIELDS = ("credit_id", "customer_id", "currency", "amount_minor")


def check(
    batch: BatchRow,
    folder: Path,
    entries: list[ledger_entries.Entry],
    journal_hashes: frozenset[str],
    ledger_hashes: frozenset[str],
    journaled: dict[str, str] | None,
) -> list[str]:
    """A batch's trailer and files against the warehouse: its heads in the chains, its lines
    against the ledger, and each file against the sha256 the journal recorded when the batch
    was committed (`journaled`; None for a batch an earlier version published)."""
    name = f"batch {batch.batch_id}"
    if not (folder / outbox.TRAILER).exists():
        also = "" if folder == batch.folder else f", nor where it was written ({batch.folder})"
        return [
            f"{name}: its trailer {folder / outbox.TRAILER} is missing{also} (the outbox is "
            "the witness: keep published batches where they were written; give `--outbox` "
            "where this machine mounts the outbox)"
        ]
    try:
        trailer = outbox.read_trailer(folder)
        found, lines = outbox.check(folder, trailer)
    except (InputError, OSError) as error:
        return [f"{name}: its files cannot be read ({error})"]
    problems = [f"{name}: {p}" for p in found]
    if trailer.get("batch_id") != batch.batch_id:
        problems.append(f"{name}: its trailer is that of batch {trailer.get('batch_id')}")
    problems += _compare_record(name, batch, trailer, journaled is not None)
    head = trailer.get("journal_head")
    if not isinstance(head, str) or head not in journal_hashes | {chain.GENESIS}:
        problems.append(
            f"{name}: its trailer records journal head {str(head)[:16]}..., which is not in the "
            "journal: the journal was rewritten, or entries were cut off its end"
        )
    head = trailer.get("ledger_head")
    if (
        "ledger_head" in trailer
        and head is not None
        and (not isinstance(head, str) or head not in ledger_hashes | {chain.GENESIS})
    ):
        problems.append(
            f"{name}: its trailer records ledger head {str(head)[:16]}..., which is not in the "
            f"ledger of {batch.incident_id}: entries were rewritten, or cut off its end"
        )
    problems += _compare_journaled(name, folder, trailer, journaled)
    return problems + (_compare_lines(name, lines, entries) if lines is not None else [])


def linked_folders(name: str, folder: Path) -> list[str]:
    """The batch's folder in the outbox, or its incident's, that is a symbolic link: the product
    writes neither so; what finance collects through it is whatever its target holds by then (a
    batch file linked so is `outbox.check`'s; a link finance made out of the outbox to a batch,
    given to `verify-batch`, is no finding)."""
    return [
        f"{name}: {place}: a symbolic link (to {os.readlink(place)}), not the folder the batch "
        "was written in: what it points to can change after it is checked; put the folder back"
        for place in (folder.parent, folder)
        if place.is_symlink()
    ]


def _compare_journaled(
    name: str, folder: Path, trailer: dict[str, Any], journaled: dict[str, str] | None
) -> list[str]:
    """Each data file, and the trailer's sha256 of it, against the journal's record: a file
    rewritten together with its trailer still differs from the record."""
    if journaled is None:
        return []
    problems = []
    for file, digest in sorted(journaled.items()):
        path = folder / file
        actual = files.sha256(path) if path.is_file() else None
        if actual != digest:
            problems.append(
                f"{name}: {file} is not the file the journal recorded when the batch was "
                f"committed (sha256 {str(actual)[:16]}..., journaled {digest[:16]}...): it was "
                "changed in the outbox"
            )
    if trailer.get("files") != journaled:
        problems.append(
            f"{name}: its trailer's sha256 of the files are not those the journal recorded"
        )
    return problems


def _compare_lines(name: str, lines: pa.Table, entries: list[ledger_entries.Entry]) -> list[str]:
    """The batch's payment lines against the ledger's entries of the batch, by entry_id."""
    columns = (lines[f].to_pylist() for f in ("entry_id", *LINE_FIELDS))
    paid_rows = set(zip(*columns, strict=True))
    recorded_rows = {
        (e.entry_id, e.credit_id, e.customer_id, e.currency, str(e.amount_minor)) for e in entries
    }
    if paid_rows == recorded_rows:
        return []
    paid = {entry_id: tuple(fields) for entry_id, *fields in paid_rows}
    recorded = {entry_id: tuple(fields) for entry_id, *fields in recorded_rows}
    problems = []
    for entry_id in sorted(paid.keys() - recorded.keys()):
        credit_id, customer_id, currency, amount = paid[entry_id]
        problems.append(
            f"{name}: pays entry {entry_id} ({customer_id}, "
            f"{currency} {money.decimal_text(int(amount), currency)}) but the ledger has no such "
            "entry in this batch (deleted or moved)"
        )
    for entry_id in sorted(recorded.keys() - paid.keys()):
        problems.append(
            f"ledger entry {entry_id}: says batch {name.split()[-1]}, whose credits.csv does not "
            "pay it (added or moved)"
        )
    for entry_id in sorted(paid.keys() & recorded.keys()):
        for field, ours, theirs in zip(
            LINE_FIELDS, recorded[entry_id], paid[entry_id], strict=True
        ):
            if ours != theirs:
                problems.append(
                    f"ledger entry {entry_id}: {field} is {ours} in the ledger, {theirs} in "
                    f"{name}'s credits.csv"
                )
    if len(problems) > SHOWN_PER_BATCH:
        problems = [
            *problems[:SHOWN_PER_BATCH],
            f"{name}: and {len(problems) - SHOWN_PER_BATCH} more",
        ]
    return problems


def _compare_record(
    name: str, batch: BatchRow, trailer: dict[str, Any], anchored: bool
) -> list[str]:
    """The warehouse's record of a batch (who approved it, for which run, its totals, its
    heads) against its trailer, which the outbox keeps as it was written: a record edited
    afterwards. `anchored`: the journal recorded the batch's files when it was committed, so
    the version that committed it recorded its heads too (a head set to NULL is an edit)."""
    recorded = {
        "incident_id": batch.incident_id,
        "run_id": batch.run_id,
        "kind": batch.kind,
        "row_count": batch.row_count,
        "totals_minor": batch.totals_minor,
        "entry_hash": batch.entry_hash,
        "policy_version": batch.policy_version,
        "approved_by": batch.approved_by,
        "created_at": batch.created_at.astimezone(UTC).isoformat(),
    }
    # heads recorded by version 2 on (a trailer of an older batch holds those of its writing)
    recorded |= {
        name: head
        for name, head in (("journal_head", batch.journal_head), ("ledger_head", batch.ledger_head))
        if head is not None or anchored
    }
    problems = [
        f"{name}: the warehouse records {field} {chain.quoted(value)}, its trailer "
        f"{chain.quoted(trailer.get(field))}: "
        "the batch's record was edited after it was written"
        for field, value in recorded.items()
        if field in trailer and trailer[field] != value
    ]
    # `outbox.check` names any other key missing; a trailer of version 1 has no ledger head
    if batch.ledger_head is not None and "ledger_head" not in trailer:
        problems.append(
            f"{name}: ledger_head: missing from the trailer (removed since it was written); the "
            f"warehouse records {batch.ledger_head[:16]}..."
        )
    return problems
