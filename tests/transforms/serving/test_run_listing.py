"""`credits runs`: the runs of a small warehouse of inline rows, told apart; no Prefect."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from transforms.errors import ConfigError, InputError
from transforms.finance import warehouse
from transforms.serving import run_listing


def add_run(con, run_id, status, started, incident="INC-A", **extra):
    manifest = {
        "verdict": "rejected" if status == "rejected" else "pending_approval",
        "totals_minor": extra.pop("totals", {"USD": 147500, "JPY": 1500}),
        "incident": {"file": {"path": f"/inc/{incident}.toml", "sha256": "ab" * 32}},
    }
    row = {
        "run_id": run_id,
        "incident_id": incident,
        "incident_title": f"{incident} outage",
        "timezone": "America/New_York",
        "window_start_utc": extra.pop("start", "2025-01-07T19:15:00Z"),
        "window_end_utc": "2025-01-07T23:15:00Z",
        "status": status,
        "policy_version": "p1",
        "policy_sha256": "0" * 64,
        "run_folder": extra.pop("run_folder", f"/runs/{run_id}"),
        "started_at": started,
        "finished_at": started,
        "manifest": json.dumps(manifest),
        **extra,
    }
    con.execute(
        f"insert into runs ({', '.join(row)}) values ({', '.join('?' * len(row))})",
        list(row.values()),
    )


@pytest.fixture
def wh(warehouse_location) -> warehouse.Location:
    """INC-A: r1 published, r2 rejected, r3 pending; INC-B: b1 declined. On each store."""
    with warehouse.writer(warehouse_location) as con:
        add_run(
            con,
            "r1",
            "published",
            "2025-01-08T10:00:00Z",
            batch_id="b1",
            decided_by="fin",
            decided_at="2025-01-08T15:30:00Z",
        )
        add_run(con, "r2", "rejected", "2025-01-09T10:00:00Z", totals={})
        add_run(con, "r3", "pending_approval", "2025-01-10T10:00:00Z", start="2025-01-07T18:00:00Z")
        add_run(
            con,
            "b1",
            "declined",
            "2025-01-11T10:00:00Z",
            incident="INC-B",
            decided_by="ann",
            decided_at="2025-01-11T12:00:00Z",
        )
    return warehouse_location


def listed(wh, incident=None, statuses=()):
    with warehouse.connect(wh, read_only=True) as con:
        return run_listing.runs(con, incident, statuses)


def test_runs_are_listed_newest_first_with_their_current_status(wh):
    assert [(r.run_id, r.status) for r in listed(wh)] == [
        ("b1", "declined"),
        ("r3", "pending_approval"),
        ("r2", "rejected"),
        ("r1", "published"),
    ]


def test_a_run_shows_local_window_decision_batch_money_and_incident_file(wh):
    r1 = next(r for r in listed(wh) if r.run_id == "r1")
    assert r1.window_local == "2025-01-07 14:15 EST to 2025-01-07 18:15 EST"
    assert r1.started_local == "2025-01-08 05:00 EST"
    assert r1.decision == "approved by fin 2025-01-08 10:30 EST"
    assert r1.batch_id == "b1"
    assert r1.totals == ("JPY 1,500", "USD 1,475.00")  # money for people, never minor units
    assert (r1.incident_file, r1.incident_file_sha256) == ("/inc/INC-A.toml", "ab" * 32)
    declined = next(r for r in listed(wh) if r.run_id == "b1")
    assert declined.decision.startswith("declined by ann")
    assert next(r for r in listed(wh) if r.run_id == "r2").totals == ()  # rejected: nothing


def test_a_pending_run_older_than_the_published_one_says_it_is_superseded(wh):
    """r0 started before r1, which is published: approval refuses r0, and the list says so;
    r3, newer, is still for finance to decide; another incident's runs are not compared."""
    with warehouse.writer(wh) as con:
        add_run(con, "r0", "pending_approval", "2025-01-08T09:00:00Z")
        add_run(con, "b0", "pending_approval", "2025-01-01T09:00:00Z", incident="INC-B")
    decisions = {r.run_id: r.decision for r in listed(wh)}
    assert decisions["r0"] == "superseded by r1 (approve refuses it unless forced)"
    assert decisions["r3"] == decisions["b0"] == ""


@pytest.mark.parametrize(
    ("incident", "statuses", "expected"),
    [
        ("INC-A", (), ["r3", "r2", "r1"]),  # one incident
        (None, ("pending_approval", "published"), ["r3", "r1"]),  # some statuses
        ("INC-B", ("published",), []),  # both filters: none left
    ],
)
def test_runs_filter_by_incident_and_status(wh, incident, statuses, expected):
    assert [r.run_id for r in listed(wh, incident, statuses)] == expected


def test_an_unknown_incident_or_status_is_named(wh):
    with pytest.raises(InputError, match=r"incident INC-AA: unknown .*did you mean INC-A\?"):
        listed(wh, "INC-AA")
    # one far from every held id is named none (INC-NOPE was asked "did you mean INC-A?")
    with pytest.raises(InputError) as refused:
        listed(wh, "INC-NOPE")
    assert str(refused.value) == (
        "incident INC-NOPE: unknown to the warehouse (incidents: INC-A, INC-B)"
    )
    # a case slip is named as one (it got no hint)
    with pytest.raises(
        InputError, match=r"incident inc-a: unknown .*did you mean INC-A\? \(ids are case-sensitive"
    ):
        listed(wh, "inc-a")
    with pytest.raises(ConfigError, match=r"--status: 'xyz' is not a run status; choose"):
        listed(wh, None, ("xyz",))


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("aproved", "published"),  # a typo of the journal's word for it
        ("approved", "published"),  # the journal's word; the run's status is published
        ("PUBLISHED", "published"),  # the case only
        ("Pending Approval", "pending_approval"),  # as the table's words read
        ("pending", "pending_approval"),
        ("declnied", "declined"),  # a typo
    ],
)
def test_a_status_mistyped_says_the_one_meant(wh, given, meant):
    # `credits runs --status aproved` listed the statuses but guessed none, unlike
    # `credits customers --status paid` ("did you mean 'published'?")
    with pytest.raises(
        ConfigError, match=rf"'{given}' is not a run status; did you mean '{meant}'\?"
    ):
        listed(wh, None, (given,))


def test_a_status_like_none_names_them_all_without_a_guess(wh):
    with pytest.raises(ConfigError) as raised:
        listed(wh, None, ("xyz",))
    assert "did you mean" not in str(raised.value)
    assert "choose from sealing, pending_approval, rejected, published, declined" in str(
        raised.value
    )


def started(wh, run_id, incident="INC-A", at="2025-01-12T10:00:00+00:00"):
    """A `started` journal entry, as `credits run` appends it before it loads anything."""
    from datetime import datetime

    from transforms.finance import journal

    with warehouse.writer(wh) as con:
        journal.append(
            con,
            "started",
            actor="pipeline",
            key=None,
            incident_id=incident,
            run_id=run_id,
            at=datetime.fromisoformat(at),
        )


def test_a_run_the_journal_saw_start_and_the_warehouse_never_loaded_is_named(wh):
    """k1 and k2 started and were never loaded (killed, or running now): `credits runs` names
    them, newest first, since the runs table has no row of them; r1's start is loaded."""
    started(wh, "r1")
    started(wh, "k1")
    started(wh, "k2", incident="INC-B", at="2025-01-13T10:00:00+00:00")
    with warehouse.connect(wh, read_only=True) as con:
        every = run_listing.unloaded(con)
        of_a = run_listing.unloaded(con, "INC-A")
    assert [(r.run_id, r.incident_id, r.started_utc) for r in every] == [
        ("k2", "INC-B", "2025-01-13 10:00 UTC"),
        ("k1", "INC-A", "2025-01-12 10:00 UTC"),
    ]
    assert [r.run_id for r in of_a] == ["k1"]
    started(wh, "k3", incident="INC-K")  # an incident whose only run was never loaded
    assert listed(wh, "INC-K") == []
    with warehouse.connect(wh, read_only=True) as con:
        assert [r.run_id for r in run_listing.unloaded(con, "INC-K")] == ["k3"]


def test_credits_runs_names_a_run_stopped_before_it_was_loaded(wh):
    from typer.testing import CliRunner

    from flows.cli import app

    started(wh, "k1")
    result = CliRunner().invoke(app, ["runs", "--warehouse", str(wh)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "r1" in result.stdout and "k1" not in result.stdout  # the table: loaded runs only
    assert (
        "run k1 (INC-A) started 2025-01-12 10:00 UTC and is not in the warehouse: it is still "
        "running, or was stopped before its results were loaded (then it can never be "
        "approved: run the incident again)"
    ) in " ".join(result.stderr.split())
    only_pending = CliRunner().invoke(
        app, ["runs", "--warehouse", str(wh), "--status", "pending_approval"]
    )
    assert "k1" not in only_pending.output  # a status asked for: only runs of that status


def _owned(folder, **changed):
    """A run folder whose scratch records this process, or it `changed` (`processes.Recorded`)."""
    import dataclasses

    from transforms import processes
    from transforms.runfolder import runs

    (folder / "_work").mkdir(parents=True)
    owner = dataclasses.replace(processes.Recorded.of(), **changed)
    owner.write(folder / "_work" / runs.OWNER)
    return folder


@pytest.mark.parametrize(
    ("folder", "said"),
    [
        # its process runs here: sealing now, not stopped
        (lambda tmp: _owned(tmp / "run"), "sealing now (its process runs on this machine)"),
        # the same pid, started at another moment: the process that ran it is gone
        (
            lambda tmp: _owned(tmp / "run", started=1.0, ticks=1),
            "stopped before it was sealed: never approvable (run again)",
        ),
        # its scratch removed by a later run's sweep, no manifest: stopped
        (lambda tmp: (tmp / "run").mkdir() or tmp / "run", "sealed: never approvable (run again)"),
        # another machine's: this one cannot tell
        (lambda tmp: _owned(tmp / "run", host="elsewhere"), "or sealing elsewhere now"),
        (lambda tmp: tmp / "gone", "stopped before it was sealed, or sealing elsewhere now"),
    ],
)
def test_a_sealing_run_says_whether_it_is_still_at_work(warehouse_location, tmp_path, folder, said):
    """A run found `sealing` was stopped before its manifest, unless its process is at it now:
    before, its decision was blank, as if it were being sealed for ever."""
    run_folder = folder(tmp_path)
    with warehouse.writer(warehouse_location) as con:
        add_run(con, "s1", "sealing", "2025-01-08T10:00:00Z", run_folder=str(run_folder))
    (run,) = listed(warehouse_location)
    assert run.status == "sealing" and said in run.decision


@pytest.fixture
def long_run(tmp_path):
    """One published run as the sample makes them: a long id, four currencies, a decision."""
    path = tmp_path / "long.duckdb"
    with warehouse.connect(path) as con:
        add_run(
            con,
            "20261130T054144718241Z-639911c1",
            "published",
            "2025-01-08T10:00:00Z",
            totals={"EUR": 575000, "GBP": 187200, "JPY": 52000, "USD": 999900},
            decided_by="Alice Finance",
            decided_at="2025-01-08T15:30:00Z",
        )
    return path


DECISION = "approved by Alice Finance 2025-01-08 10:30 EST"
TOTALS = "EUR 5,750.00, GBP 1,872.00, JPY 52,000, USD 9,999.00"


@pytest.mark.parametrize(
    ("columns", "totals", "left_out"),
    [
        ("250", TOTALS, ""),  # room for every column and amount
        ("195", "EUR 5,750.00, GBP 1,872.00, JPY 52,000 +1 more", ""),  # one amount fewer
        ("120", "EUR 5,750.00 +3 more", "incident, window: left out to fit 120 columns"),
        # Narrower than the run, the decision and one amount: the line is wider, never them.
        ("80", "EUR 5,750.00 +3 more", "incident, window: left out to fit 80 columns"),
    ],
)
def test_runs_fit_the_terminal_never_cutting_the_decision_or_an_amount(
    long_run, columns, totals, left_out
):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(
        app, ["runs", "--warehouse", str(long_run)], env={"COLUMNS": columns}
    )
    assert result.exit_code == 0, result.output
    header, _, line = result.stdout.splitlines()
    assert DECISION in line and line.endswith(totals) and "…" not in result.stdout
    assert (max(len(header), len(line)) <= int(columns)) is (columns != "80")
    assert ("window" in header) is not bool(left_out) and ("incident" in header) is not bool(
        left_out
    )
    assert left_out in result.stderr


def test_without_columns_or_a_terminal_runs_fit_120(long_run, monkeypatch):
    import os

    from typer.testing import CliRunner

    from flows.cli import app

    def no_terminal(descriptor):
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    result = CliRunner().invoke(app, ["runs", "--warehouse", str(long_run)], env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 120
    assert "left out to fit 120 columns" in result.stderr


def test_a_batch_left_writing_whose_trailer_is_in_the_outbox_is_not_said_missing(tmp_path):
    # An approval killed after its batch's trailer, before it marked the batch published: the
    # batch is final in the outbox (finance picks it up), but runs said "not in the outbox".
    row = {"status": "published", "superseded_by": None, "decided_by": "fin"}
    row |= {"decided_at": datetime(2025, 1, 8, 15, 30, tzinfo=UTC), "timezone": "UTC"}
    row |= {"batch_id": "INC-A-B002"}
    row |= {"batch_state": "writing", "batch_folder": str(tmp_path)}
    assert "batch INC-A-B002 unfinished (not in the outbox" in run_listing._decision(row)
    (tmp_path / "batch.json").write_text("{}\n")
    said = run_listing._decision(row)
    assert "not in the outbox" not in said
    assert said.endswith(
        f"; batch INC-A-B002 final in the outbox ({tmp_path}), not marked published yet "
        "(approve again: it only marks it)"
    )
