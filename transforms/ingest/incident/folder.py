"""The incident files of a folder the daily run runs (`data/incidents/`), and the near misses it
leaves out, each with why: never a file skipped without a word, never two competing runs of one
incident a day."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transforms.errors import CreditsError

HIDDEN = "a hidden file (an editor's lock or backup?): not run"
# An incident kept in a subfolder (beside its logs and tables, or archived): noted, as a hidden
# file is, not a failure: an archive folder would fail every daily run.
IN_SUBFOLDER = (
    "in a subfolder: not run (the daily run reads only the folder's top level); move it up, its "
    "sources' paths relative to the folder, to have it run daily"
)
# Left out without failing the daily run: noted only.
NOTED = frozenset((HIDDEN, IN_SUBFOLDER))


@dataclass(frozen=True)
class FolderFiles:
    """The files to run, in name order, and those left out: name as shown -> why."""

    found: list[Path] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)


def incident_files(folder: Path) -> FolderFiles:
    """`*.toml` files of `folder` (any case). Left out: a hidden file (an editor's lock or
    backup), a name that is not UTF-8 or ends in a blank, a folder (subfolders are not read), an
    incident file one subfolder down (`IN_SUBFOLDER`, named `<subfolder>/<file>`), and every file
    of an incident id that another file names too (a file that does not load is run, and its own
    run names what is wrong)."""
    from transforms.ingest import incident

    found: list[Path] = []
    left_out: dict[str, str] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        name = path.name
        if not name.strip().lower().endswith(".toml"):
            continue  # notes, logs, tables: not meant as an incident file
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            left_out[shown] = "its name is not UTF-8: rename it"
            continue
        if name.startswith("."):
            left_out[name] = HIDDEN
        elif name != name.rstrip():
            left_out[name] = "its name ends in a blank: rename it"
        elif path.is_dir():
            left_out[name] = "a folder: subfolders are not read"
        else:
            found.append(path)
    left_out |= dict.fromkeys(files_below(folder), IN_SUBFOLDER)
    by_id: dict[str, list[Path]] = {}
    for path in found:
        try:
            by_id.setdefault(incident.load(path).id, []).append(path)
        except CreditsError:
            continue
    for incident_id, same in by_id.items():
        for path in same if len(same) > 1 else ():
            others = ", ".join(p.name for p in same if p != path)
            left_out[path.name] = (
                f"incident {incident_id} is also in {others}: one file per incident; none of "
                "them is run"
            )
    return FolderFiles([p for p in found if p.name not in left_out], left_out)


def files_below(folder: Path) -> list[str]:
    """The incident files one folder down (`*.toml`, any case; hidden folders and files left
    out), each as `<subfolder>/<file>`, sorted: an incident kept beside its logs and tables."""
    found = []
    for path in folder.glob("*/*") if folder.is_dir() else []:
        below = path.relative_to(folder)
        if not path.name.strip().lower().endswith(".toml"):
            continue  # named first: a log folder kept beside an incident is not looked at
        if not any(part.startswith(".") for part in below.parts) and not path.is_dir():
            found.append(
                below.as_posix().encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            )
    return sorted(found)
