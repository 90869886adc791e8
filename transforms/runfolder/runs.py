"""A run folder: `<output_root>/incident=<id>/run=<run_id>/`, with a scratch `_work/` inside.

Scratch files (the work database, spill files, the unvalidated credit file) live in `_work/`
and are removed when the run is published or rejected; the manifest, written last, marks a
finished run folder. `_work/owner.json` names the process running it: the scratch of a run
killed on this machine is removed by the next run there (`sweep`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from transforms import processes
from transforms.errors import ConfigError

if TYPE_CHECKING:  # typing only: support's quick commands import this module, not the parser
    from transforms.ingest.incident import Incident


class RunStatus(StrEnum):
    """A run's status in the warehouse: `sealing` until its manifest is written, then
    `pending_approval` (passed the gate) or `rejected`; finance makes a pending run `published`
    or `declined`."""

    SEALING = "sealing"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    PUBLISHED = "published"
    DECLINED = "declined"


@dataclass(frozen=True)
class Run:
    """One pipeline run over one incident."""

    run_id: str
    incident_id: str
    folder: Path
    started_at: datetime

    @property
    def work_dir(self) -> Path:
        return self.folder / "_work"

    @property
    def work_db(self) -> Path:
        return self.work_dir / "work.duckdb"

    @property
    def spill_dir(self) -> Path:
        return self.work_dir / "spill"


OWNER = "owner.json"  # in `_work/`: the process running the run


@dataclass(frozen=True)
class Swept:
    """The scratch folder of a killed run, removed: the run folder and what it held."""

    folder: Path
    size_bytes: int


def still_running(folder: Path) -> bool | None:
    """Whether the run of `folder` (one not sealed) is still at work: True if its recorded
    process runs on this machine, False if that process is gone or its scratch was removed
    without a manifest (a later run's `sweep`), None where this machine cannot tell (another
    machine's run, no folder, no record)."""
    owner = processes.Recorded.read(folder / "_work" / OWNER)
    if owner is not None:
        return owner.alive() if owner.here else None
    if folder.is_dir() and not (folder / "_work").exists():
        return None if (folder / "manifest.json").exists() else False
    return None


def start(incident: Incident, output_root: Path, now: datetime | None = None) -> Run:
    """Creates a new run folder named by the UTC start time and the inputs' fingerprint: two
    runs with another window, policy or input file differ in the run id's suffix."""
    started_at = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = f"{started_at:%Y%m%dT%H%M%S%fZ}-{inputs_fingerprint(incident)[:8]}"
    folder = Path(output_root).resolve() / f"incident={incident.id}" / f"run={run_id}"
    run = Run(run_id, incident.id, folder, started_at)
    run.spill_dir.mkdir(parents=True)
    processes.Recorded.of().write(run.work_dir / OWNER)
    _require_outside_the_logs(incident, Path(output_root), run)
    return run


def _require_outside_the_logs(incident: Incident, output_root: Path, run: Run) -> None:
    """Refuses (exit 2) an output folder whose run folders `sources.logs` reads: each run would
    read the earlier runs' files (and its own scratch) as log lines, and no two runs of the
    same inputs would be alike. Checked once this run's folder is there, so that a glob such as
    `**` that would read it is caught on the first run. Logs below the output folder (an output
    folder above them) are no run's files: fine."""
    from transforms.ingest import logs  # here: support's quick commands import this module

    root = output_root.resolve()
    inside = [p for p in logs.of_incident(incident) if _of_a_run(p, root)]
    if inside:
        shutil.rmtree(run.folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # the incident's folder, if this run made it
            run.folder.parent.rmdir()
        raise ConfigError(
            f"the output folder {output_root} is inside what sources.logs reads (it matches "
            f"{inside[0]}): each run would read earlier runs' files as logs. Give --output-dir "
            "a folder outside the logs, or narrow sources.logs"
        )


def _of_a_run(path: Path, root: Path) -> bool:
    """Whether `path` is in a run folder under `root` (`incident=*/run=*/...`)."""
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return False
    return len(parts) > 2 and parts[0].startswith("incident=") and parts[1].startswith("run=")


def sweep(output_root: Path) -> list[Swept]:
    """Removes the `_work/` of every run folder under `output_root` whose run was killed on
    this machine (its recorded process is gone); a run of another machine, one still running,
    and one without a record (an older version's) are left as they are."""
    swept = []
    for owner_file in sorted(Path(output_root).glob(f"incident=*/run=*/_work/{OWNER}")):
        owner = processes.Recorded.read(owner_file)
        if owner is None or not owner.here or owner.alive():
            continue
        work_dir = owner_file.parent
        size = _size(work_dir)
        shutil.rmtree(work_dir, ignore_errors=True)
        if not work_dir.exists():
            swept.append(Swept(work_dir.parent, size))
    return swept


def sweep_mine(output_root: Path) -> list[Swept]:
    """Removes the `_work/` under `output_root` that this process's own run left: a run that
    stopped with its flow cut short (its Prefect server gone) ends here with nothing to seal."""
    me = processes.Recorded.of()
    swept = []
    for owner_file in sorted(Path(output_root).glob(f"incident=*/run=*/_work/{OWNER}")):
        if processes.Recorded.read(owner_file) == me:
            work_dir = owner_file.parent
            size = _size(work_dir)
            shutil.rmtree(work_dir, ignore_errors=True)
            swept.append(Swept(work_dir.parent, size))
    return swept


def _size(folder: Path) -> int:
    try:
        return sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())
    except OSError:  # removed meanwhile by another run's sweep
        return 0


def inputs_fingerprint(incident: Incident) -> str:
    """sha256 (hex) of what a run reads, known before it reads it: the window (UTC), the
    policy's sha256, and each input as found at the start: a file by its path, size and
    modification time (its contents are hashed into the manifest as they are read), a database
    source by what it names."""
    from transforms.ingest import logs  # here: support's quick commands import this module

    sources = incident.sources
    logs_found = logs.of_incident(incident)
    tables = [sources.transactions, sources.customers]
    described = {
        "window": [incident.window_start.isoformat(), incident.window_end.isoformat()],
        "policy": incident.policy.sha256,
        "files": [_file_stamp(p) for p in [*logs_found, *(t.path for t in tables if t.path)]],
        "tables": [[t.kind, t.table, t.query] for t in tables],
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _file_stamp(path: Path) -> list:
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def finish(run: Run) -> None:
    """Removes the scratch folder."""
    shutil.rmtree(run.work_dir, ignore_errors=True)
