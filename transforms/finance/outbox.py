"""A batch in the outbox: `<outbox>/incident=<id>/batch=<batch_id>/` with `credits.csv` (the
payment lines), `decreases.csv` (credits that came out lower, never paid back),
`pay_by_hand.csv` (the run's closed accounts, what is left to pay of each by hand) and
`batch.json`, the trailer, which holds the sha256 of each. A batch published by an earlier
version has `exceptions.csv` for its decreases and no `pay_by_hand.csv`: its trailer names the
files it has, and it verifies as it was written.

The files are written from the warehouse (the ledger and the batch's row), each to a temporary
name, fsynced and linked into place (never over another writer's file), the trailer last.
Everything the trailer holds was fixed when the batch was committed (the journal head and the
ledger head among it), so writing a batch again gives the same bytes; and once the trailer is
visible the batch is final: finishing it after a crash leaves its files alone and only marks it
published.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from transforms import commands, csv_lf, db, files, money
from transforms.errors import InputError, ProofFailed, WitnessUnreadable
from transforms.finance import chain, journal, rows

TRAILER = "batch.json"
# How far below a folder that is no batch its batch folders are looked for: a project's folder
# holds them at `data/outbox/incident=<id>/batch=<id>`, four levels down.
SEARCH_DEPTH = 4
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
PAY_BY_HAND_COLUMNS = (
    "batch_id",
    "incident_id",
    "run_id",
    "customer_id",
    "currency",
    "txn_count",
    "credit_owed_minor",
    "paid_minor",
    "listed_before_minor",
    "to_pay",
    "to_pay_minor",
    "detail",
)
DATA_FILES = ("credits.csv", "decreases.csv", "pay_by_hand.csv")
# The keys `trailer_of` writes, and no other: a key added to a trailer (a note telling finance
# where to pay) or taken out of it is named. A batch written before version 2 has no
# `ledger_head` (`VERSION_1_ABSENT`).
TRAILER_KEYS = frozenset(
    {
        "batch_id",
        "incident_id",
        "run_id",
        "kind",
        "row_count",
        "totals_minor",
        "entry_hash",
        "totals",
        "policy_version",
        "approved_by",
        "created_at",
        "journal_head",
        "ledger_head",
        "files",
    }
)
VERSION_1_ABSENT = frozenset({"ledger_head"})


def folder_of(root: Path, incident_id: str, batch_id: str) -> Path:
    """Where a batch of `incident_id` lands under the outbox `root`."""
    return Path(root).resolve() / f"incident={incident_id}" / f"batch={batch_id}"


def located(batch: rows.BatchRow, root: Path | None) -> Path:
    """Where a batch's files are, for this machine: under `root`, the outbox as this machine
    mounts it (a shared outbox may be mounted at another path on each machine), unless the
    trailer is only where the batch was recorded written (an earlier `--outbox` on this
    machine). A batch not written yet is finished where its first files are, else under
    `root`."""
    if root is None:
        return batch.folder
    here = folder_of(root, batch.incident_id, batch.batch_id)
    if (here / TRAILER).exists():
        return here
    started = batch.folder.is_dir() and any(batch.folder.iterdir())
    if (batch.folder / TRAILER).exists() or (started and not here.is_dir()):
        return batch.folder
    return here


def write(con: duckdb.DuckDBPyConnection, batch_id: str, root: Path) -> Path:
    """Writes a committed batch's files from the warehouse under the outbox `root`, the
    trailer last, and marks it published; a batch whose trailer is already visible is final
    and its files are left alone."""
    batch = rows.batch(con, batch_id)
    assert batch is not None, batch_id  # committed by the caller
    folder = located(batch, root)
    if not (folder / TRAILER).exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in render(con, batch_id).items():
            _write_once(folder / name, data, batch)
        # A batch committed by an earlier version has no heads recorded: those of now.
        trailer = trailer_of(batch, folder, batch.journal_head or journal.head(con))
        db.before_final(con)  # the writer still the one writer (a store's lock not lost)
        text = json.dumps(trailer, indent=2, sort_keys=True) + "\n"
        _write_once(folder / TRAILER, text.encode("utf-8"), batch)
    # never before its commit, even on a clock set back meanwhile (`proof` names such a time)
    published_at = max(datetime.now(UTC), batch.created_at)
    db.run(con, "batch_mark_published", batch_id=batch_id, published_at=published_at)
    return folder


PUBLISHED_AT = "batches_published_at"  # the key of an `approved` entry's detail that holds them


def publication_times(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The publication time (`write`'s) of each batch committed since the journal's last
    approval, all published by now (an approval finishes the batches left writing before it
    decides), for the next approval's journal entry (`PUBLISHED_AT`): no trailer or chain holds
    that time, and `proof` checks each batch's record against it."""
    entries = journal.entries(con)
    last = max((e.seq for e in entries if e.event == "approved"), default=0)
    since = {e.detail.get("batch_id") for e in entries if e.event == "published" and e.seq > last}
    times = {
        b.batch_id: b.published_at.astimezone(UTC).isoformat()
        for b in rows.batches(con, "batches_of", incident_id=None)
        if b.batch_id in since and b.published_at is not None
    }
    return {PUBLISHED_AT: dict(sorted(times.items()))} if times else {}


def _write_once(path: Path, data: bytes, batch: rows.BatchRow) -> None:
    """Writes a file of the batch, never over another writer's: two warehouses that each
    committed this batch (a DuckDB file copied to a second machine, both approving into one
    outbox) replaced each other's files and a visible trailer, each saying it had published.
    The same bytes there are a writer's that was stopped (or cut off) finishing the same batch."""
    if files.write_once(path, data) is None:
        return
    raise ProofFailed(
        f"batch {batch.batch_id}: not made final here: {path} is already there with other "
        "bytes, left as they are",
        [
            f"{path.name}: already there with other bytes than this warehouse's batch "
            f"{batch.batch_id} (run {batch.run_id}, approved by {batch.approved_by}): another "
            f"warehouse paying {batch.incident_id} into this outbox wrote it (a copy of this "
            "warehouse on another machine?), or the file was changed. This warehouse's batch is "
            "left unfinished, its payments in its ledger only: find out which warehouse is the "
            f"real one (`{commands.credits('audit --verify')}` on each) before anything is "
            "approved"
        ],
    )


def trailer_of(batch: rows.BatchRow, folder: Path, journal_head: str) -> dict[str, Any]:
    """The trailer of `batch`, whose data files are written in `folder`: its record, the
    control totals of its credits.csv (in minor units, and as decimals), and each file's
    sha256."""
    totals = control_totals(read_lines(folder))
    return {
        "batch_id": batch.batch_id,
        "incident_id": batch.incident_id,
        "run_id": batch.run_id,
        "kind": batch.kind,
        **totals,
        "totals": decimal_totals(totals["totals_minor"]),
        "policy_version": batch.policy_version,
        "approved_by": batch.approved_by,
        "created_at": batch.created_at.astimezone(UTC).isoformat(),
        "journal_head": journal_head,
        "ledger_head": batch.ledger_head,
        "files": {n: files.sha256(folder / n) for n in DATA_FILES},
    }


def decimal_totals(totals_minor: dict[str, int]) -> dict[str, str]:
    """Totals per currency as the trailer writes them for people: 4000 USD -> "40.00"."""
    return {c: money.decimal_text(v, c) for c, v in totals_minor.items()}


def render(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict[str, bytes]:
    """A committed batch's data files (`DATA_FILES`) as bytes, from the warehouse's rows of the
    batch alone: the same bytes whenever they are rendered, before or after the commit."""
    lines = db.arrow(con, "batch_lines", batch_id=batch_id)
    amounts = map(
        money.decimal_text, lines["amount_minor"].to_pylist(), lines["currency"].to_pylist()
    )
    lines = lines.append_column("amount", pa.array(amounts, pa.string()))
    decreases = db.arrow(con, "batch_exceptions_of", batch_id=batch_id)
    by_hand = db.arrow(con, "batch_pay_by_hand_of", batch_id=batch_id)
    to_pay = map(
        money.decimal_text, by_hand["to_pay_minor"].to_pylist(), by_hand["currency"].to_pylist()
    )
    by_hand = by_hand.append_column("to_pay", pa.array(to_pay, pa.string()))
    return {
        "credits.csv": csv_lf.file_bytes(BATCH_COLUMNS, lines),
        "decreases.csv": csv_lf.file_bytes(BATCH_EXCEPTION_COLUMNS, decreases),
        "pay_by_hand.csv": csv_lf.file_bytes(PAY_BY_HAND_COLUMNS, by_hand),
    }


def digests(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict[str, str]:
    """The sha256 of each of the batch's data files as `render` makes them: what the journal
    records when the batch is committed, so that a file (and its trailer) rewritten later in
    the outbox no longer matches a record the outbox cannot change."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in render(con, batch_id).items()}


def verify(path: Path) -> list[str]:
    """Recomputes a published batch's control totals; returns every mismatch (empty: verified)."""
    folder = batch_folder(path)
    problems, _ = check(folder, read_trailer(folder))
    return problems


def leftovers(folder: Path) -> list[str]:
    """A final batch's folder (its trailer there) holding temporary files: a writer killed
    while it wrote a file left a copy of its data under a name of its own, which no later writer
    reuses or removes (removing another writer's could cut one still writing). A warning, not
    a mismatch: the batch proves itself by its trailer."""
    if not (folder / TRAILER).is_file():
        return []
    return [
        f"{folder}: {path.name} is what a writer killed while it wrote the batch left (a copy of "
        "payment data, not part of the batch): safe to delete now that batch.json is there, "
        "once no approval is running"
        for path in files.temporaries(folder)
    ]


def batch_folder(path: Path) -> Path:
    """The batch folder `path` names (the folder, or its trailer), absolute without following
    links (`.` inside it has the folder's name; a link keeps its own: a name of the outbox's
    layout must be the batch's, `check`); `InputError` naming the batch folders near it when
    it is none."""
    folder = path.parent if path.name == TRAILER else path
    if not os.path.lexists(folder / TRAILER):  # a trailer replaced (a pipe): `read_trailer`'s
        raise InputError(_not_a_batch(folder))
    return Path(os.path.abspath(folder))


def _not_a_batch(folder: Path, shown: int = 10) -> str:
    """Why `folder` is no batch folder (an unfinished batch's: `_not_final`), and the batch
    folders below it (or below its nearest existing parent): `verify-batch data/outbox`."""
    where = files.nearest_folder(folder)
    what = f"{folder}: not a batch folder (no {TRAILER})"
    if folder.is_dir() and folder.name.startswith("batch=") and "incident=" in folder.parent.name:
        return _not_final(folder)
    if folder.is_file() and (folder.parent / TRAILER).is_file():  # a file of a batch: its folder
        return f"{folder}: a file, not a batch folder; give its folder: {folder.parent}"
    if where != folder:
        what = f"{folder}: {'a file' if folder.exists() else 'no such folder'}"
    found = _batch_folders_below(where)
    if not found:
        return f"{what}; no batch folder below {where}"
    more = f" and {len(found) - shown} more" if len(found) > shown else ""
    return f"{what}; the batch folders below {where}: {', '.join(found[:shown])}{more}"


def _not_final(folder: Path) -> str:
    return (  # a batch's folder of the outbox's layout without its trailer
        f"{folder}: batch {folder.name.removeprefix('batch=')} is not final (no {TRAILER}): an "
        "approval was stopped while it wrote the batch, or is writing it now; nothing in it may "
        "be picked up. Its payments are committed in the ledger: the next approval "
        f"({commands.credits('approve RUN_ID --by NAME')}, of this run or any other) finishes "
        "it first, paying nothing twice; then verify it again"
    )


def _batch_folders_below(where: Path) -> list[str]:
    """The batch folders at most `SEARCH_DEPTH` levels below `where` (`files.near`)."""
    return sorted(
        str(folder) for folder, names in files.near(where, SEARCH_DEPTH) if TRAILER in names
    )


def check(folder: Path, trailer: dict[str, Any]) -> tuple[list[str], pa.Table | None]:
    """A batch's files and payment lines against its trailer: every mismatch, and the lines
    (None when credits.csv cannot be read as a batch's credit file)."""
    problems = []
    for part, key in ((folder.parent.name, "incident"), (folder.name, "batch")):
        named, said = part.removeprefix(f"{key}="), trailer.get(f"{key}_id")
        if part.startswith(f"{key}=") and named != said:  # in the outbox's layout
            problems.append(
                f"{key}_id: the folder is {part}, the trailer says {said}: a batch copied or "
                "moved where another belongs (finance would pay it again)"
            )
    problems += _check_keys(trailer)
    listed = trailer.get("files")
    if not isinstance(listed, dict):
        problems.append(f"files: the trailer lists no files with their sha256 ({listed!r})")
        listed = {}
    for name, digest in sorted(listed.items()):
        path = folder / name
        actual = (
            files.sha256(path) if path.is_file() else "not a file" if path.exists() else "missing"
        )
        if actual != digest:
            problems.append(f"{name}: sha256 is {actual}, the trailer says {digest}")
    problems += _check_entries(folder, listed)
    try:
        lines = read_lines(folder) if (folder / "credits.csv").is_file() else _no_lines()
        recomputed = control_totals(lines)
    except (InputError, ValueError) as error:
        return [*problems, f"credits.csv: cannot be read as a batch's credit file ({error})"], None
    recomputed["totals"] = decimal_totals(recomputed["totals_minor"])  # as `trailer_of` writes
    for key in ("row_count", "totals_minor", "totals", "entry_hash"):
        if recomputed[key] != trailer.get(key):
            problems.append(
                f"{key}: the file gives {recomputed[key]}, the trailer says {trailer.get(key)}"
            )
    versions = sorted(set(lines["policy_version"].to_pylist()))
    if versions and versions != [trailer.get("policy_version")]:
        problems.append(
            f"policy_version: lines say {versions}, the trailer {trailer.get('policy_version')}"
        )
    if any(line != trailer.get("batch_id") for line in set(lines["batch_id"].to_pylist())):
        problems.append("batch_id: a line belongs to another batch")
    return problems, lines


def _check_entries(folder: Path, listed: dict[str, Any]) -> list[str]:
    """Each visible entry of the batch folder that is no part of the batch (not the trailer or
    a file it lists): a second credit file added would be paid by whoever collects the folder's
    files; and each of the batch's files that is a symbolic link, which the product never
    writes: what finance pays would be whatever the link's target holds by then. Hidden entries
    are left to `leftovers`: a killed writer's temporaries, and what file systems and file
    browsers add to a shared folder (NFS's `.nfs*`, macOS's `.DS_Store`, `._*`)."""
    known = {TRAILER, *listed}
    problems = []
    for path in sorted(folder.iterdir()):
        if path.name not in known and not path.name.startswith("."):
            problems.append(
                f"{path.name}: in the batch folder, but no batch is written with it (added "
                "since): finance would take it for part of the batch"
            )
        elif path.name in known and path.is_symlink():
            problems.append(
                f"{path.name}: a symbolic link (to {os.readlink(path)}), not the file the batch "
                "was written with: what it points to can change after it is checked"
            )
    return problems


def _check_keys(trailer: dict[str, Any]) -> list[str]:
    """Each key of the trailer the product never writes (added after it was written: a note
    for finance is no part of a batch), and each it always writes that is missing (but
    `ledger_head`, which a batch written before version 2 has not: `batch_proof` asks for it
    when the warehouse recorded one)."""
    added = sorted(set(trailer) - TRAILER_KEYS)
    missing = sorted(TRAILER_KEYS - VERSION_1_ABSENT - set(trailer))
    return [
        f"{key}: the trailer holds a key no batch is written with (added since)" for key in added
    ] + [f"{key}: missing from the trailer (removed since it was written)" for key in missing]


def read_trailer(folder: Path) -> dict[str, Any]:
    """A batch's trailer; `InputError` naming it when it is missing, `WitnessUnreadable` (exit 3)
    when not a regular file (a named pipe a read would wait on, a link to a device such as
    /dev/zero, read without end), not JSON (cut short) or not a JSON object."""
    path = folder / TRAILER
    if path.exists() and not path.is_file() and not path.is_dir():
        raise WitnessUnreadable(
            f"{path}: not a regular file (a named pipe, or a link to a device): no batch trailer "
            "this product writes; it was replaced since"
        )
    try:
        trailer = chain.parsed_once(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no batch trailer; is this a batch folder?") from None
    except ValueError as error:  # not JSON, not UTF-8, nested too deep
        raise WitnessUnreadable(f"{path}: not valid JSON ({error})") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not a batch trailer") from None
    if not isinstance(trailer, dict):
        raise WitnessUnreadable(f"{path}: not a batch trailer (a JSON object), but {trailer!r:.40}")
    return trailer


def read_lines(folder: Path) -> pa.Table:
    """A batch's payment lines as its credits.csv has them: every column as text."""
    path = folder / "credits.csv"
    try:
        lines = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(BATCH_COLUMNS, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise InputError(f"{path}: not a batch's credit file ({error})") from None
    if lines.column_names != list(BATCH_COLUMNS):
        raise InputError(f"{path}: its columns are not {', '.join(BATCH_COLUMNS)}")
    return lines


def control_totals(lines: pa.Table) -> dict[str, Any]:
    """Row count, totals per currency and the entry hash of a batch's payment lines."""
    totals: Counter[str] = Counter()
    for currency, amount in zip(
        lines["currency"].to_pylist(), lines["amount_minor"].to_pylist(), strict=True
    ):
        totals[currency] += int(amount)
    return {
        "row_count": lines.num_rows,
        "totals_minor": dict(sorted(totals.items())),
        "entry_hash": entry_hash(sorted(lines["credit_id"].to_pylist())),
    }


def entry_hash(credit_ids: list[str]) -> str:
    """sha256 of the sorted credit ids, one per line."""
    return hashlib.sha256("\n".join(credit_ids).encode()).hexdigest()


def _no_lines() -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in BATCH_COLUMNS})
