"""Sealing a run: loaded into the warehouse, the manifest written last, and only then is the run
decidable and the scratch folder removed, all under the warehouse's write lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transforms.finance import warehouse
from transforms.runfolder import manifest, runs
from transforms.runfolder.runs import Run


def seal(run: Run, content: dict[str, Any], warehouse_path: Path, key: bytes | None) -> Path:
    """Loads the run into the warehouse (status sealing), writes the manifest (the last file of
    a run), then gives the run its verdict's status (pending_approval or rejected) and journals
    it, all under the warehouse's write lock; the scratch folder goes last. A run killed before
    its manifest stays `sealing`: never approvable, never answering for its incident."""
    path = run.folder / "manifest.json"
    with warehouse.write_lock(warehouse_path), warehouse.connect(warehouse_path) as con:
        warehouse.load_run(con, run, content)
        manifest.write(content, path)
        warehouse.seal_run(con, run, content, key)
    runs.finish(run)
    return path
