"""Shared fixtures: Prefect settings for tests, the Hypothesis profiles, GX's answers remembered
for the session, one Prefect test server for the session, the sample incident generated and run
once for the session, and a warehouse location on each store. Small incidents are built with
the helpers in `tests/builders.py`."""

from __future__ import annotations

import gc
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import flows  # noqa: F401 (importing flows configures Prefect offline, before any test imports it)
from tests import gx_answers as remembered_gx
from tests import stores
from transforms.runfolder.summary import RunSummary

# Generated incidents (tests/reference): `bounded` in `make test` (derandomized, no example
# database: the same examples every run, about a minute on 2 cores); `fuzz` for `make fuzz`
# (thousands of random examples, failures kept in .hypothesis/ to replay).
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "bounded",
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "fuzz", max_examples=2500, deadline=None, print_blob=True, suppress_health_check=_SLOW_IS_FINE
)
settings.load_profile(os.environ.get("CREDITS_HYPOTHESIS_PROFILE", "bounded"))

SAMPLE_INCIDENT = "INC-2025-01-07"

# The test processes collect cyclic garbage after 50,000 new container objects rather than
# Python's 700: a worker holds GX, Prefect and pandas for the whole session, and its frequent
# collections were about 6 % of a flow module's CPU (3.6 -> 1.6 s of a 59 s module,
# `bench/README.md`). Garbage is still collected, less often (no test relies on when); the
# product's processes keep Python's default.
gc.set_threshold(50_000, 10, 10)

# The processes the tests start inherit a signal ignored (`nohup make test`, or `make test &` in
# a script: SIGHUP, SIGINT), and the product rightly leaves an ignored signal ignored: the tests
# of how a stop is answered (test_console, test_pg_connections) then saw no stop. Each test
# process gives them back their defaults, as a terminal's process has them.
for _stop, _default in (
    (signal.SIGHUP, signal.SIG_DFL),
    (signal.SIGINT, signal.default_int_handler),
):
    if signal.getsignal(_stop) == signal.SIG_IGN:
        signal.signal(_stop, _default)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `flow` every test that needs the Prefect test server (`make test-fast` leaves them
    out); a module that starts its own server or `credits run` process says so itself."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.flow)


@pytest.fixture(scope="session")
def gx_answer_folder(request, tmp_path_factory) -> Path:
    """Where GX's answers are kept for the session: under the session's base folder, which
    every xdist worker's own base folder is in (made anew for each session)."""
    base = tmp_path_factory.getbasetemp()
    worker = hasattr(request.config, "workerinput")  # an xdist worker (`-p no:xdist` works too)
    folder = (base.parent if worker else base) / "gx-answers"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def no_venv_project(monkeypatch) -> None:
    """Messages that name the running venv's project (`commands.venv_project`) name none: a test
    must not read this checkout's own `data/warehouse.duckdb`."""
    from transforms import commands

    monkeypatch.setattr(commands, "venv_project", lambda: None)


@pytest.fixture(autouse=True)
def gx_answers(request, monkeypatch, gx_answer_folder) -> None:
    """GX answers an input any worker has validated this session from its file
    (`tests/gx_answers.py`), in every test but those marked `real_gx`;
    `CREDITS_TEST_GX_ANSWERS=off` asks GX every time."""
    off = os.environ.get("CREDITS_TEST_GX_ANSWERS") == "off"
    if not off and request.node.get_closest_marker("real_gx") is None:
        from transforms.quality import gx_run, slices

        remembered = remembered_gx.remembered(gx_run.run_suite, gx_answer_folder)
        monkeypatch.setattr(gx_run, "run_suite", remembered)
        monkeypatch.setattr(slices, "run_suite", remembered)


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 10-20 s to start here; under
    xdist, one per worker), with flow-run heartbeats off, as Prefect's own tests have them: the
    engine joins its heartbeat thread, which sleeps in whole seconds, so every flow run would
    wait up to a second for it. The in-process runs' log lines stay off the server too (8 % of
    a finance test's time; no in-process test reads them back), and so do their events (task
    runs' states, which the server would drop: its event services are off; Prefect's own tests
    override the events client the same way; 0.05 CPU s a desk run, the server's share
    included). `credits run` subprocesses keep their own settings:
    `test_the_stage_lines_reach_the_flow_runs_logs` reads theirs.

    The server runs none of its background services (`SERVER_SERVICES`): no test reads what
    they make (task runs recorded from events, the event feed, automations, schedules, late or
    lost runs), and they cost a sixth of the flow tests' CPU (the handoff and diff tests on
    DuckDB: 67.7 -> 56.1 CPU s, `bench/README.md`). The API the runs talk to (flow runs,
    pauses, inputs, logs, artifacts) is whole. A `credits run` on its own temporary server, or
    `make serve`, runs them all, as users get them."""
    import prefect.settings
    from prefect.events.clients import NullEventsClient
    from prefect.events.worker import EventsWorker
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOGGING_TO_API_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    # given to the server's process only: the settings in effect when it starts are its own
    off = {
        getattr(prefect.settings, f"PREFECT_SERVER_SERVICES_{name.upper()}_ENABLED"): False
        for name in SERVER_SERVICES
    }
    quieter = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_LOGGING_TO_API_ENABLED: False}
    with (
        temporary_settings(off),
        prefect_test_harness(server_startup_timeout=90),
        temporary_settings(quieter),
    ):
        EventsWorker.set_client_override(NullEventsClient)
        try:
            yield
        finally:
            EventsWorker.set_client_override(None)


# The Prefect test server's background services, by their names in Prefect's settings, each
# off (`prefect_harness`).
SERVER_SERVICES = (
    "task_run_recorder",
    "event_persister",
    "event_logger",
    "triggers",
    "scheduler",
    "late_runs",
    "foreman",
    "repossessor",
    "cancellation_cleanup",
    "pause_expirations",
    "cleanup_reconciler",
    "db_vacuum",
)


@pytest.fixture
def venv_off_path(tmp_path, monkeypatch) -> Path:
    """The project folder of a venv that is not on PATH, as a newcomer's is: the command a
    message tells them to type is `.venv/bin/credits ...` (`transforms.commands`)."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / ".venv" / "bin" / "python"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(params=stores.STORES)
def warehouse_location(request, tmp_path):
    """Where the test's warehouse goes, once per store: a DuckDB file in `tmp_path`, or the URL
    of a database made for the test on the test server (`tests/stores.py`), dropped after it.
    Nothing is there yet: the first writer makes it. A test about the DuckDB file itself says
    `@stores.duckdb_only`."""
    with stores.location(request.param, tmp_path) as location:
        yield location


@pytest.fixture(scope="module", params=stores.STORES)
def module_warehouse_location(request, tmp_path_factory):
    """`warehouse_location`, once per module and store: for a warehouse a module builds once
    and its tests only read."""
    with stores.location(request.param, tmp_path_factory.mktemp("wh")) as location:
        yield location


@pytest.fixture(scope="session")
def sample_incident(tmp_path_factory) -> Path:
    """The sample incident (scale 1, the default seed), generated once for the session.
    Read only: a test that changes it works on a copy."""
    from transforms import sample

    folder = tmp_path_factory.mktemp("sample") / "sample"
    sample.generate(folder, scale=1)
    return folder / f"{SAMPLE_INCIDENT}.toml"


@dataclass(frozen=True)
class SampleRun:
    """The session's run of the sample: what the flow returned, and the warehouse it went to."""

    summary: RunSummary
    warehouse: Path


@pytest.fixture(scope="session")
def sample_run(prefect_harness, sample_incident, tmp_path_factory) -> SampleRun:
    """The sample run once through the real flow (threads) into a session folder and warehouse,
    pending approval. Read only: a test that approves it works on a copy of the warehouse (the
    run folder it names stays shared, and is only read)."""
    from flows.credit_reconciliation import credit_reconciliation

    out = tmp_path_factory.mktemp("sample-run")
    warehouse = out / "warehouse.duckdb"
    summary = credit_reconciliation(str(sample_incident), str(out / "runs"), str(warehouse))
    return SampleRun(summary, warehouse)
