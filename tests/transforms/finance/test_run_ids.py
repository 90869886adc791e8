"""A run id as finance pastes it: the run folder `credits run` printed, blanks, a case slip or
half of the id; what was pasted is read as the id it holds, or a slip names the run meant."""

from __future__ import annotations

import pytest

from flows.cli.options import run_id_given
from tests.support_warehouse import add_run
from transforms import commands
from transforms.errors import InputError
from transforms.finance import approval, warehouse

RUN = "20250108T010000123456Z-3fa2c1d0"


@pytest.mark.parametrize(
    "pasted",
    [
        RUN,
        f" {RUN}\n",
        f"run={RUN}",
        f"data/output/incident=INC-A/run={RUN}/",  # what `credits run` prints last
        f"/abs/data/output/incident=INC-A/run={RUN}",
        # a file of the run folder: the report's address as the browser shows it, the manifest
        f"file:///abs/data/output/incident=INC-A/run={RUN}/report.html",
        f"data/output/incident=INC-A/run={RUN}/manifest.json",
    ],
)
def test_what_was_pasted_is_read_as_the_run_id_it_holds(pasted):
    assert run_id_given(pasted) == RUN


@pytest.mark.parametrize("pasted", ["", "  ", "/", "run="])
def test_nothing_pasted_is_named_not_looked_up(pasted):
    # `credits approve "$RUN"` with RUN unset said "run : not in the warehouse"
    import typer

    with pytest.raises(typer.BadParameter, match="empty: give the run id"):
        run_id_given(pasted)


@pytest.mark.parametrize(
    "slip",
    [
        RUN.lower(),  # z and t in lowercase
        "3fa2c1d0",  # the inputs' fingerprint alone
        "20250108T010000123456Z",  # the start time alone
        "20250108t0100",  # the start's first digits, a case slip too (no hint before)
        "3FA2C1D0",  # the fingerprint in capitals (no hint before)
    ],
)
def test_a_slip_names_the_run_meant_but_is_never_taken_for_it(tmp_path, slip):
    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, RUN, "pending_approval", "2025-01-08T01:00:00Z")
        add_run(con, "20250109T010000000000Z-00000000", "pending_approval", "2025-01-09T01:00:00Z")
    with warehouse.connect(path, read_only=True) as con:
        with pytest.raises(InputError, match=f"not in the warehouse; did you mean {RUN}\\?"):
            approval.find_run(con, slip)
        with pytest.raises(InputError) as unknown:
            approval.find_run(con, "3fa2")  # too short to name one run
        assert "did you mean" not in str(unknown.value)  # only the newest run named
        newest = "20250109T010000000000Z-00000000 (INC-A, pending_approval)"
        listed = f"the newest run is {newest} (`{commands.credits('runs')}`"
        assert listed in str(unknown.value)


def test_a_slip_that_fits_several_runs_names_the_newest_first(tmp_path):
    # a day's runs: "20250108" named the three oldest of the day, not the one just made
    path = tmp_path / "wh.duckdb"
    runs = [f"20250108T0{h}0000000000Z-0000000{h}" for h in range(1, 6)]
    with warehouse.writer(path) as con:
        for h, run in enumerate(runs, start=1):
            add_run(con, run, "pending_approval", f"2025-01-08T0{h}:00:00Z")
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, "20250108")
    assert f"did you mean {runs[4]} or {runs[3]} or {runs[2]}?" in str(raised.value)


@pytest.mark.parametrize("command", [["diff"], ["approve", "--dry-run"]])
def test_the_commands_read_a_pasted_run_folder_as_its_id(tmp_path, command):
    from typer.testing import CliRunner

    from flows.cli import app

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, RUN, "pending_approval", "2025-01-08T01:00:00Z")
    pasted = f"data/output/incident=INC-A/run={RUN[:-1]}/"  # its last character lost
    result = CliRunner().invoke(app, [*command, pasted, "--warehouse", str(path)])
    assert result.exit_code == 2
    assert f"run {RUN[:-1]}: not in the warehouse; did you mean {RUN}?" in " ".join(
        result.stderr.split()
    )


def test_against_reads_a_pasted_run_folder_too(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, RUN, "pending_approval", "2025-01-08T01:00:00Z")
    against = f"data/output/incident=INC-A/run=NOPE-{RUN[-8:]}/"
    result = CliRunner().invoke(app, ["diff", RUN, "--against", against, "--warehouse", str(path)])
    assert result.exit_code == 2
    assert f"run NOPE-{RUN[-8:]}: not in the warehouse" in " ".join(result.stderr.split())


def test_an_incident_id_given_for_a_run_names_its_runs_newest_first(tmp_path):
    # `credits diff INC-A` said only "run INC-A: not in the warehouse"
    path = tmp_path / "wh.duckdb"
    older = "20250107T010000000000Z-00000001"
    with warehouse.writer(path) as con:
        add_run(con, older, "declined", "2025-01-07T01:00:00Z")
        add_run(con, RUN, "pending_approval", "2025-01-08T01:00:00Z")
        add_run(
            con,
            "20250109T010000000000Z-00000002",
            "pending_approval",
            "2025-01-09T01:00:00Z",
            incident="INC-B",
        )
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, "INC-A")
    assert (
        f"run INC-A: not in the warehouse; INC-A is an incident: its runs, newest first: {RUN} "
        f"(pending_approval), {older} (declined); `{commands.credits(commands.runs_of('INC-A'))}`"
    ) in str(raised.value)


@pytest.mark.parametrize("pasted", ["RUN_ID", "20261207T083738282522Z-363b1e21"])
def test_an_unknown_run_like_no_other_names_the_newest_run(tmp_path, pasted):
    # README's `credits diff RUN_ID` pasted as is said only "run RUN_ID: not in the warehouse":
    # which id to give instead, unsaid
    path = tmp_path / "wh.duckdb"
    newest = "20250109T010000000000Z-00000002"
    with warehouse.writer(path) as con:
        add_run(con, RUN, "published", "2025-01-08T01:00:00Z")
        add_run(con, newest, "pending_approval", "2025-01-09T01:00:00Z", incident="INC-B")
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, pasted)
    assert str(raised.value) == (
        f"run {pasted}: not in the warehouse; the newest run is {newest} (INC-B, "
        f"pending_approval) (`{commands.credits('runs')}` lists the runs)"
    )


@pytest.mark.parametrize(
    "pasted",
    [
        f"{RUN}.",  # copied from the end of a sentence
        f"{RUN}`",  # from a hint's `credits diff RUN`, one character too far
        f"'{RUN}'",  # quoted twice, from a shell line or a JSON value
        f"run {RUN}:",  # from an error's "run RUN: ..."
    ],
)
def test_an_id_pasted_with_punctuation_around_it_names_the_run_but_is_never_taken(tmp_path, pasted):
    # it said only "the newest run is ...", which may be another run
    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, RUN, "pending_approval", "2025-01-08T01:00:00Z")
        add_run(con, "20250109T010000000000Z-00000000", "pending_approval", "2025-01-09T01:00:00Z")
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, pasted)
    assert f"run {pasted}: not in the warehouse; did you mean {RUN}?" in str(raised.value)


@pytest.mark.parametrize("pasted", ["INC-A-B001", "batch=INC-A-B001"])
def test_a_batch_id_given_for_a_run_names_the_run_it_was_published_from(tmp_path, pasted):
    # `approve INC-A-B001` (the batch `approve` printed, or its folder) said only "the newest
    # run is ...", which may be another run than the batch's
    from tests.support_warehouse import add_payment

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "r1", "published", "2025-01-08T01:00:00Z")
        add_run(con, RUN, "pending_approval", "2025-01-09T01:00:00Z")
        add_payment(con, "c1", 1000)
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, pasted)
    assert str(raised.value).startswith(
        f"run {pasted}: not in the warehouse; INC-A-B001 is a batch of INC-A, published from "
        "run r1: give a run id ("
    ), str(raised.value)


def test_an_incident_s_runs_are_named_in_the_order_the_journal_saw_them_start(tmp_path):
    # a machine whose clock ran a day fast started the older run: its start time came last
    from transforms.finance import journal

    path = tmp_path / "wh.duckdb"
    fast = "20250109T010000000000Z-0000000f"
    with warehouse.writer(path) as con:
        for run_id, started in ((fast, "2025-01-09T01:00:00Z"), (RUN, "2025-01-08T01:00:00Z")):
            journal.append(
                con, "started", actor="pipeline", key=None, incident_id="INC-A", run_id=run_id
            )
            add_run(con, run_id, "pending_approval", started)
    with warehouse.connect(path, read_only=True) as con, pytest.raises(InputError) as raised:
        approval.find_run(con, "INC-A")
    assert f"its runs, newest first: {RUN} (pending_approval), {fast} (pending_approval)" in str(
        raised.value
    )
