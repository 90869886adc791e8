"""The analysts' notebooks, executed on the sample incident's warehouse, and support's commands
answering on the same warehouse (the sample carries hostile customer names).

The session's run of the sample (scale 1, through the real flow) is approved in a copy of its
warehouse; each notebook is read by jupytext and executed by papermill in a `python3` kernel,
which in the venv is the venv's own Python (ipykernel installs its kernelspec into the venv).
Any error in a cell fails the test.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9]*.py"))
INCIDENT = "INC-2025-01-07"


@pytest.fixture(scope="session")
def sample_warehouse(sample_run, tmp_path_factory) -> Path:
    """A copy of the session's sample warehouse with its run approved, once a session: the
    approval writes `decision.json` into the run folder, which every copy shares, so a second
    approval (the fixture made again when xdist interleaves this module with others) was refused
    as a warehouse older than the run's decision."""
    from transforms.finance import ledger

    folder = tmp_path_factory.mktemp("sample")
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(sample_run.warehouse, warehouse)
    run_id = sample_run.summary.run_id
    ledger.approve(warehouse, run_id, by="analyst", note=None, outbox=folder / "outbox")
    return warehouse


def test_there_are_the_three_notebooks():
    assert [p.stem for p in NOTEBOOKS] == [
        "01-incident-timeline",
        "02-affected-customers",
        "03-window-edges",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_is_canonical_jupytext_with_a_parameters_cell(path):
    import jupytext

    notebook = jupytext.read(path)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "incident_id" in tagged[0].source
    assert "warehouse_path" in tagged[0].source

    def without_version(text: str) -> str:  # what jupytext writes back, but for its version
        return "".join(line for line in text.splitlines(True) if "jupytext_version" not in line)

    written = jupytext.writes(notebook, "py:percent")
    assert without_version(written) == without_version(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_green_on_the_sample(path, sample_warehouse, tmp_path, monkeypatch, capfd):
    from flows import notebooks

    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / f"{path.stem}.ipynb"
    executed = notebooks.execute(path, out, INCIDENT, sample_warehouse)
    assert "running over TCP" not in "".join(capfd.readouterr())  # the kernel's own output
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and str(sample_warehouse) in injected[0].source
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    assert INCIDENT in printed
    shown = "".join(
        str(output.get("data", {}).get("text/plain", ""))
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    if path.stem == "02-affected-customers":  # the sample's policy is flat: one bar per currency
        assert "USD 10.00" in shown and "JPY 1,500" in shown
        # the failed amounts by class in whole minor units (it showed 19.0 payments and a mean
        # of 23973.157895 minor units)
        (amounts,) = [c for c in executed.cells if '["amount_minor"]' in c.source]
        table = str(amounts.outputs[0]["data"]["text/plain"])
        assert "median" in table and "." not in table


def test_make_notebooks_runs_the_numbered_notebooks():
    from flows import notebooks

    assert notebooks.notebooks() == NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_legend_is_drawn_over_the_data(path):
    """A legend goes beside the axes (`bbox_to_anchor`) or below the figure (`outside`)."""
    legends = [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "legend"
    ]
    for call in legends:
        given = {k.arg: k.value for k in call.keywords}
        loc = given.get("loc")
        outside = isinstance(loc, ast.Constant) and str(loc.value).startswith("outside")
        assert "bbox_to_anchor" in given or outside, f"line {call.lineno}"


def credits_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_support_answers_on_the_sample_safely(sample_warehouse, tmp_path):
    """Speed is measured by `make bench` (the support page's case), never asserted here."""
    out = tmp_path / "notice.csv"
    listed = credits_command(
        "customers",
        INCIDENT,
        "--format",
        "csv",
        "--out",
        str(out),
        "--warehouse",
        str(sample_warehouse),
    )
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    names = {row["name"] for row in rows}
    assert {'\'=HYPERLINK("http://x","click")', "'+cmd|' /C calc'!A0"} <= names
    assert {row["status"] for row in rows} == {"published", "by_hand", "excluded"}
    customer = next(row["customer_id"] for row in rows if row["name"].startswith("'=HYPERLINK"))
    looked_up = credits_command("lookup", customer, "--warehouse", str(sample_warehouse))
    assert looked_up.returncode == 0, looked_up.stderr
    assert "paid USD" in looked_up.stdout


def test_a_url_password_stays_out_of_the_notebooks_parameters(monkeypatch):
    """papermill writes the parameters into every `.ipynb`: the kernel gets the password from
    PGPASSWORD (it inherits the environment), the files never hold it."""
    from flows import notebooks

    monkeypatch.delenv("PGPASSWORD", raising=False)
    given = "postgresql://fin:s3cret@db:5432/c?sslmode=require"
    assert notebooks._absolute(given) == "postgresql://fin@db:5432/c?sslmode=require"
    assert os.environ["PGPASSWORD"] == "s3cret"


def test_every_notebook_runs_and_each_failure_is_one_line_with_the_clis_exit_code(
    monkeypatch, tmp_path, capsys
):
    from papermill.exceptions import PapermillExecutionError

    from flows import notebooks

    def execute(path, out, incident_id, warehouse_path):
        out.write_text("{}")  # papermill writes as it goes, the failed cell included
        if path.stem.startswith("02"):  # as on a rejected run: no credits to show
            raise PapermillExecutionError(
                3, 3, "support.customers(...)", "InputError", "incident X: no credits", []
            )

    kept = tmp_path / "02-affected-customers.ipynb"
    kept.write_text("the last good run")
    monkeypatch.setattr(notebooks, "execute", execute)
    monkeypatch.setattr(notebooks, "_incident", lambda warehouse_path, incident_id: incident_id)
    monkeypatch.setattr(
        sys, "argv", ["notebooks", "--incident", "X", "--warehouse", "w", "--out", str(tmp_path)]
    )
    with pytest.raises(SystemExit) as exited:
        notebooks.main()
    assert exited.value.code == 2
    printed = capsys.readouterr()
    assert printed.err.strip() == (
        "error: 02-affected-customers.ipynb: InputError: incident X: no credits "
        f"(the cell is in {tmp_path / '02-affected-customers.failed.ipynb'};"
        " the last good 02-affected-customers.ipynb is kept)"
    )
    assert kept.read_text() == "the last good run"  # a failed run replaces no output
    assert (tmp_path / "03-window-edges.ipynb").exists()  # run after 02 failed
    assert "03-window-edges.ipynb" in printed.out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-incident-timeline.ipynb",
        "02-affected-customers.failed.ipynb",
        "02-affected-customers.ipynb",
        "03-window-edges.ipynb",
    ]


def test_the_notebooks_say_which_incident_they_were_run_on(monkeypatch, tmp_path, capsys):
    # `make notebooks` on a warehouse of one's own incidents ran the sample's, unsaid: the
    # lines named three .ipynb files and nothing of INC-2025-01-07 or how to pick another
    from flows import notebooks

    monkeypatch.setattr(notebooks, "execute", lambda path, out, *_: out.write_text("{}"))
    monkeypatch.setattr(notebooks, "_incident", lambda warehouse_path, incident_id: incident_id)
    monkeypatch.setattr(
        sys,
        "argv",
        ["notebooks", "--incident", "INC-A", "--warehouse", "/w", "--out", str(tmp_path)],
    )
    notebooks.main()
    first = capsys.readouterr().out.splitlines()[0]
    assert "INC-A" in first and "/w" in first and "make notebooks NB_INCIDENT=" in first


def _executed_for(incident_id: str, warehouse_path: str) -> str:
    """An executed notebook as papermill writes it: its parameters in its metadata."""
    parameters = {"incident_id": incident_id, "warehouse_path": warehouse_path}
    return json.dumps({"cells": [], "metadata": {"papermill": {"parameters": parameters}}})


@pytest.mark.parametrize(
    ("made_for", "kept_after"),
    [
        (("X", "/w"), True),  # this incident's on this warehouse: the last good one stays
        (("Y", "/w"), False),  # another incident's: it stood beside X's 01 and 03 as X's 02
        (("X", "/other.duckdb"), False),  # the same incident in another warehouse
    ],
)
def test_a_failed_notebook_keeps_only_a_last_good_run_of_the_same_incident_and_warehouse(
    monkeypatch, tmp_path, capsys, made_for, kept_after
):
    from papermill.exceptions import PapermillExecutionError

    from flows import notebooks

    def execute(path, out, incident_id, warehouse_path):
        out.write_text("{}")
        raise PapermillExecutionError(3, 3, "src", "InputError", "incident X: no answer", [])

    kept = tmp_path / "02-affected-customers.ipynb"
    kept.write_text(_executed_for(*made_for))
    monkeypatch.setattr(notebooks, "execute", execute)
    assert notebooks._run_one(NOTEBOOKS[1], tmp_path, "X", "/w") == 2
    said = capsys.readouterr().err
    assert kept.exists() is kept_after
    if kept_after:
        assert "the last good 02-affected-customers.ipynb is kept" in said
    else:
        assert (
            f"the earlier 02-affected-customers.ipynb, of incident {made_for[0]} on "
            f"{made_for[1]}, is removed: it was not this run's" in said
        )


def test_a_notebook_that_runs_again_green_removes_its_failed_run(monkeypatch, tmp_path):
    from flows import notebooks

    monkeypatch.setattr(notebooks, "execute", lambda path, out, *_: out.write_text("{}"))
    (tmp_path / "01-incident-timeline.failed.ipynb").write_text("{}")
    assert notebooks._run_one(NOTEBOOKS[0], tmp_path, "X", "w") == 0
    assert [p.name for p in tmp_path.iterdir()] == ["01-incident-timeline.ipynb"]


def test_notebook_01_says_the_run_read_no_failure_line(sample_warehouse, tmp_path, monkeypatch):
    """A window on the wrong day reads no log file; a warehouse may lose the rows: the
    timeline says so in one line, and claims no window check or baseline."""
    import duckdb

    from flows import notebooks

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from run_failure_minutes")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    executed = notebooks.execute(NOTEBOOKS[0], tmp_path / "01.ipynb", INCIDENT, warehouse)
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    said = [line for line in printed.splitlines() if line.startswith("no failure line: run ")]
    assert len(said) == 1 and "read no failure line" in said[0]
    assert "window check" not in printed and "baseline" not in printed


def test_notebook_01_says_what_the_runs_window_check_said(sample_warehouse, tmp_path, monkeypatch):
    """It printed "window check: warning" alone: not where, how many lines or customers were
    left out, nor why a check was not made, all of which the run's summary had said."""
    import duckdb

    from flows import notebooks

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    said = "window_check: outage-coded failures above baseline 2025-01-07 13:45 EST to ..."
    with duckdb.connect(str(warehouse)) as con:
        ((run_id, text),) = con.execute("select run_id, manifest from runs").fetchall()
        manifest = json.loads(text)
        manifest["window_check"].update(status="warning", messages=[said])
        con.execute("update runs set manifest = ? where run_id = ?", [json.dumps(manifest), run_id])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    executed = notebooks.execute(NOTEBOOKS[0], tmp_path / "01.ipynb", INCIDENT, warehouse)
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    assert f"window check: warning\n  {said}\n" in printed


@pytest.mark.parametrize(
    ("incident_id", "message"),
    [
        # `make notebooks` gives NB_INCIDENT (the sample's id unless given): the answer says so,
        # and which to give; it named an id and asked "did you mean" without saying where
        (
            "INC-NOPE",
            "incident INC-NOPE: not in the warehouse (incidents: INC-2025-01-07): give one it "
            "holds as `make notebooks NB_INCIDENT=ID`\n",
        ),
        (
            "inc-2025-01-07",
            "did you mean INC-2025-01-07? (ids are case-sensitive): run them on it with "
            "`make notebooks NB_INCIDENT=INC-2025-01-07`\n",
        ),
        (  # `make notebooks NB_INCIDENT=`: it said "incident : not in the warehouse"
            "",
            "error: no incident given (--incident, NB_INCIDENT of `make notebooks`, is empty): "
            "give one the warehouse holds (INC-2025-01-07)\n",
        ),
    ],
)
def test_an_unknown_incident_stops_before_any_notebook_replaces_an_output(
    sample_warehouse, tmp_path, monkeypatch, capsys, incident_id, message
):
    from flows import notebooks

    kept = tmp_path / "02-affected-customers.ipynb"
    kept.write_text("the last good run")
    monkeypatch.setattr(
        sys,
        "argv",
        ["notebooks", "--incident", incident_id, "--warehouse", str(sample_warehouse)]
        + ["--out", str(tmp_path)],
    )
    with pytest.raises(SystemExit) as exited:
        notebooks.main()
    assert exited.value.code == 2 and message in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]
    assert kept.read_text() == "the last good run"


def test_a_missing_warehouse_names_make_notebooks_own_variable(tmp_path, monkeypatch, capsys):
    # it said "give it as --warehouse PATH", which `make notebooks` does not take
    from flows import notebooks
    from transforms import commands

    missing = tmp_path / "nope.duckdb"
    # blanks around it (`NB_WAREHOUSE="... "`) are dropped, as the commands' --warehouse does
    argv = ["notebooks", "--incident", INCIDENT, "--warehouse", f" {missing}\t", "--out", "x"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        notebooks.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: {missing}: no warehouse yet; `{commands.credits('run INCIDENT_FILE')}` creates "
        "it. If the warehouse is "
        "elsewhere, give it as `make notebooks NB_WAREHOUSE=PATH` (or set CREDITS_WAREHOUSE)\n"
    )


def test_an_unreachable_postgresql_warehouse_names_make_notebooks_own_variable(monkeypatch, capsys):
    # it said "fix the URL (CREDITS_WAREHOUSE or --warehouse)", neither of which `make notebooks`
    # was given it by
    from flows import notebooks

    url = "postgresql://nobody@127.0.0.1:9/credits"  # port 9: nothing listens
    argv = ["notebooks", "--incident", INCIDENT, "--warehouse", url, "--out", "x"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        notebooks.main()
    assert exited.value.code == 4
    err = capsys.readouterr().err
    assert err.startswith("error: warehouse postgresql://nobody@127.0.0.1:9/credits: cannot ")
    assert err.endswith(
        "Nothing was read or written; start the server or fix the URL (`make notebooks "
        "NB_WAREHOUSE=URL`, or set CREDITS_WAREHOUSE), then run the command again\n"
    )
