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

Both files deleted by hand: what a decision writes after its head (its run's decision naming
the outbox, its batch's trailer) and the incident's folder, made with the first head, say that
a head was kept; with one of them there and no head, every decision and `audit --verify` of the
incident refuse (`missing`). A head or a decision this machine cannot read is named as not
checked, never as edited (`Unreadable`).

What it does not cover: both files replaced by hand (the outbox is finance's folder), the
incident's whole outbox folder deleted with every run's decision, an incident none of whose runs
the warehouse lists and whose run folders lie in no output folder of a run it lists, a decision
stopped between its commit and these files (the same decision run again, or the next, writes
them), a run folder this machine does not reach or may not write into (a note says so), and an
outbox whose parent folder does not exist (a decline given a mistyped `--outbox`, or none from
another folder: a note says so, and no folder is made; the outbox itself is made as a first
approval makes it).
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
from transforms.finance.outbox import TRAILER
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
    # a run folder's decision: the outbox whose head the decision kept first (`missing`)
    outbox: str | None = None

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


def record_run(run: RunRow, entry: journal.Entry, outbox: Path | None = None) -> str | None:
    """Writes `entry`, the decision on `run` just committed, into its run folder
    (`RUN_FILE`), with the `outbox` whose head it kept first (None: none kept); what could not
    be written, as a note (None: written, or a folder this machine does not reach, which
    approval notes already)."""
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
        _write(path, entry, outbox)
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


def _write(path: Path, entry: journal.Entry, outbox: Path | None = None) -> None:
    """Writes `entry` as the head kept at `path` (with the `outbox` that kept it first, for a
    run folder's), never over a later one (a writer cut off and let in again)."""
    kept = read(path)
    if isinstance(kept, Head) and kept.seq >= entry.seq:
        return
    head = {"seq": entry.seq, "hash": entry.hash, "event": entry.event, "run_id": entry.run_id}
    if outbox is not None:
        head["outbox"] = str(Path(outbox).resolve())
    files.write_text(path, json.dumps(head, indent=2, sort_keys=True) + "\n")


class Unreadable(str):
    """Why a head kept at a path could not be read on this machine (a permission, an I/O
    error): nothing is known of it, so it is no finding of an edit (`unreadable` names it)."""


def read(path: Path) -> Head | str | None:
    """The head kept at `path`; None when there is none, why it is no head this product
    writes, or (`Unreadable`) why this machine cannot read it."""
    try:
        if not path.exists():
            return None
        if not path.is_file():  # a folder, or a pipe a read would wait on
            return "it is no journal head this product writes (not a file)"
        data = path.read_bytes()
    except OSError as error:  # another login's folder on a shared mount, a disk's error
        return Unreadable(f"{path}: cannot be read on this machine ({error.strerror})")
    try:
        kept = json.loads(data.decode("utf-8"))
        head = Head(**kept)
    except (UnicodeDecodeError, ValueError, TypeError) as error:
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
    if kept is None or isinstance(kept, Unreadable):  # not known to be anything: `unreadable`
        return None
    if isinstance(kept, str):
        return f"{path}: {kept}: a decision's record was edited in {place.name}"
    held = by_seq.get(kept.seq)
    if held is not None and held.hash == kept.hash:
        if (held.event, held.run_id) == (kept.event, kept.run_id):
            return None
        held_as = f"the journal holds it as {held.event} of run {held.run_id}"  # edited
        edited = f"edited in {place.name}: restore the file from a backup"
        return f"{path} records {kept.named()}, but {held_as}: {edited}"
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


def require(
    con: duckdb.DuckDBPyConnection, incident_id: str, root: Path, run: RunRow | None = None
) -> None:
    """Refuses (`ProofFailed`, exit 3) a warehouse whose journal lacks the head the outbox
    kept after the incident's last decision: older than the outbox (a backup restored); and an
    outbox that should keep a head of the incident but does not (`missing`; `run`: the run
    whose decision is taken again)."""
    kept = runs_kept([run.run_folder]) if run is not None else {}
    heads = heads_kept(root)
    seen = (incident_folders(root), trailers(root), heads)
    entries = journal.entries(con)
    found = check(heads, [incident_id], entries)
    found += missing(root, seen, kept, [incident_id], entries, run.run_id if run else None)
    if found:
        raise ProofFailed(
            f"the warehouse is not the one that last decided {incident_id}: nothing was written",
            found,
        )
    require_readable({**heads, **kept}, incident_id)


def require_readable(kept: dict[Path, Head | str], incident_id: str) -> None:
    """Refuses (`ProofFailed`, exit 3) a decision on `incident_id` while a head or run decision
    `kept` of it cannot be read on this machine (`unreadable`): it may name a warehouse restored
    from an older backup, and the decision's own head would be written over it."""
    unread = unreadable(kept, [incident_id])
    if unread:
        raise ProofFailed(
            f"a decision kept outside the warehouse on {incident_id} cannot be read on this "
            "machine: nothing was written",
            unread,
        )


def trailers(root: Path | None) -> frozenset[Path]:
    """The batch trailers in the outbox `root`: each written after its decision's head
    (`missing`)."""
    if root is None or not Path(root).is_dir():
        return frozenset()
    return frozenset(Path(root).resolve().glob(f"incident=*/batch=*/{TRAILER}"))


def keep(con: duckdb.DuckDBPyConnection, incident_id: str, root: Path) -> str | None:
    """The journal's newest entry, just committed, kept in the outbox (`record`); a note when
    it could not be written."""
    newest = journal.newest(con)
    return record(root, incident_id, newest) if newest else None


def require_run(con: duckdb.DuckDBPyConnection, run: RunRow) -> None:
    """Refuses (`ProofFailed`, exit 3) a warehouse whose journal lacks the decision the run's
    folder kept (`record_run`): older than that decision (a backup restored)."""
    kept = runs_kept([run.run_folder])
    found = check_runs(kept, journal.entries(con))
    if found:
        raise ProofFailed(
            f"the warehouse is not the one that decided run {run.run_id}: nothing was written",
            found,
        )
    require_readable(kept, run.incident_id)


def keep_run(con: duckdb.DuckDBPyConnection, run: RunRow, outbox: Path | None = None) -> str | None:
    """The journal's newest entry on `run`, the decision on it just committed (or, resumed, the
    one committed before), kept in its run folder (`record_run`) with the `outbox` whose head
    it kept first (None: none kept); a note when it could not be written."""
    own = [e for e in journal.entries(con) if e.run_id == run.run_id]
    return record_run(run, own[-1], outbox) if own else None


def incident_folders(root: Path | None) -> frozenset[Path]:
    """The incidents' folders in the outbox `root` (`incident=<id>`) that hold no batch: one is
    made as a decision keeps its first head there, its batches only after that head
    (`missing`). One holding run folders is a run's output folder (an outbox given as the
    runs' output folder), made by a run, not by a head."""
    if root is None or not Path(root).is_dir():
        return frozenset()
    return frozenset(
        p
        for p in Path(root).resolve().glob("incident=*")
        if p.is_dir() and not any(p.glob("batch=*")) and not any(p.glob("run=*"))
    )


DECIDED = ("published", "declined")  # the journal's entry a decision on a run ends on


def missing(
    root: Path | None,
    seen: tuple[frozenset[Path], frozenset[Path], dict[Path, Head | str]],
    kept: dict[Path, Head | str],
    incident_ids: Iterable[str] | None,
    entries: list[journal.Entry],
    resumed: str | None = None,
) -> list[str]:
    """Each incident's head the outbox `root` should keep but does not, as a finding: a head
    deleted by hand hid a warehouse restored from an older backup (a declined run pending
    again). A decision keeps its head first, then its run's decision (`kept`, naming that
    outbox) and its batch's files, and the incident's folder is made with its first head, so
    each of those `seen` (the outbox's incident folders, trailers and heads, read with them)
    says the head was kept (a folder holding no batch only where the warehouse records no
    decision on the incident: one that does may have been refused its head by a full or
    read-only outbox, or stopped, and the next decision keeps it). An earlier version's batch
    (its `published` entry records no folder) says nothing. `resumed`: the run whose decision
    is being taken again, which keeps its head anew when it is its incident's last decision
    (`_last_decided`)."""
    if root is None:
        return []
    folders, trailers, heads = seen
    root = Path(root).resolve()
    earlier = {
        batch_id
        for e in entries
        if e.event == "published"
        and "folder" not in e.detail
        and isinstance(batch_id := e.detail.get("batch_id"), str)
    }
    evidence: dict[str, list[str]] = {}
    for folder in sorted(folders):  # holding no batch
        if _last_decided(entries, folder.name.removeprefix("incident=")) is None:
            # a decision the warehouse holds may have made it and been refused its head (a
            # full or read-only outbox, a kill): its batch, or the next decision, keeps it
            evidence.setdefault(folder.name, []).append(
                f"its folder {folder} is there, made as a decision kept its first head, and "
                "this warehouse records no decision on the incident"
            )
    for trailer in sorted(trailers):
        batch_id = trailer.parent.name.removeprefix("batch=")
        if batch_id not in earlier:
            evidence.setdefault(trailer.parent.parent.name, []).append(
                f"batch {batch_id}'s trailer is there (written after its decision's head)"
            )
    for path, head in sorted(kept.items()):
        if isinstance(head, Head) and head.outbox == str(root):
            evidence.setdefault(path.parent.parent.name, []).append(
                f"{path} records its decision kept in this outbox first"
            )
    wanted = None if incident_ids is None else {f"incident={i}" for i in incident_ids}
    found = []
    for name, why in sorted(evidence.items()):
        path = root / name / FILE
        if (wanted is not None and name not in wanted) or path in heads or path.exists():
            continue  # kept (or kept by a decision since the outbox was read)
        incident_id = name.removeprefix("incident=")
        last = _last_decided(entries, incident_id)
        if last is not None and last.run_id == resumed:
            continue
        found.append(_missing_finding(path, incident_id, why, last))
    return found


def unreadable(kept: dict[Path, Head | str], incident_ids: Iterable[str] | None) -> list[str]:
    """Each head or run decision `kept` (of `incident_ids`, None: all) that this machine could
    not read, as what was not checked: never named as an edit, which it may not be."""
    folders = None if incident_ids is None else {f"incident={i}" for i in incident_ids}
    return [
        f"{head}: the decision it keeps was not checked against the journal; read it where "
        "this login may (or give it read access)"
        for path, head in sorted(kept.items())
        if isinstance(head, Unreadable)
        and (folders is None or {path.parent.name, path.parent.parent.name} & folders)
    ]


def _last_decided(entries: list[journal.Entry], incident_id: str) -> journal.Entry | None:
    """The journal's entry of the incident's last decision on a run (None: none)."""
    decided = [e for e in entries if e.incident_id == incident_id and e.event in DECIDED]
    return decided[-1] if decided else None


def _missing_finding(
    path: Path, incident_id: str, why: list[str], last: journal.Entry | None
) -> str:
    again = (
        "this warehouse records no decision on it: it is older than the outbox, or another "
        "warehouse decides it; restore the file from a backup of the outbox"
        if last is None
        else "restore the file from a backup of the outbox; only if this warehouse was never "
        f"restored from a backup, run {'approve' if last.event == 'published' else 'decline'} "
        f"of run {last.run_id}, its last decision on {incident_id}, again: it keeps the head "
        "anew"
    )
    return (
        f"{path} is missing, though {'; '.join(why)}: it was deleted, which would hide a "
        "warehouse restored from an older backup (the decisions since missing from it, a "
        f"declined run pending again), so nothing is approved or declined on {incident_id}. "
        f"{again[0].upper()}{again[1:]}"
    )
