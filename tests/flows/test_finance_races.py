"""A reader of the warehouse racing a decision taken by another process (another machine).

`audit --verify` and `approve --dry-run` read the warehouse (one snapshot) and check it against
the outbox's witnesses: each batch's trailer and each incident's `journal_head.json`. A decision
commits before it writes either, so a witness read before the snapshot is always in it; one read
after it may come from a decision committed meanwhile. The race is made certain here, not likely:
the reader is held between its read of the warehouse and its check of the outbox (a barrier in
`proof.check`) while the decision runs, to its end, as a `credits` process of its own.

Each test starts from the desk's cached runs (`tests/flows/desk_runs.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests import stores
from transforms.finance import proof, warehouse

ROOT = Path(__file__).resolve().parents[2]


def decided_meanwhile(desk, monkeypatch, *args: str) -> list[subprocess.CompletedProcess]:
    """Has `credits ARGS` (with the desk's warehouse and outbox) run by a process of its own,
    to its end, the first time `proof.check` is called: after the reader read the warehouse,
    before it checks the outbox. Returns the list the process's outcome lands in."""
    done: list[subprocess.CompletedProcess] = []
    check = proof.check

    def racing(*given, **named):
        if not done:
            path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            options = ["--warehouse", str(desk.warehouse), "--outbox", str(desk.outbox)]
            done.append(
                subprocess.run(
                    [sys.executable, "-m", "flows.cli", *args, *options],
                    cwd=desk.root,
                    env={**os.environ, "PYTHONPATH": path},
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            )
        return check(*given, **named)

    monkeypatch.setattr(proof, "check", racing)
    return done


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("decision", ["decline", "approve"])
def test_an_audit_racing_a_decision_of_another_process_finds_nothing_tampered(
    desk, monkeypatch, decision
):
    # The decision committed after the audit's read and wrote its journal_head.json (and an
    # approval its batch's trailer) before the audit read the outbox: the audit named the
    # warehouse as restored from an older backup (and the batch as another warehouse's), exit 3.
    run_id = desk.run()
    args = {"decline": ["--reason", "window not final"], "approve": []}[decision]
    done = decided_meanwhile(desk, monkeypatch, decision, run_id, "--by", "bob", *args)
    result = desk.cli("audit", "--verify")
    monkeypatch.undo()
    (other,) = done
    assert other.returncode == 0, other.stderr
    assert result.exit_code == 0, one_line(result.stderr)
    assert "tampered" not in result.stderr
    assert desk.cli("audit", "--verify").exit_code == 0  # and the decision is whole


@pytest.mark.parametrize("warehouse_location", ["postgres"], indirect=True)
def test_a_dry_run_racing_a_decline_of_another_process_is_not_refused(desk, monkeypatch):
    # On a PostgreSQL store the dry run reads a snapshot and lets writers on: a decline of
    # another run committed meanwhile had the dry run refuse the warehouse as older than the
    # outbox (exit 3). (A DuckDB file is held open by the dry run: the decline waits for it.)
    declined = desk.run()
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    done = decided_meanwhile(desk, monkeypatch, "decline", declined, "--by", "bob", "--reason", "x")
    result = desk.cli("approve", newer, "--dry-run")
    monkeypatch.undo()
    (other,) = done
    assert other.returncode == 0, other.stderr
    assert stores.kind(desk.warehouse) == "postgres"
    assert result.exit_code == 0, one_line(result.stderr)
    assert "would publish" in result.stdout


@contextmanager
def held_at_the_seal(desk, monkeypatch, seconds: float | None) -> Iterator[None]:
    """Another writer (a long approval) takes the warehouse's lock just before the run's seal
    and holds it `seconds` (None: until the block ends)."""
    from transforms.finance import sealing

    seal, release, taken = sealing.seal, threading.Event(), threading.Event()

    def hold() -> None:
        with warehouse.writer(desk.warehouse):
            taken.set()
            release.wait(seconds)

    def held_then_sealed(*args):
        threading.Thread(target=hold, daemon=True).start()
        assert taken.wait(60)
        return seal(*args)

    monkeypatch.setattr(sealing, "seal", held_then_sealed)
    try:
        yield
    finally:
        release.set()


def test_a_seal_outwaits_a_writer_longer_than_an_approval_waits(desk, monkeypatch):
    # The run's work done, its seal waited as an approval does (60 s) behind a long approval,
    # then ended with exit 4: the whole run lost, to be run again.
    monkeypatch.setattr(warehouse, "LOCK_WAIT_SECONDS", 0.5)  # what an approval would wait
    with held_at_the_seal(desk, monkeypatch, seconds=3):
        run_id = desk.run()
    assert desk.status(run_id) == "pending_approval"


def test_a_seal_that_gives_up_says_the_run_is_not_sealed_and_to_run_it_again(desk, monkeypatch):
    from transforms.finance import sealing

    monkeypatch.setattr(sealing, "SEAL_WAIT_SECONDS", 0.5)
    with (
        held_at_the_seal(desk, monkeypatch, seconds=None),
        pytest.raises(warehouse.WarehouseBusy) as busy,
    ):
        desk.run()
    said = one_line(str(busy.value))
    assert "another run or approval is writing to " in said
    assert "is not sealed: nothing of it was loaded, it can never be approved" in said
    assert "once that writer has finished, run the incident again (`" in said
    assert "Try again" not in said  # the run cannot be tried again: it is run again
    assert f"run {desk.root / 'inc' / 'incident.toml'}`)" in said


def test_the_loser_of_two_approvals_of_one_run_is_told_who_approved_it(desk):
    # Two `credits approve` processes of one run, on either store: the loser (which takes the
    # lock once the winner committed, whichever starts first) said only "was already
    # published; nothing new", neither who approved it, nor when, nor in which batch.
    run_id = desk.run()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    options = ["--warehouse", str(desk.warehouse), "--outbox", str(desk.outbox)]
    processes = {
        by: subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "approve", run_id, "--by", by, *options],
            cwd=desk.root,
            env={**os.environ, "PYTHONPATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for by in ("alice", "bob")
    }
    said = {by: process.communicate(timeout=300) for by, process in processes.items()}
    assert all(p.returncode == 0 for p in processes.values()), said
    ((winner, at, zone, batch_id),) = desk.query(
        "select decided_by, decided_at, timezone, batch_id from runs where run_id = ?", run_id
    )
    (loser,) = {"alice", "bob"} - {winner}
    out = one_line(said[loser][0])
    shown = f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"
    assert zone == "America/New_York" and shown.endswith(("EST", "EDT"))
    assert (
        f"run {run_id} was already published: approved by {winner} on {shown}, in batch "
        f"{batch_id}; nothing new" in out
    ), out
    assert batch_id == "INC-T-B001" and "already published" not in said[winner][0]


def test_the_loser_of_an_approval_and_a_decline_of_one_run_is_told_which_won_and_by_whom(desk):
    # `credits approve` and `credits decline` of one run from two processes (two machines): the
    # loser (which takes the lock once the winner committed, whichever starts first) said only
    # "is published, not pending_approval" (or "is declined"), neither who decided, nor when,
    # nor how; the run it had just seen pending.
    run_id = desk.run()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    options = ["--warehouse", str(desk.warehouse), "--outbox", str(desk.outbox)]
    commands = {
        "alice": ["approve", run_id, "--by", "alice"],
        "bob": ["decline", run_id, "--by", "bob", "--reason", "window not final"],
    }
    processes = {
        by: subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args, *options],
            cwd=desk.root,
            env={**os.environ, "PYTHONPATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for by, args in commands.items()
    }
    said = {by: process.communicate(timeout=300) for by, process in processes.items()}
    ((winner, at, zone, batch_id, status),) = desk.query(
        "select decided_by, decided_at, timezone, batch_id, status from runs where run_id = ?",
        run_id,
    )
    (loser,) = {"alice", "bob"} - {winner}
    assert processes[winner].returncode == 0, said[winner]
    assert processes[loser].returncode == 2, said[loser]
    err = one_line(said[loser][1])
    if status == "published":
        shown = f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"
        expected = (
            f"run {run_id}: was already approved by alice on {shown}, in batch {batch_id}: "
            "a decided run cannot be declined; nothing recorded"
        )
    else:
        shown = f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"  # as an approval
        expected = (
            f"run {run_id}: was already declined by bob on {shown}: window not final: a "
            "decided run cannot be approved; nothing recorded"
        )
    assert expected in err, err
    assert "Traceback" not in said[loser][1]
    assert desk.cli("audit", "--verify").exit_code == 0
