"""Finance's decision on a run, and publishing its batch into the outbox exactly once.

A run that passed the gate and was sealed (its manifest written) waits as `pending_approval`.
Approving it publishes a batch of what the incident was not paid yet, and only once finance
accepts the decreases it reports (`publication` commits the decision, the ledger's entries and
the batch); declining it journals why.

Before anything is paid, under the warehouse's write lock: the journal and the incident's
ledger must prove themselves against the chains and the outbox's trailers (`proof`); the run's
`manifest.json` must be there, be the one the warehouse loaded, and match the run's files; and
a run that started before the incident's newest published run (superseded) is refused unless
finance forces it, which the journal records (`approval`).

Crash safety: the ledger entries and the batch (state `writing`) are committed first, then the
batch's files are written (temporary name, fsync, linked into place, never over another writer's)
with `batch.json`, the trailer, last, then the batch is marked `published`. A batch left `writing`
by a crash (or a full disk) is finished by the next approval before anything else, from the ledger,
so no credit is paid twice or lost; a batch whose trailer is already visible is final and keeps its
files.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from transforms import commands, db, files
from transforms.errors import (
    ConfigError,
    CreditsError,
    StorageError,
    environment_problem,
)
from transforms.finance import diff as diffs
from transforms.finance import (
    journal,
    outbox,
    outbox_head,
    proof,
    publication,
    rows,
    run_proof,
    warehouse,
    witnesses,
)
from transforms.finance.approval import (
    approved_before,
    declined_before,
    find_run,
    newer_published,
    require_as_sealed,
    require_name,
    require_pending,
    superseded,
)
from transforms.finance.rows import RunRow
from transforms.runfolder.runs import RunStatus


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
    pay_by_hand: int = 0
    decided_by: str | None = None  # the decision's, as the warehouse holds it (UTC)
    decided_at: datetime | None = None
    decision_note: str | None = None  # a decline's reason, an approval's note
    notes: tuple[str, ...] = ()  # what the decider should know (a run folder not reachable)
    timezone: str | None = None  # the incident's, for the decision's time as finance reads it

    def approved_before(self) -> str:
        """What an approval of a run already published says (the loser of two approvals of
        it): who approved it, when on the incident's clocks, and in which batch, as the
        warehouse holds the decision (checked against the journal before)."""
        decision = (self.decided_by, self.decided_at, self.timezone, self.batch_id)
        return f"{approved_before(self.run_id, *decision)}; nothing new"

    def declined_before(self) -> str:
        """What a decline of a run already declined says: who declined it, when on the
        incident's clocks (as `credits runs` and an approval), and why."""
        decision = (self.decided_by, self.decided_at, self.timezone, self.decision_note)
        return f"{declined_before(self.run_id, *decision)}; nothing new recorded"


def approve(
    warehouse_path: warehouse.Location,
    run_id: str,
    *,
    by: str,
    note: str | None,
    outbox: Path,
    key: bytes | None = None,
    force_superseded: bool = False,
    accept_decreases: bool = False,
    show: Callable[[diffs.Diff], None] | None = None,
) -> Decision:
    """Approves a pending run and publishes its batch; approving a published run is a no-op.

    What the run changes against what is published is computed under the lock and given to
    `show` before anything is written; a batch that would carry decreases is refused
    (`DecreasesNeedDecision`) unless `accept_decreases`, which the journal records."""
    require_name(by)
    require_outbox_folder(outbox)
    written: list[str] = []  # the batch this approval committed and wrote, once it has
    finished: list[str] = []  # batches left unfinished that it finished first: said if refused
    try:
        # a refusal, the store's at the commit too, says first what the approval finished
        with _saying_finished(finished), _writer(warehouse_path) as con:
            run = find_run(con, run_id)
            journal.require_key(con, key)  # another key is refused as decline refuses it (exit 2)
            if run.status == RunStatus.PENDING_APPROVAL:  # before it finishes anything
                require_outbox_folder(outbox, run.incident_id)  # another machine login's folder?
            writing = rows.batches(con, "batches_writing")
            incidents = {run.incident_id, *(b.incident_id for b in writing)}
            # under the lock; a published run's approval again keeps its head anew
            resumed = run.run_id if run.status == RunStatus.PUBLISHED else None
            proof.require(con, incidents, key, witnesses.witnessed(outbox), resumed)
            for batch in writing:
                # its decision, stopped, may not have kept its head: kept before the batch's
                # files, as every head is (`outbox_head.missing`)
                head_note = outbox_head.keep(con, batch.incident_id, outbox)
                folder = _write_batch(con, batch.batch_id, outbox)
                if head_note:  # the batch's files made the outbox's folders (a new mount)
                    head_note = outbox_head.keep(con, batch.incident_id, outbox)
                finished += [head_note] if head_note else []
                finished.append(
                    f"finished batch {batch.batch_id} (run {batch.run_id}), which an approval "
                    f"that was stopped left unfinished: it is in {folder}"
                )
            if run.status == RunStatus.PUBLISHED:
                # an approval stopped before it kept the journal head is resumed so: keep it
                kept = outbox_head.keep(con, run.incident_id, outbox)
                kept_in_run = outbox_head.keep_run(con, run, None if kept else outbox)
                decision = _decision_of(con, run, already_decided=True, root=outbox)
                notes = tuple(n for n in (kept, kept_in_run) if n)
                return replace(decision, notes=(*finished, *notes))
            require_pending(run)
            unreachable = require_as_sealed(con, run)
            detail: dict[str, Any] = {"note": note} if note else {}
            if unreachable:
                detail["run_folder_unreachable"] = str(run.run_folder)
            newer = newer_published(con, run)
            if newer and not force_superseded:
                raise ConfigError(superseded(run, newer))
            if newer:
                detail |= {"forced_superseded": True, "newer_published_run": newer.run_id}
            changes = diffs.compute(con, run_id)
            if show is not None:
                show(changes)
            detail |= diffs.require_decided(changes, accept_decreases)
            batch_id = publication.publish(
                con, run, by=by, note=note, outbox_root=outbox, key=key, detail=detail
            )
            kept = outbox_head.keep(con, run.incident_id, outbox)
            kept_in_run = outbox_head.keep_run(con, run, None if kept else outbox)
            if batch_id:
                _write_batch(con, batch_id, outbox)
                written.append(batch_id)  # its state is sent to the store as the writer closes
            decision = _decision_of(con, find_run(con, run_id), already_decided=False, root=outbox)
            notes = (unreachable, kept, kept_in_run)
            return replace(decision, notes=(*finished, *(n for n in notes if n)))
    except StorageError as error:  # the store lost as the batch's state was sent: say so
        if not written:
            raise
        lost = StorageError(
            f"{error}. Already committed: run {run_id}'s approval, its batch {written[0]}'s "
            "payments in the ledger, and the batch's files with their trailer in the outbox; "
            f"not its state published. Run `{commands.credits('approve RUN_ID --by NAME')}` "
            "again (this run or any other): it "
            f"finds batch {written[0]} written and marks it, paying nothing twice"
        )
        lost.done = error.done
        raise lost from None


def decline(
    warehouse_path: warehouse.Location,
    run_id: str,
    *,
    by: str,
    reason: str,
    key: bytes | None = None,
    outbox: Path | None = None,
) -> Decision:
    """Declines a pending run: it will never be published; declining it again does nothing
    more. A warehouse whose journal lacks the decision the run's folder kept, or (with `outbox`)
    the head the outbox kept after a decision, is refused (`ProofFailed`); the decline's own
    entry is kept in both (`outbox_head`), by the decline again if the first was stopped before
    it."""
    require_name(by)
    if not reason.strip():
        raise ConfigError("--reason: say why the run is declined")
    with _writer(warehouse_path) as con:
        run = find_run(con, run_id)
        already = run.status == RunStatus.DECLINED
        if not already:
            require_pending(run, to="declined")
        run_proof.require_no_copies(con, run)
        outbox_head.require_run(con, run)
        if outbox is not None:
            outbox_head.require(con, run.incident_id, outbox, run)
        if not already:
            with db.transaction(con):
                publication.record_decision(
                    con,
                    run,
                    status=RunStatus.DECLINED,
                    by=by,
                    note=reason,
                    batch_id=None,
                    at=datetime.now(UTC),
                    detail={"reason": reason},
                    key=key,
                )
        # a decline stopped before it kept the journal head is resumed so: it keeps it now
        kept = outbox_head.keep(con, run.incident_id, outbox) if outbox is not None else None
        in_outbox = outbox if outbox is not None and kept is None else None
        notes = (kept, outbox_head.keep_run(con, run, in_outbox))
        decision = _decision_of(con, find_run(con, run_id), already_decided=already)
        return replace(decision, notes=tuple(n for n in notes if n))


def require_outbox_folder(root: Path, incident_id: str | None = None) -> None:
    """Refuses, before anything is committed, an outbox that is a file, not a folder, or that
    this machine cannot write into (a read-only mount, a file in its path, no permission), nor,
    given `incident_id`, the incident's folder there where it is one (a shared outbox's folder
    another machine's login made with its first batch): such an approval was committed, its run
    published, and only then refused, its batch left writing."""
    if Path(root).exists() and not Path(root).is_dir():
        raise ConfigError(f"--outbox {root}: is a file, not a folder; nothing was committed")
    folder = outbox.folder_of(root, incident_id, "-").parent if incident_id else Path(root)
    try:
        files.require_writable(folder if folder.is_dir() else Path(root))
    except OSError as error:
        where = Path(error.filename).parent if error.filename else root  # not the probe's name
        raise StorageError(
            f"--outbox {root}: cannot be written here ({where}: {error.strerror}); "
            "nothing was committed: make it writable (mounted read-write, a folder this login "
            "may write into) and approve again"
        ) from None


def _write_batch(con: duckdb.DuckDBPyConnection, batch_id: str, root: Path) -> Path:
    """Writes a committed batch's files under the outbox `root`; a refusal of the disk, a file
    where the batch's folder must be, or the store lost on the way (a PostgreSQL writer's lock,
    checked before the trailer) says what is committed and how to finish."""
    try:
        return outbox.write(con, batch_id, root)
    except StorageError as error:
        raise StorageError(f"{error}. {_not_final(con, batch_id)}") from None
    except OSError as error:
        problem = environment_problem(error)
        if problem is None and error.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
            problem = f"{error.filename}: {error.strerror} (a file where a folder must be)"
        if problem is None:
            raise
        folder = outbox.located(rows.batch(con, batch_id), root)  # type: ignore[arg-type]
        raise StorageError(
            f"writing batch {batch_id} into {folder}: {problem}. "
            f"{_not_final(con, batch_id, 'Free the space or make the folder writable. ')}"
        ) from None


def _not_final(con: duckdb.DuckDBPyConnection, batch_id: str, first: str = "") -> str:
    """What is committed when a batch's files could not be made final, `first` what to do
    before the next approval finishes it."""
    run_id = rows.batch(con, batch_id).run_id  # type: ignore[union-attr]  # committed
    return (
        f"Already committed: run {run_id}'s approval, its batch {batch_id}'s payments in the "
        "ledger; the batch's files in the outbox are not final (no batch.json yet), so nothing "
        f"there may be picked up. {first}Run `{commands.credits('approve RUN_ID --by NAME')}` "
        f"again (this run or any other): the next approval finishes batch {batch_id} first, "
        "from the ledger, and pays nothing twice"
    )


@contextmanager
def _saying_finished(finished: list[str]) -> Iterator[None]:
    """A refusal after the approval finished batches left unfinished carries what it finished
    (`CreditsError.done`, said before the refusal): they are in the outbox now."""
    try:
        yield
    except CreditsError as error:
        error.done = (*finished, *error.done)
        raise


@contextmanager
def _writer(warehouse_path: warehouse.Location) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse under its write lock; the machine's refusals before a commit (the lock
    file, the warehouse) become a `StorageError` (a full outbox is `_write_batch`'s)."""
    warehouse.require_existing(warehouse_path)  # no run to approve or decline in a new one
    warehouse.reachable(warehouse_path, warehouse.Access.DECIDE)  # finance's login, or exit 4
    try:
        with warehouse.writer(warehouse_path) as con:
            yield con
    except (OSError, duckdb.Error) as error:
        problem = environment_problem(error)
        if problem is None:
            raise
        raise StorageError(
            f"{problem}. Nothing was committed by this command: the warehouse "
            f"{warehouse.shown(warehouse_path)} "
            "is as it was. Free the space or make the folder writable, then run it again"
        ) from None


def _decision_of(con, run: RunRow, *, already_decided: bool, root: Path | None = None) -> Decision:
    batch = rows.batch(con, run.batch_id) if run.batch_id else None
    decreases = by_hand = 0
    if batch:
        ids = {"batch_id": batch.batch_id}
        decreases = db.run(con, "batch_exceptions_count", **ids).fetchall()[0][0]
        by_hand = db.run(con, "batch_pay_by_hand_count", **ids).fetchall()[0][0]
    return Decision(
        run_id=run.run_id,
        status=run.status,
        batch_id=run.batch_id,
        batch_folder=outbox.located(batch, root) if batch else None,
        rows=batch.row_count if batch else 0,
        totals_minor=batch.totals_minor if batch else {},
        decreases=decreases,
        already_decided=already_decided,
        pay_by_hand=by_hand,
        decided_by=run.decided_by,
        decided_at=run.decided_at,
        decision_note=run.decision_note,
        timezone=run.timezone,
    )
