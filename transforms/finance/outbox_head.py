"""The journal head the outbox keeps for each incident, and the decision each run folder keeps,
outside the warehouse: a warehouse restored from an older backup no longer records the
decisions taken after it (a decline undone sets its run back to pending, and approvable), and
only what it wrote elsewhere can tell.

Every decision on a run (`approve`, `decline`), once committed, writes
`<outbox>/incident=<id>/journal_head.json`: the journal entry it ended on (seq, hash, event,
run). The warehouse that decides next must hold that very entry: a journal that ends before it
(a backup restored), or holds another entry there (a backup restored and written to since, or
another warehouse deciding the incident into this outbox), is named by `audit --verify` and
refused by every approval and decline of the incident (exit 3). A batch's trailer records the
journal head too; this record covers the decisions that publish no batch.

The run folder keeps the decision on its run the same way (`decision.json`: the entry the
decision ended on), so that the outbox's file deleted by hand, or an outbox not shared between
the machines that decide, still leaves a witness wherever the run folder is reached: approval,
its dry run, decline and `audit --verify` check every run folder of the incident beside one the
warehouse lists (so those it no longer lists too: a backup from before a run), and `audit
--verify` every incident folder beside those (a backup from before an incident's first run).

What it does not cover: both files deleted or replaced by hand (the outbox is finance's
folder), an incident none of whose runs the warehouse lists and whose run folders lie in no
output folder of a run it lists, a decision stopped between its commit and these files (the
same decision run again, or the next, writes them), a run folder this machine does not reach
or may not write into (a note says so), and an outbox whose parent folder does not exist (a
decline given a mistyped `--outbox`, or none from another folder: a note says so, and no
folder is made; the outbox itself is made as a first approval makes it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from transforms import files
from transforms.errors import ProofFailed
from transforms.finance import journal
from transforms.finance.rows import RunRow

FILE = "journal_head.json"
RUN_FILE = "decision.json"


@dataclass(frozen=True)
class Head:
    """The journal entry a decision ended on, as the outbox keeps it."""

    seq: int
    hash: str
    event: str
    run_id: str | None

    def named(self) -> str:
        return f"journal entry {self.seq} ({self.event} of run {self.run_id})"


def path_of(root: Path, incident_id: str) -> Path:
    return Path(root).resolve() / f"incident={incident_id}" / FILE


def record(root: Path, incident_id: str, entry: journal.Entry) -> str | None:
    """Writes `entry` as the incident's journal head in the outbox `root` (never one older than
    the head already there); what could not be written, as a note (None: written). The
    decision is committed by then: the note says so, and the next decision writes it."""
    path = path_of(root, incident_id)
    outbox = path.parent.parent
    if not outbox.parent.is_dir():  # a mistyped `--outbox`, or the default from another folder
        return (
            f"{outbox}: no such outbox folder, so the journal head is not kept; the "
            "decision is committed. Give the outbox `approve` writes to (`--outbox`), so that a "
            "warehouse restored from an older backup is named"
        )
    try:
        outbox.mkdir(exist_ok=True)  # as a first approval would: never its parents
        path.parent.mkdir(exist_ok=True)
        _write(path, entry)
    except OSError as error:
        return (
            f"{path}: not written ({error.strerror}); the decision is committed. The outbox "
            "keeps the journal head so that a warehouse restored from an older backup is named; "
            "the next decision on the incident writes it"
        )
    return None


def record_run(run: RunRow, entry: journal.Entry) -> str | None:
    """Writes `entry`, the decision on `run` just committed, into its run folder
    (`RUN_FILE`); what could not be written, as a note (None: written, or a folder this machine
    does not reach, which approval notes already)."""
    path = run.run_folder / RUN_FILE
    if not is_run_folder(run.run_folder, run):  # the warehouse's row names another place
        return (
            f"{run.run_folder}: not the folder of run {run.run_id} (`incident="
            f"{run.incident_id}/run={run.run_id}`), so the decision is not kept there; the "
            "decision is committed"
        )
    try:
        if not run.run_folder.is_dir():
            return None
        _write(path, entry)
    except OSError as error:
        return (
            f"{path}: not written ({error.strerror}); the decision is committed. The run folder "
            "keeps it so that a warehouse restored from an older backup is named even where the "
            f"outbox's {FILE} is not"
        )
    return None


def is_run_folder(folder: Path, run: RunRow) -> bool:
    """Whether `folder` is named as `run`'s folder is (`incident=<id>/run=<id>`): the only
    place a decision is written, whatever a row that whoever may add runs wrote says."""
    return (
        folder.name == f"run={run.run_id}" and folder.parent.name == f"incident={run.incident_id}"
    )


def _write(path: Path, entry: journal.Entry) -> None:
    """Writes `entry` as the head kept at `path`, never over a later one (a writer cut off and
    let in again)."""
    kept = read(path)
    if isinstance(kept, Head) and kept.seq >= entry.seq:
        return
    head = Head(entry.seq, entry.hash, entry.event, entry.run_id)
    files.write_text(path, json.dumps(head.__dict__, indent=2, sort_keys=True) + "\n")


def read(path: Path) -> Head | str | None:
    """The head kept at `path`; None when there is none, or why it is no head this product
    writes."""
    try:
        if not path.exists():
            return None
        if not path.is_file():  # a folder, or a pipe a read would wait on
            return "it is no journal head this product writes (not a file)"
        kept = json.loads(path.read_text(encoding="utf-8"))
        head = Head(**kept)
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as error:
        return f"it is no journal head this product writes ({error})"
    if not (isinstance(head.seq, int) and isinstance(head.hash, str)):
        return "it is no journal head this product writes (seq, hash)"
    return head


def heads_kept(root: Path | None) -> dict[Path, Head | str]:
    """Every incident's head kept in the outbox `root` (`read`), by its path; read before the
    warehouse by a reader that lets writers on meanwhile (`witnesses.witnessed`)."""
    if root is None or not Path(root).is_dir():
        return {}
    found = {path: read(path) for path in sorted(Path(root).resolve().glob(f"incident=*/{FILE}"))}
    return {path: head for path, head in found.items() if head is not None}


def check(
    heads: dict[Path, Head | str], incident_ids: Iterable[str] | None, entries: list[journal.Entry]
) -> list[str]:
    """Each of the `heads` kept (`heads_kept`; of `incident_ids` only, unless None) that the
    journal `entries` do not hold, as a finding."""
    if incident_ids is not None:
        folders = {f"incident={incident_id}" for incident_id in incident_ids}
        heads = {path: head for path, head in heads.items() if path.parent.name in folders}
    by_seq = {e.seq: e for e in entries}
    return [found for path, head in heads.items() if (found := _unheld(path, head, by_seq, OUTBOX))]


def runs_kept(run_folders: Iterable[Path], every_incident: bool = False) -> dict[Path, Head | str]:
    """The decision every run folder beside `run_folders` keeps (`record_run`; each incident
    folder's `run=*/decision.json`, the run folders the warehouse no longer lists too: a backup
    restored from before a run lost its row, not its folder), by its path; read before the
    warehouse by a reader that lets writers on meanwhile (`witnesses.witnessed`).
    `every_incident`: beside them in every incident folder of their output folders too (a
    backup from before an incident's first run lists none of its runs)."""
    folders = {Path(folder) for folder in run_folders}
    paths = {folder / RUN_FILE for folder in folders}
    for incident in sorted({folder.parent for folder in folders}):
        paths |= set(incident.glob(f"run=*/{RUN_FILE}"))
    for output in sorted({folder.parent.parent for folder in folders}) if every_incident else ():
        paths |= set(output.glob(f"incident=*/run=*/{RUN_FILE}"))
    found = {path: read(path) for path in sorted(paths)}
    return {path: head for path, head in found.items() if head is not None}


def check_runs(kept: dict[Path, Head | str], entries: list[journal.Entry]) -> list[str]:
    """Each decision a run folder keeps (`runs_kept`) that the journal `entries` do not hold, as
    a finding."""
    by_seq = {e.seq: e for e in entries}
    return [
        found for path, head in kept.items() if (found := _unheld(path, head, by_seq, RUN_FOLDER))
    ]


@dataclass(frozen=True)
class _Place:
    """Where a head is kept, as a finding names it."""

    name: str
    older: str
    other: str


OUTBOX = _Place(
    "the outbox", "the outbox", "another warehouse decides this incident into this outbox"
)
RUN_FOLDER = _Place("the run folder", "the run's decision", "another warehouse decided this run")


def _unheld(
    path: Path, kept: Head | str | None, by_seq: dict[int, journal.Entry], place: _Place
) -> str | None:
    """The head kept at `path` as a finding when the journal (`by_seq`) does not hold it; None
    when it does, or when there is none."""
    if kept is None:
        return None
    if isinstance(kept, str):
        return f"{path}: {kept}: a decision's record was edited in {place.name}"
    held = by_seq.get(kept.seq)
    if held is not None and held.hash == kept.hash:
        return None
    if held is None:
        found = f"the warehouse's journal ends at entry {max(by_seq, default=0)}"
    else:
        found = f"its entry {kept.seq} is another: {held.event} of run {held.run_id}"
    return (
        f"{path} records {kept.named()}, which the warehouse's journal does not hold "
        f"({found}): the warehouse is older than {place.older} (restored from a backup: the "
        "decisions since are missing from it, a declined run may be pending again), or "
        f"{place.other}. Restore the newest backup, or find out which warehouse is the real "
        f"one (if it is this one, move {path.name} away and decide again)"
    )


def require(con: duckdb.DuckDBPyConnection, incident_id: str, root: Path) -> None:
    """Refuses (`ProofFailed`, exit 3) a warehouse whose journal lacks the head the outbox
    kept after the incident's last decision: older than the outbox (a backup restored)."""
    found = check(heads_kept(root), [incident_id], journal.entries(con))
    if found:
        raise ProofFailed(
            f"the warehouse is not the one that last decided {incident_id}: nothing was written",
            found,
        )


def keep(con: duckdb.DuckDBPyConnection, incident_id: str, root: Path) -> str | None:
    """The journal's newest entry, just committed, kept in the outbox (`record`); a note when
    it could not be written."""
    newest = journal.newest(con)
    return record(root, incident_id, newest) if newest else None


def require_run(con: duckdb.DuckDBPyConnection, run: RunRow) -> None:
    """Refuses (`ProofFailed`, exit 3) a warehouse whose journal lacks the decision the run's
    folder kept (`record_run`): older than that decision (a backup restored)."""
    found = check_runs(runs_kept([run.run_folder]), journal.entries(con))
    if found:
        raise ProofFailed(
            f"the warehouse is not the one that decided run {run.run_id}: nothing was written",
            found,
        )


def keep_run(con: duckdb.DuckDBPyConnection, run: RunRow) -> str | None:
    """The journal's newest entry on `run`, the decision on it just committed (or, resumed, the
    one committed before), kept in its run folder (`record_run`); a note when it could not be
    written."""
    own = [e for e in journal.entries(con) if e.run_id == run.run_id]
    return record_run(run, own[-1]) if own else None
