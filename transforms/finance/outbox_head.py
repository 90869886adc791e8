"""The journal head the outbox keeps for each incident, outside the warehouse: a warehouse
restored from an older backup no longer records the decisions taken after it (a decline undone
sets its run back to pending, and approvable), and only what it wrote elsewhere can tell.

Every decision on a run (`approve`, `decline`), once committed, writes
`<outbox>/incident=<id>/journal_head.json`: the journal entry it ended on (seq, hash, event,
run). The warehouse that decides next must hold that very entry: a journal that ends before it
(a backup restored), or holds another entry there (a backup restored and written to since, or
another warehouse deciding the incident into this outbox), is named by `audit --verify` and
refused by every approval and decline of the incident (exit 3). A batch's trailer records the
journal head too; this record covers the decisions that publish no batch.

What it does not cover: the file deleted or replaced by hand (the outbox is finance's folder),
an outbox not shared between the machines that decide, a decision stopped between its commit
and this file (the same decision run again, or the next, writes it), and an outbox whose
parent folder does not exist (a decline given a mistyped `--outbox`, or none from another
folder: a note says so, and no folder is made; the outbox itself is made as a first approval
makes it).
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

FILE = "journal_head.json"


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
        kept = read(path)
        if isinstance(kept, Head) and kept.seq >= entry.seq:
            return None  # a later decision's (a writer cut off and let in again)
        head = Head(entry.seq, entry.hash, entry.event, entry.run_id)
        outbox.mkdir(exist_ok=True)  # as a first approval would: never its parents
        path.parent.mkdir(exist_ok=True)
        text = json.dumps(head.__dict__, indent=2, sort_keys=True) + "\n"
        files.write_text(path, text)
    except OSError as error:
        return (
            f"{path}: not written ({error.strerror}); the decision is committed. The outbox "
            "keeps the journal head so that a warehouse restored from an older backup is named; "
            "the next decision on the incident writes it"
        )
    return None


def read(path: Path) -> Head | str | None:
    """The head kept at `path`; None when there is none, or why it is no head this product
    writes."""
    if not path.exists():
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        head = Head(**kept)
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as error:
        return f"it is no journal head this product writes ({error})"
    if not (isinstance(head.seq, int) and isinstance(head.hash, str)):
        return "it is no journal head this product writes (seq, hash)"
    return head


def heads_kept(root: Path | None) -> dict[Path, Head | str]:
    """Every incident's head kept in the outbox `root` (`read`), by its path; read before the
    warehouse by a reader that lets writers on meanwhile (`proof.witnessed`)."""
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
    last = max(by_seq, default=0)
    findings = []
    for path, head in heads.items():
        if isinstance(head, str):
            findings.append(f"{path}: {head}: a decision's record was edited in the outbox")
            continue
        held = by_seq.get(head.seq)
        if held is not None and held.hash == head.hash:
            continue
        if held is None:
            found = f"the warehouse's journal ends at entry {last}"
        else:
            found = f"its entry {head.seq} is another: {held.event} of run {held.run_id}"
        findings.append(
            f"{path} records {head.named()}, which the warehouse's journal does not hold "
            f"({found}): the warehouse is older than the outbox (restored from a backup: the "
            "decisions since are missing from it, a declined run may be pending again), or "
            "another warehouse decides this incident into this outbox. Restore the newest "
            "backup, or find out which warehouse is the real one (if it is this one, move "
            f"{path.name} away and decide again)"
        )
    return findings


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
