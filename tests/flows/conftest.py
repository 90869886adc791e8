"""Fixtures of the flow tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from tests.flows import cli_runs
from tests.flows.desk import Desk
from tests.flows.desk_runs import DeskRuns, empty, patched
from transforms.quality import gx_run


def _remembered(run_suite, folder: Path):
    """`gx_run.run_suite`, answering an input any worker has seen this session from its file in
    `folder` (a JSON file per answer, by a digest of suite, frame, parameters and detail).

    GX's result is a function of the suite, the frame and the parameters (a run's outputs are
    byte-identical for the same inputs), and the desk's runs are mostly of the same few rows:
    the finance tests need the gate's true verdict, not GX's seconds again, and the rejected
    runs' cases share every frame but the one they break; a test on the other store, or in the
    next module or on the other worker, often has the same frames. A frame pandas cannot hash,
    or an answer JSON cannot hold, goes to GX each time. The gate's own tests
    (tests/transforms/quality, tests/expectations) and every other flow test run GX each time.
    """
    import pandas as pd

    def run(
        document: dict,
        frame,
        keys: list[str],
        parameters: dict,
        detail: gx_run.Detail = gx_run.Detail.ROWS,
    ) -> dict:
        try:
            rows = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
        except TypeError:
            return run_suite(document, frame, keys, parameters, detail)
        key = (
            json.dumps(document, sort_keys=True),
            tuple(frame.columns),
            tuple(str(dtype) for dtype in frame.dtypes),
            rows,
            tuple(keys),
            repr(sorted(parameters.items())),
            detail.value,
        )
        path = folder / f"{hashlib.sha256(repr(key).encode()).hexdigest()}.json"
        if path.exists():  # a file appears whole (`_kept`)
            return json.loads(path.read_bytes())
        return _kept(path, run_suite(document, frame, keys, parameters, detail))

    return run


def _kept(path: Path, answer: dict) -> dict:
    """The answer as JSON gives it back (as a later reader of the file gets it), written to
    `path` whole (a temporary file renamed); an answer JSON cannot hold is not kept."""
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError):
        return answer
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_text(text)
    os.replace(temporary, path)
    return json.loads(text)


@pytest.fixture(scope="session")
def gx_answer_folder(tmp_path_factory, worker_id) -> Path:
    """Where GX's answers are kept for the session: under the session's base folder, which
    every xdist worker's own base folder is in (made anew for each session)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / "gx-answers"
    folder.mkdir(exist_ok=True)
    return folder


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
def gx_answers(monkeypatch, gx_answer_folder) -> None:
    """GX answers inputs any worker has seen in this session from their files (`_remembered`)."""
    monkeypatch.setattr(gx_run, "run_suite", _remembered(gx_run.run_suite, gx_answer_folder))


@pytest.fixture
def desk(
    prefect_harness, gx_answers, tmp_path_factory, warehouse_location, monkeypatch, desk_runs
) -> Iterator[Desk]:
    """A finance desk, its warehouse on each store in turn, on the session's Prefect test
    server; GX's answers remembered (`gx_answers`), and a run paused for approval asks every
    second (not every 10) whether the answer came.

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
