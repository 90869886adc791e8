"""Fixtures of the flow tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from tests.flows import cli_runs
from tests.flows.desk import Desk
from tests.flows.desk_runs import DeskRuns, empty, patched


@pytest.fixture(scope="session")
def desk_runs(tmp_path_factory) -> Iterator[DeskRuns | None]:
    """The desk's runs and approvals remembered for this worker's session
    (`tests/flows/desk_runs.py`); `CREDITS_TEST_DESK_RUNS=off` does every step for real."""
    if os.environ.get("CREDITS_TEST_DESK_RUNS") == "off":
        yield None
        return
    runs = DeskRuns(tmp_path_factory.mktemp("desk-runs"))
    yield runs
    runs.close()


@pytest.fixture
def desk(
    prefect_harness, gx_answers, tmp_path_factory, warehouse_location, monkeypatch, desk_runs
) -> Iterator[Desk]:
    """A finance desk, its warehouse on each store in turn, on the session's Prefect test
    server (GX's answers remembered, as in every test: `gx_answers`); a run paused for approval
    asks every second (not every 10) whether the answer came.

    The desk's folder has the same path in every test of a worker (emptied for each): a run
    folder's path is recorded in the warehouse and the manifest, so a remembered step
    (`desk_runs`) can only be restored to the place it was made in."""
    from flows import credit_reconciliation

    monkeypatch.setattr(credit_reconciliation, "APPROVAL_POLL_S", 1)
    root = tmp_path_factory.getbasetemp() / "desk"
    empty(root)  # of the last test's desk
    desk = Desk(root, warehouse_location, desk_runs, lambda: patched(monkeypatch))
    yield desk
    desk.close()


@dataclass(frozen=True)
class CliRun:
    """`credits run` of the golden incident in its own process: what it printed, its flow run."""

    result: subprocess.CompletedProcess
    flow_run_id: UUID


@pytest.fixture(scope="session")
def golden_cli_run(prefect_harness, tmp_path_factory) -> CliRun:
    """The golden incident's `credits run`, once for the session, against the session's server.
    Read only."""
    from prefect.client.orchestration import get_client

    result = cli_runs.golden_run(tmp_path_factory.mktemp("golden-cli"))
    with get_client(sync_client=True) as client:  # this worker's server: its newest run is it
        (flow_run,) = client.read_flow_runs(limit=1, sort="START_TIME_DESC")
    return CliRun(result, flow_run.id)
