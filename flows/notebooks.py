"""`make notebooks`: the analysts' jupytext notebooks run on a warehouse into `.ipynb` files,
outputs and plots included (papermill, the `python3` kernel of the venv).

The kernel talks to papermill over local IPC sockets in a temporary folder, not TCP: nothing
listens on a port, and the kernel has no "running over TCP without encryption" warning to give.
Its own log is quiet; an error in a cell still stops the run, naming the cell.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from flows.settings import warehouse_default

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def notebooks() -> list[Path]:
    """The notebooks, in their numbered order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9]*.py"))


def execute(path: Path, out: Path, incident_id: str, warehouse_path: str):
    """Runs one notebook with its `parameters` cell set; writes and returns the executed one.
    An error in a cell raises papermill's `PapermillExecutionError`, naming the cell."""
    import jupytext
    import papermill
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        local = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "k")}})
        return papermill.execute_notebook(
            jupytext.read(path),
            str(out),
            parameters={"incident_id": incident_id, "warehouse_path": str(warehouse_path)},
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=False,
            config=local,
            # jupyter_client interrupts the kernel before shutting it down, and the kernel may
            # log that as an error: its own log stays quiet (a cell's error fails the run).
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )


def _absolute(location: str) -> str:
    """The warehouse as the notebooks (run in their own folder) find it."""
    from transforms.finance import pg_store

    return location if pg_store.is_url(location) else str(Path(location).resolve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incident", required=True)
    parser.add_argument("--warehouse", default=None, help="a DuckDB file or a postgresql:// URL")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .ipynb files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in notebooks():
        target = args.out / f"{path.stem}.ipynb"
        execute(path, target, args.incident, _absolute(args.warehouse or warehouse_default()))
        print(target)


if __name__ == "__main__":
    main()
