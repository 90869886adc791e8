"""Proof that the journal, the ledger and the published batches agree and were not changed.

`check` finds, each as a sentence naming the entry or the batch:
- a break in the journal's chain, or in an incident's ledger chain (`chain`): an entry edited,
  deleted, moved or added;
- a published batch (or one left writing whose trailer is already there) whose trailer (in the
  outbox, an external witness) is missing, whose files no longer match it or the sha256 the
  journal recorded when the batch was committed, whose recorded journal head or ledger head is
  not in the chain (the chain was rewritten, or cut after the batch), or whose payment lines
  are not exactly the ledger's entries of that batch (`batch_proof`, which `verify_batch` runs
  on one folder too);
- a trailer in the outbox that the warehouse does not know, a ledger entry of an unknown batch,
  a `published` journal entry whose batch is not in the warehouse;
- a batch whose rows in the warehouse (its payments, decreases and accounts to pay by hand) no
  longer render the files the journal recorded when it was committed, or that is marked
  `writing` although a later approval (which finishes every batch left writing first) was
  journaled after it;
- a run the warehouse holds as pending or decided that the journal contradicts (`run_proof`);
- for the audit (`audit`), a sealed run's folder whose manifest.json or outputs changed since
  the seal;
- a journal that lacks the head the outbox kept after a decision, or the decision a run folder
  kept (`outbox_head`): a warehouse restored from an older backup, or another warehouse
  deciding into the same outbox or on the same run.
Keyed links without the key are listed apart: unverified, not tampered.

`gather` reads what the checks need from the warehouse, so that a reader can close the file
before the outbox is read; `witnesses` reads what names what the warehouse must hold (the
trailers, the journal heads, the run folders' decisions) before it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import commands, db
from transforms.errors import ConfigError, InputError, ProofFailed
from transforms.finance import (
    batch_proof,
    batch_records,
    chain,
    journal,
    ledger_entries,
    outbox,
    outbox_head,
    pg_location,
    pg_store,
    rows,
    run_proof,
    warehouse,
)
from transforms.finance.batch_records import batch_of
from transforms.finance.rows import BatchRow, BatchState, RunRow
from transforms.finance.witnesses import Witnesses


@dataclass(frozen=True)
class Records:
    """What the warehouse says: the whole journal, and the ledger and batches of the incidents
    checked (every incident when `incident_ids` is None)."""

    incident_ids: frozenset[str] | None
    journal: list[journal.Entry]
    ledger: list[ledger_entries.Entry]
    batches: list[BatchRow]
    runs: list[RunRow]
    rendered: dict[str, dict[str, str]]  # each batch's data files' sha256 from its rows
    # for the audit (`gather_for_audit`): the runs whose rows are not those sealed
    run_rows: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Findings:
    """What the checks found, and how much they covered."""

    tampered: list[str]
    unverified: list[str]
    journal_entries: int
    ledger_entries: int
    batches_checked: int
    unfinished: list[str] = dataclasses.field(default_factory=list)  # left writing by an approval
    elsewhere: list[str] = dataclasses.field(default_factory=list)  # not under the outbox given
    leftovers: list[str] = dataclasses.field(default_factory=list)  # a killed writer's temp files
    # what this machine could not check: a kept decision it may not read, run folders it does
    # not reach (another machine's output folder)
    unchecked: list[str] = dataclasses.field(default_factory=list)
    unreached: list[str] = dataclasses.field(default_factory=list)


def gather(con: duckdb.DuckDBPyConnection, incident_ids: Iterable[str] | None = None) -> Records:
    """Reads the journal, and the ledger entries and batches of `incident_ids` (None: all);
    a warehouse missing one of its tables does not prove itself (`require_tables`)."""
    require_tables(con)
    wanted = None if incident_ids is None else frozenset(incident_ids)
    ledger = []
    batches = []
    runs = []
    for incident_id in sorted(wanted) if wanted is not None else [None]:
        ledger += ledger_entries.entries(con, incident_id)
        batches += rows.batches(con, "batches_of", incident_id=incident_id)
        runs += rows.runs(con, "runs_of", incident_id=incident_id)
    rendered = {b.batch_id: outbox.digests(con, b.batch_id) for b in batches}
    return Records(wanted, journal.entries(con), ledger, batches, runs, rendered)


def gather_for_audit(con: duckdb.DuckDBPyConnection) -> Records:
    """`gather` of every incident, and each pending or published run's rows against the
    manifest its seal recorded (`run_proof.check_rows`): what `audit` proves beside `check`."""
    records = gather(con)
    return dataclasses.replace(records, run_rows=run_proof.check_rows(con, records.runs))


def require_tables(con: duckdb.DuckDBPyConnection) -> None:
    """`ProofFailed` (exit 3) naming each of the warehouse's tables it lacks: dropped behind
    its back, or a file that is not a whole warehouse (read before any writer would make the
    table again, empty)."""
    present = {name for (name,) in db.run(con, "warehouse_table_names").fetchall()}
    missing = sorted({t.name for t in pg_store.TABLES} - present)
    if missing:
        raise ProofFailed(
            "the warehouse does not prove itself: nothing was paid or written",
            [
                f"the warehouse has no table {name}: it was dropped, or the file is not a whole "
                "warehouse; restore it from a backup"
                for name in missing
            ],
        )


def check(
    records: Records, key: bytes | None, witnesses: Witnesses, resumed: str | None = None
) -> Findings:
    """Every finding over `records`, their batches' folders and the outbox's `witnesses`,
    read before `records` (for the incidents checked); `resumed`: the run whose decision is
    taken again (`outbox_head.missing`)."""
    outbox_root = witnesses.root
    journal_check = chain.verify(journal.NAME, [e.linked() for e in records.journal], key)
    ledger_check = ledger_entries.verify(records.ledger, key)
    tampered = [*journal_check.tampered, *ledger_check.tampered]
    by_batch: dict[str, list[ledger_entries.Entry]] = defaultdict(list)
    for entry in records.ledger:
        by_batch[entry.batch_id].append(entry)
    known = {b.batch_id for b in records.batches}
    tampered += [
        f"{e.linked().label}: its batch {e.batch_id} is not in the warehouse"
        for e in records.ledger
        if e.batch_id not in known
    ]
    anchored = _anchored(records)
    checked = 0
    unfinished: list[str] = []
    elsewhere: list[str] = []
    leftovers: list[str] = []
    for batch in records.batches:
        folder = outbox.located(batch, outbox_root)
        if batch.state != BatchState.PUBLISHED and not (folder / outbox.TRAILER).exists():
            # its ledger entries are committed, its files not final: approve finishes it
            unfinished.append(
                f"batch {batch.batch_id}: left writing by an approval that was stopped: not in "
                "the outbox yet (nothing for finance to pick up, no customer paid by it); the "
                "next approval, of any run, finishes it first"
            )
            continue
        checked += 1  # published, or written up to its trailer (final: approve only marks it)
        leftovers += outbox.leftovers(folder)
        if outbox_root is not None and folder != outbox.folder_of(
            outbox_root, batch.incident_id, batch.batch_id
        ):
            elsewhere.append(
                f"batch {batch.batch_id}: not under the outbox {outbox_root}; checked where it "
                f"was written, {folder}"
            )
        tampered += batch_proof.linked_folders(f"batch {batch.batch_id}", folder)
        tampered += batch_proof.check(
            batch,
            folder,
            by_batch[batch.batch_id],
            journal_check.hashes,
            ledger_check.hashes,
            anchored.get(batch.batch_id),
        )
    tampered += _check_rendered(records, anchored)
    tampered += batch_records.states(records.journal, records.batches)
    tampered += batch_records.committed(records.journal, records.batches)
    tampered += run_proof.check_runs(records.runs, records.journal)
    tampered += run_proof.missing_runs(records.runs, records.journal, records.incident_ids)
    tampered += _unknown_trailers(records, known, witnesses.trailers)
    tampered += _stray_trailers(records, witnesses.strays)
    tampered += outbox_head.check(witnesses.heads, records.incident_ids, records.journal)
    # the run folders' decisions as read before the warehouse, else now (under the lock), of
    # the incidents checked
    kept = witnesses.runs
    if kept is None:
        kept = outbox_head.runs_kept(run.run_folder for run in records.runs)
    if records.incident_ids is not None:
        folders = {f"incident={incident_id}" for incident_id in records.incident_ids}
        kept = {path: head for path, head in kept.items() if path.parent.parent.name in folders}
    tampered += outbox_head.check_runs(kept, records.journal)
    copies = run_proof.misplaced(kept, records.journal)
    tampered += list(copies.values())
    own = {path: head for path, head in kept.items() if path not in copies}
    tampered += outbox_head.missing(
        outbox_root, witnesses.seen(), own, records.incident_ids, records.journal, resumed
    )
    # a head of the outbox, finance's own folder, that this login may not read is a finding (it
    # may be one put back to hide a restored backup); another machine's run decision is not
    # checked, and named so
    tampered += outbox_head.unreadable(witnesses.heads, records.incident_ids)
    unchecked = outbox_head.unreadable(kept, records.incident_ids)
    tampered += [
        f"journal entry {e.seq}: says batch {batch_of(e)} was published; the warehouse has no "
        "such batch"
        for e in records.journal
        if e.event == "published"
        and batch_of(e)
        and (records.incident_ids is None or e.incident_id in records.incident_ids)
        and batch_of(e) not in known
    ]
    return Findings(
        tampered,
        [*journal_check.unverified, *ledger_check.unverified],
        len(records.journal),
        len(records.ledger),
        checked,
        unfinished,
        elsewhere,
        leftovers,
        unchecked,
        run_proof.unreached(records.runs),
    )


def audit(records: Records, key: bytes | None, witnesses: Witnesses) -> Findings:
    """`check`, the runs' rows (`gather_for_audit`), and every sealed run's folder this machine
    reaches against the manifest the warehouse recorded (`run_proof.check_folders`): what
    `credits audit --verify` proves. An approval checks its own run's folder and rows
    (`approval.require_as_sealed`)."""
    found = check(records, key, witnesses)
    changed, unread = run_proof.check_folders(records.runs)
    return dataclasses.replace(
        found,
        tampered=[*found.tampered, *records.run_rows, *changed],
        unchecked=[*found.unchecked, *unread],
    )


@dataclass(frozen=True)
class BatchVerified:
    """What `verify_batch` found, and whether against the journal or the trailer alone."""

    problems: list[str]
    against_journal: bool
    # keyed links of the chains the batch is checked against, not checked for want of the key
    unverified: list[str] = dataclasses.field(default_factory=list)
    leftovers: list[str] = dataclasses.field(default_factory=list)  # `outbox.leftovers`


def verify_batch(path: Path, location: str, key: bytes | None) -> BatchVerified:
    """A batch folder (or its trailer) as finance picked it up, checked against the warehouse
    at `location` (`check_folder`); against its own trailer only when no warehouse is there."""
    if not pg_location.is_url(location) and not Path(location).exists():
        folder = outbox.batch_folder(path)
        found = BatchVerified(outbox.check(folder, outbox.read_trailer(folder))[0], False)
    else:
        with warehouse.connect_current(location) as con:
            folder = batch_records.final_folder(con, path)  # its trailer deleted: exit 3
            found = check_folder(con, key, folder)
    return dataclasses.replace(found, leftovers=outbox.leftovers(folder))


def check_folder(con: duckdb.DuckDBPyConnection, key: bytes | None, folder: Path) -> BatchVerified:
    """One batch folder, wherever finance picked it up, against the warehouse: the batch its
    trailer names must be there under that name, and its trailer and files those the journal
    recorded when the batch was committed (a batch rewritten with its trailer recomputed, or an
    old one replayed under a new id, proves itself alone). The journal and the ledger it rests
    on are verified as `audit --verify` does: keyed links without the key are unverified."""
    trailer = outbox.read_trailer(folder)
    batch_id, incident_id = trailer.get("batch_id"), trailer.get("incident_id")
    records = gather(con, [str(incident_id)])
    batch = next((b for b in records.batches if b.batch_id == batch_id), None)
    if batch is None:
        moved = db.run(con, "journal_moved").fetchall()
        where = (
            f"this warehouse was moved to {moved[0][0]}: give --warehouse {moved[0][0]}"
            if moved
            else "a copy or a replay of another batch, or the warehouse is not this outbox's"
        )
        itself = outbox.check(folder, trailer)[0]
        return BatchVerified(
            [f"batch {batch_id}: not in the warehouse: {where}"]
            + [f"batch {batch_id}: {p}" for p in itself],
            True,
        )
    journal_check = chain.verify(journal.NAME, [e.linked() for e in records.journal], key)
    run_id = trailer.get("run_id")
    if (
        run_id != batch.run_id
        and run_id not in {r.run_id for r in records.runs}
        and trailer.get("journal_head") not in journal_check.hashes | {chain.GENESIS}
    ):
        # the same batch id on another warehouse (each numbers its incident's batches from
        # B001): one finding, not each of its fields read as an edit of this warehouse's. A
        # trailer resting on this journal whose run was edited is checked in full below.
        return BatchVerified(
            [
                f"batch {batch_id}: of run {run_id}, which this warehouse does not know: the "
                "batch is another warehouse's (give that one as --warehouse), or its trailer "
                "was edited"
            ],
            True,
        )
    # a folder of the outbox's layout (`batch=...`) must be the trailer's batch
    # (`outbox.check`); a copy or a link finance named itself (`today`) says nothing
    problems = []
    ledger_check = ledger_entries.verify(records.ledger, key)
    problems += [*journal_check.tampered, *ledger_check.tampered]  # what the heads rest on
    problems += batch_proof.check(
        batch,
        folder,
        [e for e in records.ledger if e.batch_id == batch_id],
        journal_check.hashes,
        ledger_check.hashes,
        _anchored(records).get(batch_id),
    )
    return BatchVerified(problems, True, [*journal_check.unverified, *ledger_check.unverified])


def _anchored(records: Records) -> dict[str, dict[str, str]]:
    """Per batch, the sha256 of its files the journal recorded when it was committed."""
    return {
        batch_of(e): e.detail["files"]
        for e in records.journal
        if e.event == "published" and batch_of(e) and isinstance(e.detail.get("files"), dict)
    }


def require(
    con: duckdb.DuckDBPyConnection,
    incident_ids: Iterable[str],
    key: bytes | None,
    witnesses: Witnesses,
    resumed: str | None = None,
) -> None:
    """Refuses (`ProofFailed`, exit 3) when the journal or the incidents' ledgers and batches
    do not prove themselves against the outbox's `witnesses` (read before `con`'s warehouse),
    and (`ConfigError`) when keyed links cannot be checked; `resumed`: the run whose decision
    is taken again (`outbox_head.missing`)."""
    incidents = sorted(set(incident_ids))
    found = check(gather(con, incidents), key, witnesses, resumed)
    if found.tampered:
        raise ProofFailed(
            f"the journal, or the ledger or a batch of {', '.join(incidents)}, does not prove "
            "itself: nothing was paid. Find out what changed "
            f"(`{commands.credits('audit --verify')}` lists every finding) before anything is "
            "approved",
            found.tampered[: batch_proof.SHOWN_PER_BATCH],
        )
    if found.unverified:
        raise ConfigError(f"set {chain.KEY_VARIABLE} to approve: " + "; ".join(found.unverified))
    if found.unchecked:  # fail closed: what this machine cannot read may name a restore
        raise ProofFailed(
            f"a decision kept outside the warehouse on {', '.join(incidents)} cannot be read "
            "on this machine: nothing was paid",
            found.unchecked[: batch_proof.SHOWN_PER_BATCH],
        )


def _check_rendered(records: Records, anchored: dict[str, dict[str, str]]) -> list[str]:
    """Each batch's rows in the warehouse against the files' sha256 the journal recorded when
    it was committed: a row of its payments, decreases or accounts to pay by hand added,
    removed or changed since (which the next batch would count as listed or paid) differs."""
    problems = []
    for batch_id, journaled in sorted(anchored.items()):
        rendered = records.rendered.get(batch_id)
        if rendered is None:
            continue  # another incident's batch, or one the warehouse lacks (reported apart)
        for file in sorted(f for f in journaled if rendered.get(f) != journaled[f]):
            problems.append(
                f"batch {batch_id}: its rows in the warehouse no longer make the {file} the "
                "journal recorded when the batch was committed: rows were added, removed or "
                "changed since"
            )
    return problems


def _unknown_trailers(records: Records, known: set[str], trailers: frozenset[Path]) -> list[str]:
    """The `trailers` (of the incidents checked) of batches the warehouse lacks."""
    if records.incident_ids is None:
        folders = sorted(trailers)
    else:  # each incident's folder, and copies of its batches under any other
        own = {f"incident={incident_id}" for incident_id in records.incident_ids}
        batches = tuple(f"batch={incident_id}-B" for incident_id in records.incident_ids)
        folders = sorted(
            path
            for path in trailers
            if path.parent.parent.name in own
            or (
                path.parent.name.startswith(batches)
                and path.parent.name.removeprefix("batch=") in known  # not another incident's
            )
        )
    incident_of = {b.batch_id: b.incident_id for b in records.batches}
    found = []
    for path in folders:
        batch_id = path.parent.name.removeprefix("batch=")
        incident_id = path.parent.parent.name.removeprefix("incident=")
        if batch_id not in known:
            found.append(
                f"batch {batch_id}: in the outbox ({path.parent}) but not in the warehouse: its "
                "record was deleted, or another warehouse published it (a copy of this one "
                "approving on another machine: each pays from a ledger of its own, so the same "
                "credits would be paid twice)"
            )
        elif incident_of[batch_id] != incident_id:
            found.append(
                f"batch {batch_id}: of incident {incident_of[batch_id]}, but a copy is in the "
                f"outbox under incident {incident_id} ({path.parent}): finance would pay it "
                "again; remove the copy"
            )
    return found


def _stray_trailers(records: Records, strays: frozenset[Path]) -> list[str]:
    """The folders holding a batch's trailer off the outbox's layout (`witnesses.strays`), of
    the incidents checked (a trailer that is no trailer, for every incident)."""
    found = []
    for folder in sorted(strays):
        try:
            trailer = outbox.read_trailer(folder)
        except (InputError, OSError):  # no trailer, or another login's this one may not read
            trailer = {}
        incident_id = trailer.get("incident_id")
        others = records.incident_ids is not None and isinstance(incident_id, str)
        if others and incident_id not in records.incident_ids:
            continue  # another incident's batch: its own checks name it
        found.append(
            f"{folder}: holds a trailer of batch {trailer.get('batch_id', '(unreadable)')} "
            "(batch.json) outside its place in the outbox (incident=<id>/batch=<id>): whoever "
            "picks batches up by their trailer would pay it again; remove it (copy batches out "
            "of the outbox, never within it)"
        )
    return found
