"""A long-lived Prefect server (`credits serve-prefect`) that every `credits run` finds by itself,
and a record whose server is gone, which costs a run nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing, suppress
from pathlib import Path

import psutil
import pytest

from flows import long_lived, server
from tests import golden_incident
from tests.waiting import signalled_once_the_flow_started, until
from transforms.errors import ConfigError, StorageError

# The flow's tasks, as its task runs are named (`NAME-xyz`).
TASKS = (
    "start-run",
    "stage-logs",
    "extract-logs",
    "stage-tables",
    "reconcile",
    "write-outputs",
    "check-quality",
    "check-window",
    "write-report",
    "publish",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Starts a command with SIGINT ignored, as a shell without job control starts a background job
# (`command &` in a script): the command inherits it through exec.
SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def credits(
    *args: str, prefect_home: Path, sigint_ignored: bool = False, **popen
) -> subprocess.Popen:
    """`credits ARGS` with its own PREFECT_HOME and no PREFECT_API_URL, in its own session."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(prefect_home)
    launcher = ["-c", SIGINT_IGNORED] if sigint_ignored else []
    return subprocess.Popen(
        [sys.executable, *launcher, "-m", "flows.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )


def golden_run(root: Path, prefect_home: Path) -> subprocess.CompletedProcess:
    incident = golden_incident.write(root / "inc")
    args = ["run", str(incident), "--output-dir", str(root / "out")]
    run = credits(*args, "--warehouse", str(root / "wh.duckdb"), prefect_home=prefect_home)
    stdout, stderr = run.communicate(timeout=300)
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


def flow_runs_with(api_url: str, incident_file: str) -> list:
    """The flow runs on the server at `api_url` whose `incident_file` parameter is this one."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        found = client.read_flow_runs(limit=50)
    return [r for r in found if r.parameters.get("incident_file") == incident_file]


@pytest.mark.flow  # `credits serve-prefect` (a Prefect server) and a `credits run` against it
def test_a_run_finds_the_long_lived_server_by_itself_and_records_its_flow_run_there(tmp_path):
    home, port = tmp_path / "prefect", free_port()
    # Started with SIGINT ignored (a background job; how a suite run from a script starts it):
    # the Ctrl-C below must stop it all the same, as it stops a foreground one.
    serving = credits("serve-prefect", "--port", str(port), prefect_home=home, sigint_ignored=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        assert until(lambda: (home / long_lived.RECORD).exists(), seconds=180, every=0.2), (
            serving.poll() is None or serving.communicate()
        )
        assert json.loads((home / long_lived.RECORD).read_text())["url"] == url

        done = golden_run(tmp_path, home)

        assert done.returncode == 0, done.stderr
        (flow_run,) = flow_runs_with(url, str(tmp_path / "inc" / "incident.toml"))
        assert flow_run.state.is_completed()
        assert not (home / server.RECORDS).exists()  # no temporary server was started
        os.killpg(serving.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the process group
        stdout, stderr = serving.communicate(timeout=60)
    finally:
        serving.kill()
        left = long_lived._recorded_pid(home / long_lived.RECORD)  # its server, if it is left
        if left is not None:
            with suppress(ProcessLookupError):
                os.kill(left, signal.SIGKILL)
    assert serving.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stdout.rstrip().endswith("stopped: the Prefect server")
    assert not (home / long_lived.RECORD).exists()  # the next run will not look for it
    assert not long_lived.answers(url)


# A Ctrl-C that another thread of the process takes (sent to it alone, as the kernel may do).
# Python's own Ctrl-C handler first: a process started with SIGINT ignored (a background job
# of a shell without job control) would otherwise inherit the ignoring.
INTERRUPTED_ELSEWHERE = """
import signal, threading
from flows.cli.run import until_interrupted

signal.signal(signal.SIGINT, signal.default_int_handler)

def to_this_thread():
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)

threading.Timer(0.2, to_this_thread).start()
try:
    until_interrupted()
except KeyboardInterrupt:
    print("interrupted")
"""


def test_serve_prefect_stops_on_a_ctrl_c_that_another_thread_took():
    # `signal.pause()` never returned here: its main thread waited for a signal of its own.
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_ELSEWHERE], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, "interrupted\n"), done.stderr


def test_serve_prefects_first_stop_signal_ignores_the_next_while_it_stops():
    from flows.cli import common

    saved = {signum: signal.getsignal(signum) for signum in common.STOP_SIGNALS}
    try:
        with pytest.raises(KeyboardInterrupt):
            common.interrupt(signal.SIGINT, None)
        # a second Ctrl-C, or a supervisor's SIGTERM, would cut the server's stop short
        assert [signal.getsignal(s) for s in common.STOP_SIGNALS] == [signal.SIG_IGN] * 2
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@pytest.mark.flow  # a `credits run` on its own temporary server
def test_a_record_whose_server_is_gone_falls_back_to_a_temporary_server(tmp_path):
    home = tmp_path / "prefect"
    home.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(gone.pid).create_time()
    gone.wait()
    record = {"url": f"http://127.0.0.1:{free_port()}/api", "pid": gone.pid, "started": started}
    (home / long_lived.RECORD).write_text(json.dumps(record))

    done = golden_run(tmp_path, home)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and long_lived.RECORD not in done.stderr  # nothing said
    assert not (home / long_lived.RECORD).exists()
    # What Prefect's UI shows later from this PREFECT_HOME, written by the temporary server
    # with its automations and event stream off: the flow run, every task run, logs, events.
    with closing(sqlite3.connect(home / "prefect.db")) as db:
        flow_run, state = db.execute("select id, state_type from flow_run").fetchone()
        tasks = db.execute(
            "select name, state_type from task_run where flow_run_id = ?", (flow_run,)
        ).fetchall()
        logs = db.execute("select count(*) from log where flow_run_id = ?", (flow_run,))
        events = db.execute("select count(*) from events where related like ?", (f"%{flow_run}%",))
        (log_count,), (event_count,) = logs.fetchone(), events.fetchone()
    assert state == "COMPLETED"
    assert {name.rsplit("-", 1)[0] for name, _ in tasks} == set(TASKS)
    assert {state for _, state in tasks} == {"COMPLETED"}
    assert log_count > 0 and event_count > 0


def test_a_record_of_a_server_still_starting_is_kept(tmp_path):
    me = psutil.Process()
    record = {"url": f"http://127.0.0.1:{free_port()}/api", "pid": me.pid}
    (tmp_path / long_lived.RECORD).write_text(json.dumps(record | {"started": me.create_time()}))
    assert long_lived.found(tmp_path) is None  # it does not answer yet: a temporary server
    assert (tmp_path / long_lived.RECORD).exists()  # ... but it may in a moment


@pytest.mark.parametrize("content", ["", "{", '{"url": "http://127.0.0.1:9/api"}', "[]"])
def test_an_unreadable_record_is_removed_without_an_error(tmp_path, content):
    (tmp_path / long_lived.RECORD).write_text(content)
    assert long_lived.found(tmp_path) is None
    assert not (tmp_path / long_lived.RECORD).exists()


def test_a_record_whose_process_is_gone_is_not_trusted_though_something_answers(
    prefect_harness, tmp_path
):
    """Whatever answers at a recorded URL once the recorded server is gone (another project's
    server, any web server) is not used: the run falls back to a temporary server."""
    from tests.flows import cli_runs

    record = {"url": cli_runs.api_url(), "pid": psutil.Process().pid, "started": 0.0}
    (tmp_path / long_lived.RECORD).write_text(json.dumps(record))
    assert long_lived.answers(record["url"])
    assert long_lived.found(tmp_path) is None
    assert not (tmp_path / long_lived.RECORD).exists()


def test_a_second_long_lived_server_is_refused_before_it_starts(prefect_harness, tmp_path):
    from tests.flows import cli_runs

    url, me = cli_runs.api_url(), psutil.Process()
    with (  # its port
        pytest.raises(ConfigError, match="a Prefect server already answers at"),
        long_lived.running(url, tmp_path / "other-project"),
    ):
        pytest.fail("started")
    home = tmp_path / "prefect"
    home.mkdir()
    record = {"url": url, "pid": me.pid, "started": me.create_time()}  # alive, answering
    (home / long_lived.RECORD).write_text(json.dumps(record))
    elsewhere = f"http://127.0.0.1:{free_port()}/api"
    with (  # this home's server, at another port
        pytest.raises(ConfigError, match=f"already runs at {url}"),
        long_lived.running(elsewhere, home),
    ):
        pytest.fail("started")
    assert json.loads((home / long_lived.RECORD).read_text()) == record  # left as it was


def test_no_record_no_server(tmp_path):
    assert long_lived.found(tmp_path) is None


def test_a_signalled_run_leaves_the_long_lived_server_it_found_running(prefect_harness, tmp_path):
    from tests.flows import cli_runs

    url, me = cli_runs.api_url(), psutil.Process()
    home = tmp_path / "prefect"
    home.mkdir()
    record = {"url": url, "pid": me.pid, "started": me.create_time()}  # the session's server
    (home / long_lived.RECORD).write_text(json.dumps(record))
    incident = golden_incident.write(tmp_path / "inc")
    args = ["run", str(incident), "--output-dir", str(tmp_path / "out")]
    run = credits(*args, "--warehouse", str(tmp_path / "wh.duckdb"), prefect_home=home)
    stderr = signalled_once_the_flow_started(run, tmp_path / "out")
    assert run.returncode == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM" in stderr
    assert long_lived.answers(url)  # not the run's to stop
    assert (home / long_lived.RECORD).exists()


PARENT = """
import subprocess, sys
from flows import long_lived
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"],
    start_new_session=True, preexec_fn=long_lived.dies_with_parent,
)
print(child.pid, flush=True)
child.wait()
"""


def test_a_long_lived_server_dies_with_the_process_that_started_it_even_by_sigkill():
    """`make serve` or `serve-prefect` killed by SIGKILL (or its terminal gone): the server it
    started, in a session of its own, gets SIGTERM from the kernel, not left behind."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    assert child.is_running()
    parent.kill()
    parent.wait()
    assert until(lambda: not child.is_running() or child.status() == "zombie", seconds=10)


def test_a_prefect_home_this_user_cannot_write_is_a_config_error(tmp_path, monkeypatch):
    from flows import long_lived
    from transforms.errors import ConfigError

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "new" / "prefect"))
    assert long_lived.home() == tmp_path / "new" / "prefect"  # made when missing
    assert long_lived.home().is_dir()
    monkeypatch.setattr(long_lived.os, "access", lambda path, mode: False)
    with pytest.raises(ConfigError, match="this user cannot write there"):
        long_lived.home()


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "PREFECT_HOME is set but empty"),  # it was the current folder
        ("  ", "PREFECT_HOME is set but empty"),
        ("link", "not a folder Prefect can use (a link to nowhere, which does not exist)"),
    ],
)
def test_an_empty_or_dangling_prefect_home_is_a_config_error(tmp_path, monkeypatch, given, said):
    from flows import long_lived
    from transforms.errors import ConfigError

    if given == "link":
        (tmp_path / "link").symlink_to("nowhere")
        given = str(tmp_path / "link")
    monkeypatch.setenv("PREFECT_HOME", given)
    with pytest.raises(ConfigError, match=re.escape(said)):
        long_lived.home()


def test_a_second_server_started_at_the_same_moment_is_refused_not_crashed(tmp_path):
    # Two `make serve` at once both passed the check: one crashed writing the record (its
    # temporary file taken by the other), removing the record of the one left running.
    import fcntl

    home = tmp_path / "prefect"
    home.mkdir()
    with open(home / long_lived.LOCK, "a") as starting:  # the first, still starting
        fcntl.flock(starting, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with (
            pytest.raises(ConfigError, match="is starting or running"),
            long_lived.running(f"http://127.0.0.1:{free_port()}/api", home),
        ):
            pytest.fail("started")
    assert not (home / long_lived.RECORD).exists()


def test_serve_prefect_ends_with_exit_4_when_its_server_dies_behind_its_back():
    # It stayed up, silent, still saying "Ctrl-C stops it", its record naming a dead process.
    from flows.cli.run import until_interrupted

    server = subprocess.Popen([sys.executable, "-c", "pass"])
    with pytest.raises(StorageError, match=f"the Prefect server \\(pid {server.pid}\\) exited"):
        until_interrupted(server)


def test_a_server_that_dies_frees_its_home_for_another_at_once(tmp_path):
    # `make serve` kept the home's lock after its server was killed: a new server was refused
    # ("is starting or running") while none ran.
    import fcntl

    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    home = tmp_path / "prefect"
    home.mkdir()
    with open(home / long_lived.LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        long_lived._unlock_when_gone(server, lock)  # returns once the server is gone
        with open(home / long_lived.LOCK, "a") as another:
            fcntl.flock(another, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: no BlockingIOError
