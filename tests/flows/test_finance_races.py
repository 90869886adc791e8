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
from pathlib import Path

import pytest

from tests import stores
from transforms.finance import proof

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
