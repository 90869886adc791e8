"""What names what the warehouse must hold, read before it: the outbox's trailers and journal
heads and the run folders' decisions. A decision commits before it writes them, so a reader's
snapshot taken after holds whatever they name, where one read after the snapshot could come
from a decision committed meanwhile (another machine's approval or decline named the warehouse
as restored from a backup, and a batch just published as another warehouse's: exit 3).
`proof.check` checks the warehouse against them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transforms.finance import outbox_head, warehouse
from transforms.finance.outbox import TRAILER


@dataclass(frozen=True)
class Witnesses:
    """What the outbox `root` showed before the warehouse was read (`witnessed`): the trailers
    of its batches and the journal heads its incidents kept; and the decisions the run folders
    kept (`runs`; None: read with the warehouse, by a writer under the lock)."""

    root: Path | None
    trailers: frozenset[Path]
    heads: dict[Path, outbox_head.Head | str]
    runs: dict[Path, outbox_head.Head | str] | None = None
    incidents: frozenset[Path] = frozenset()  # the incidents' folders (`outbox_head.missing`)
    strays: frozenset[Path] = frozenset()  # folders holding a trailer off the layout (`strays`)

    def seen(self) -> tuple[frozenset[Path], frozenset[Path], dict[Path, outbox_head.Head | str]]:
        """What says a head was kept in the outbox, and the heads (`outbox_head.missing`)."""
        return self.incidents, self.trailers, self.heads


def witnessed(root: Path | None, run_folders: Iterable[Path] | None = None) -> Witnesses:
    """The outbox's trailers and journal heads as they are now, and the decisions the run
    folders beside `run_folders` keep (from an earlier look at the warehouse: `witnessed_at`;
    None: a writer under the lock reads them with the warehouse)."""
    kept = None if run_folders is None else outbox_head.runs_kept(run_folders, every_incident=True)
    if root is None or not Path(root).is_dir():
        return Witnesses(root, frozenset(), {}, kept)
    # each before the heads: a head is kept before its incident's folder holds anything else
    trailers = outbox_head.trailers(root)
    incidents = outbox_head.incident_folders(root)
    heads = outbox_head.heads_kept(root)
    return Witnesses(root, trailers, heads, kept, incidents, strays(root))


def strays(root: Path) -> frozenset[Path]:
    """The folders below the outbox `root` that hold a batch trailer but are not where the
    layout puts a batch (`incident=<id>/batch=<id>`; a folder inside one is its batch's to name,
    `outbox.check`): a batch copied or linked under another name, which whoever picks batches up
    by their trailer would pay again. Hidden folders are left out, as a batch's hidden files
    are; a link is named as it is, not followed further."""
    found = set()
    top = Path(os.path.abspath(root))
    for folder, names, _ in os.walk(top):
        here = Path(folder)
        depth = len(here.relative_to(top).parts)
        if depth == 1 and here.name.startswith("incident="):
            names[:] = [n for n in names if not n.startswith(("batch=", "run="))]
        names[:] = [n for n in names if not n.startswith(".")]
        found.update(here / n for n in names if (here / n).is_symlink())
        if depth:
            found.add(here)
    return frozenset(f for f in found if _holds_trailer(f))


def _holds_trailer(folder: Path) -> bool:
    try:
        return (folder / TRAILER).is_file()
    except OSError:  # a folder this login may not search: what it holds cannot be picked up
        return False


def witnessed_at(location: warehouse.Location, root: Path | None) -> Witnesses:
    """`witnessed`, with the decisions kept in the folders of every run a first look at the
    warehouse at `location` finds: for a reader that lets writers on (`audit --verify`,
    approval's dry run), which then reads the warehouse anew."""
    return witnessed(root, warehouse.run_folders(location))
