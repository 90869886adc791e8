"""The scheduled deployment for finance registers with its schedule and parameters."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests import golden_incident
from transforms import commands


def test_the_deployments_register_with_the_finance_schedule(prefect_harness):
    from prefect import get_client

    from flows import deployment

    scheduled, on_demand = deployment.deployments()
    ids = [scheduled.apply(), on_demand.apply()]
    with get_client(sync_client=True) as client:
        daily, manual = (client.read_deployment(i) for i in ids)
    (schedule,) = daily.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 7 * * *", "America/New_York")
    assert schedule.active
    assert daily.parameters == {
        "incidents_dir": "data/incidents",
        "output_dir": "data/output",
        "warehouse_path": "data/warehouse.duckdb",
    }
    assert manual.schedules == []
    assert manual.parameters == {
        "output_dir": "data/output",
        "warehouse_path": "data/warehouse.duckdb",
    }


def test_a_scheduled_run_runs_every_incident_file_and_survives_a_bad_one(prefect_harness, tmp_path):
    import logging

    from flows.deployment import FilesNotRun, scheduled_credit_runs

    class Console(logging.Handler):  # stands for `make serve`'s console: a handler on the root
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    incidents = tmp_path / "incidents"
    golden_incident.write(incidents)
    (incidents / "zz-broken.toml").write_text('id = "X"\nwindow_strat = 1\n')
    (incidents / ".#incident.toml").write_text("")  # an editor's lock: noted, not a failure
    (incidents / "archive").mkdir()  # an incident kept in a subfolder: noted, not a failure
    (incidents / "archive" / "INC-OLD.toml").write_text("")
    console = Console()
    logging.getLogger().addHandler(console)
    try:
        state = scheduled_credit_runs(
            str(incidents), str(tmp_path / "out"), str(tmp_path / "wh.duckdb"), return_state=True
        )
    finally:
        logging.getLogger().removeHandler(console)
    assert state.is_failed()  # red in the UI: one file did not run
    assert state.message == "1 of 2 incident file(s) not run: zz-broken.toml"  # the lock aside
    outcome = state.result(raise_on_failure=False)
    assert isinstance(outcome, FilesNotRun)
    verdicts = outcome.verdicts
    assert verdicts["incident.toml"] == "pending_approval"
    assert verdicts["zz-broken.toml"].startswith("ConfigError:")
    assert "window_strat: unknown key" in verdicts["zz-broken.toml"]
    assert verdicts[".#incident.toml"].startswith("left out: a hidden file")
    assert verdicts["archive/INC-OLD.toml"].startswith("left out: in a subfolder: not run")
    # `make serve`'s console: the bad file's lines name it, without Prefect's traceback
    about = [r for r in console.records if "window_strat: unknown key" in r.getMessage()]
    assert len(about) >= 3  # the task's, the subflow's and the verdict's lines
    assert [r for r in about if r.exc_info or r.exc_text] == []


def test_a_daily_run_with_no_incident_file_says_so(prefect_harness, tmp_path, caplog):
    # It was green without a word: as unseen as a folder that is missing (which fails).
    from flows.deployment import scheduled_credit_runs

    (tmp_path / "incidents").mkdir()
    state = scheduled_credit_runs(
        str(tmp_path / "incidents"), str(tmp_path / "out"), "wh.duckdb", return_state=True
    )
    assert state.is_completed() and state.result() == {}
    assert "no incident file to run: add one for the daily run" in caplog.text


@pytest.mark.parametrize(
    ("outcomes", "failed"),
    [
        ({"a.toml": "pending_approval", "b.toml": "pending_approval"}, None),
        (
            {"a.toml": "pending_approval", "b.toml": "rejected"},
            "1 of 2 incident file(s) not run: b.toml",
        ),
        (
            {"a.toml": "rejected", "b.toml": "error"},
            "2 of 2 incident file(s) not run: a.toml, b.toml",
        ),
    ],
)
def test_the_daily_run_fails_when_any_incident_file_did_not_reach_approval(
    prefect_harness, tmp_path, monkeypatch, outcomes, failed
):
    from types import SimpleNamespace

    from flows import deployment

    def credit_reconciliation(incident_file, output_dir, warehouse_path):
        verdict = outcomes[Path(incident_file).name]
        if verdict == "error":
            raise RuntimeError("a bug")
        return SimpleNamespace(verdict=verdict)

    monkeypatch.setattr(deployment, "credit_reconciliation", credit_reconciliation)
    for name in outcomes:
        (tmp_path / name).write_text(f'id = "{name}"\n')
    state = deployment.scheduled_credit_runs(str(tmp_path), "out", "wh.duckdb", return_state=True)
    if failed is None:
        assert state.is_completed()
        assert state.result() == outcomes
        return
    assert state.is_failed()
    assert state.message == failed
    with pytest.raises(deployment.FilesNotRun, match="not run") as raised:
        deployment.scheduled_credit_runs(str(tmp_path), "out", "wh.duckdb")
    kept = pickle.loads(pickle.dumps(raised.value))  # a persisted result reads back
    assert (str(kept), kept.verdicts) == (failed, raised.value.verdicts)


@pytest.mark.parametrize("where", ["missing", "a file"])
def test_the_daily_run_fails_when_its_folder_is_none(prefect_harness, tmp_path, where):
    # It ended Completed with nothing run: a mistyped or unmounted folder went unseen.
    incidents = tmp_path / "incidents"
    if where == "a file":
        incidents.write_text("")
    from flows import deployment

    state = deployment.scheduled_credit_runs(str(incidents), "out", "wh.duckdb", return_state=True)
    assert state.is_failed()
    assert state.message == f"{incidents}: not a folder: no incident file was run"


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        # before 07:00 in New York: today; the zone's abbreviation follows DST
        ("2026-12-01T11:00:00Z", "daily at 07:00 America/New_York (next: 2026-12-01 07:00 EST)"),
        ("2026-07-01T10:59:00Z", "daily at 07:00 America/New_York (next: 2026-07-01 07:00 EDT)"),
        # at or after 07:00 there: tomorrow
        ("2026-12-01T12:00:00Z", "daily at 07:00 America/New_York (next: 2026-12-02 07:00 EST)"),
    ],
)
def test_the_schedule_names_its_time_zone(now, shown):
    from flows import deployment

    assert deployment.schedule_text(datetime.fromisoformat(now)) == shown


def test_serve_says_which_incident_files_the_daily_run_runs(tmp_path):
    from flows import deployment

    assert "no incident file in" in deployment.incident_files_text(tmp_path)
    assert "../sample/logs/*.jsonl.gz" in deployment.incident_files_text(tmp_path)
    (tmp_path / "INC-B.toml").write_text("")
    (tmp_path / "INC-A.toml").write_text("")
    (tmp_path / "notes.txt").write_text("")
    text = deployment.incident_files_text(tmp_path)
    assert text.endswith(f"runs 2 incident file(s) in {tmp_path}/: INC-A.toml, INC-B.toml")


@pytest.mark.flow  # `make serve` in its own process, with its own Prefect server
def test_ctrl_c_stops_the_runner_and_the_server_at_once_without_a_traceback(tmp_path):
    import psutil

    with socket.socket() as probe:  # a free port for this test's own server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PYTHONUNBUFFERED": "1",
    }
    serving = subprocess.Popen(
        [sys.executable, "-m", "flows.deployment"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,  # no data/incidents/ here: it says so
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        shown = []
        for line in serving.stdout:  # until it serves (it ends if the process does)
            shown.append(line)
            if "being served" in line:
                break
        server = [p for p in psutil.Process(serving.pid).children() if "server" in p.cmdline()]
        assert len(server) == 1, "".join(shown)
        os.killpg(serving.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the process group
        rest, _ = serving.communicate(timeout=60)
    finally:
        serving.kill()
    output = "".join(shown) + rest
    assert serving.returncode == 0, output
    assert "Traceback" not in output
    assert "daily at 07:00 America/New_York" in output and "no incident file in" in output
    assert output.rstrip().endswith("stopped: the runner and the server")
    assert not server[0].is_running() or server[0].status() == psutil.STATUS_ZOMBIE


def test_serve_shows_the_prefect_command_of_this_environment_not_a_bare_one(monkeypatch, tmp_path):
    from flows import deployment

    venv = tmp_path / ".venv" / "bin"
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.chdir(tmp_path)
    assert commands.venv_command("prefect") == ".venv/bin/prefect"  # as typed in the project
    text = deployment.serving_text(
        "http://127.0.0.1:4200", ".venv/bin/prefect", deployment.deployments()
    )
    # with this server's API: typed in another terminal, it said "Deployment ... not found!"
    assert (
        "run one incident now: PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/prefect "
        "deployment run 'credit-reconciliation/on-demand'"
    ) in text
    assert "$ prefect" not in text and "being served" in text
    assert "http://127.0.0.1:4200/deployments" in text


@pytest.mark.parametrize("port", ["0", "abc", "70000"])
def test_make_serve_on_no_port_exits_2_at_once(monkeypatch, capsys, port):
    from flows import deployment

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    with pytest.raises(SystemExit) as exited:
        deployment.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"error: PREFECT_PORT={port}: not a port (1 to 65535)\n"


def test_serve_lists_what_the_daily_run_leaves_out_as_the_run_does(tmp_path):
    from flows import deployment

    golden_incident.write(tmp_path / "data")
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text((tmp_path / "data" / "incident.toml").read_text())
    text = deployment.incident_files_text(tmp_path)
    assert "no incident file in" in text
    assert "left out: a.toml (incident INC-GOLD is also in b.toml" in text
