"""`make notebooks`: the analysts' jupytext notebooks run on a warehouse into `.ipynb` files,
outputs and plots included (papermill, the `python3` kernel of the venv).

The kernel talks to papermill over local IPC sockets in a temporary folder, not TCP: nothing
listens on a port, and the kernel has no "running over TCP without encryption" warning to give.
Its own log is quiet; an error in a cell still stops the run, naming the cell.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from flows.settings import warehouse_default
from transforms.errors import CreditsError, InputError

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
    """The warehouse as the notebooks (run in their own folder) find it: a URL without its
    password, which moves to PGPASSWORD for the kernel (papermill writes the parameters into
    every `.ipynb`), a file by its absolute path; blanks around it dropped (`files.as_given`)."""
    from flows.settings import warehouse_parameter
    from transforms import files
    from transforms.finance import pg_location

    location = files.as_given(location)
    pg_location.require_location(location)
    if pg_location.is_url(location):
        pg_location.server_of(location)  # a URL libpq would read otherwise: exit 2, unshown
        return warehouse_parameter(location)
    return str(Path(location).resolve())


def _incident(warehouse_path: str, incident_id: str) -> str:
    """The incident as the warehouse holds it (blanks around it dropped); `InputError` naming
    the ones it holds, before any notebook runs, so no output of an earlier run is replaced by
    notebooks that can only fail."""
    from transforms.serving import analysis, support

    with support.connect(warehouse_path) as con:
        if not incident_id.strip():  # `make notebooks NB_INCIDENT=`
            listed = ", ".join(sorted(support.answering_runs(con))) or "none yet"
            raise InputError(
                "no incident given (--incident, NB_INCIDENT of `make notebooks`, is empty): "
                f"give one the warehouse holds ({listed})"
            )
        return analysis.pick_run(con, incident_id).incident_id


def _exit_code(name: str) -> int:
    """The exit code of the error a cell raised, by its class's name, as the CLI's (the
    README's table); 1 for anything else."""
    found, classes = {}, [CreditsError]
    while classes:
        cls = classes.pop()
        found[cls.__name__] = cls.exit_code
        classes += cls.__subclasses__()
    return found.get(name, 1)


def _made_for(notebook: Path) -> tuple[str, str] | None:
    """The incident and warehouse papermill recorded in an executed notebook; None if it
    records none (not one of ours)."""
    try:
        given = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["papermill"]
        return given["parameters"]["incident_id"], given["parameters"]["warehouse_path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _failed(target: Path, failed: Path, error: Exception, removed: str | None = None) -> int:
    """One line naming the notebook, the cell's error and where the failed run is (the last
    good `target` is kept, or `removed` says why it went); its exit code."""
    name = getattr(error, "ename", type(error).__name__)
    value = getattr(error, "evalue", str(error))
    line = " ".join(str(value).split())
    notes = [f"the cell is in {failed}"] if failed.exists() else []
    notes += [f"the last good {target.name} is kept"] if target.exists() else []
    notes += [removed] if removed is not None else []
    where = f" ({'; '.join(notes)})" if notes else ""
    print(f"error: {target.name}: {name}: {line}{where}", file=sys.stderr)
    return _exit_code(name)


def _run_one(path: Path, out: Path, incident_id: str, warehouse_path: str) -> int:
    """Runs one notebook into `out/NAME.ipynb`, replaced only when every cell ran (papermill
    writes as it goes, and a failed run would overwrite the last good outputs): a failed run
    stays beside it as `NAME.failed.ipynb`, removed by the next good one. The last good one is
    kept only if it was made for this incident on this warehouse: another's, beside this
    incident's other notebooks, would read as this incident's. 0, or the exit code."""
    target = out / f"{path.stem}.ipynb"
    failed = out / f"{path.stem}.failed.ipynb"
    partial = out / f".{path.stem}.partial.ipynb"
    failed.unlink(missing_ok=True)  # an earlier failure's, not this run's
    try:
        execute(path, partial, incident_id, warehouse_path)
    except Exception as error:  # papermill's error names the cell's own
        if partial.exists():
            os.replace(partial, failed)
        made_for = _made_for(target)
        if made_for is None or made_for == (incident_id, str(warehouse_path)):
            return _failed(target, failed, error)
        target.unlink()
        removed = (
            f"the earlier {target.name}, of incident {made_for[0]} on {made_for[1]}, is "
            "removed: it was not this run's"
        )
        return _failed(target, failed, error, removed)
    except BaseException:  # an interrupt: the half-run notebook goes
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    failed.unlink(missing_ok=True)
    print(target)
    return 0


NB_WAREHOUSE = "`make notebooks NB_WAREHOUSE=PATH`"
NB_WAREHOUSE_URL = "`make notebooks NB_WAREHOUSE=URL`"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incident", required=True)
    parser.add_argument("--warehouse", default=None, help="a DuckDB file or a postgresql:// URL")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .ipynb files")
    args = parser.parse_args()
    try:
        warehouse_path = _absolute(args.warehouse or warehouse_default())
        incident_id = _incident(warehouse_path, args.incident)
    except CreditsError as error:
        from transforms.finance.pg_location import Unreachable
        from transforms.finance.warehouse import NoWarehouseYet
        from transforms.serving.support import UnknownIncident

        # `make notebooks` takes the warehouse as NB_WAREHOUSE, the incident as NB_INCIDENT
        # (the sample's unless given: an id the analyst may never have typed)
        said = ""
        if isinstance(error, NoWarehouseYet):
            error = NoWarehouseYet(error.path, f"{NB_WAREHOUSE} (or set CREDITS_WAREHOUSE)")
        elif isinstance(error, Unreachable):
            error = error.given_as(f"{NB_WAREHOUSE_URL}, or set CREDITS_WAREHOUSE")
        elif isinstance(error, UnknownIncident) and error.meant is not None:
            said = f": run them on it with `make notebooks NB_INCIDENT={error.meant}`"
        elif isinstance(error, UnknownIncident):
            said = ": give one it holds as `make notebooks NB_INCIDENT=ID`"
        print(f"error: {error}{said}", file=sys.stderr)
        sys.exit(error.exit_code)
    args.out.mkdir(parents=True, exist_ok=True)
    # the sample's incident unless NB_INCIDENT is given: an analyst of another must see it
    print(
        f"the notebooks of {incident_id} on the warehouse {warehouse_path} (another incident: "
        "`make notebooks NB_INCIDENT=ID`):"
    )
    codes = []
    try:
        # Every notebook runs, each on its own: one that fails (02 on a rejected run, which
        # has no credits) does not keep the others (03's window edges) from the analyst.
        for path in notebooks():
            codes.append(_run_one(path, args.out, incident_id, warehouse_path))
    except KeyboardInterrupt:
        print("stopped: the notebooks were interrupted; run them again", file=sys.stderr)
        sys.exit(130)
    if any(codes):
        sys.exit(max(codes))


if __name__ == "__main__":
    main()
