"""Sealing a run: loaded into the warehouse, the manifest written last, and only then is the run
decidable and the scratch folder removed, all under the warehouse's write lock.
"""

from __future__ import annotations

import dataclasses

from transforms.finance import ledger, warehouse
from transforms.runfolder import manifest, runs
from transforms.runfolder.manifest_model import Manifest
from transforms.runfolder.runs import Run
from transforms.runfolder.summary import RunSummary


def seal(
    run: Run, content: Manifest, location: warehouse.Location, key: bytes | None
) -> RunSummary:
    """Loads the run into the warehouse (status sealing), writes the manifest (the last file of
    a run), then gives the run its verdict's status (pending_approval or rejected) and journals
    it, all under the warehouse's write lock; the scratch folder goes last. A run killed before
    its manifest stays `sealing`: never approvable, never answering for its incident. Returns
    what callers read of the run, with whether approving it would publish nothing new (what it
    says last)."""
    summary = manifest.summary(content, run)
    with warehouse.writer(location) as con:
        warehouse.load_run(con, run, content)
        manifest.write(content, run.folder / "manifest.json")
        warehouse.seal_run(con, run, summary, key)
        if summary.verdict == runs.RunStatus.PENDING_APPROVAL:
            found = ledger.nothing_new(con, run.run_id, run.incident_id)
            summary = dataclasses.replace(summary, nothing_new=found)
    runs.finish(run)
    return summary
