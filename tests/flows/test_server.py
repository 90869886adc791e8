"""Which Prefect API a run uses, and the temporary server's settings (the kills are in
test_kill_safety, the long-lived server in test_long_lived)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from flows import long_lived, server, server_watch, stopping


class FakeServer:
    """Stands for the temporary server's process: alive, and never started."""

    pid = psutil.Process().pid

    def poll(self) -> None:
        return None


@pytest.mark.parametrize(
    ("started", "heartbeat_s"),
    [
        (True, None),  # the temporary server ends with the run: no heartbeats to wait for
        (False, 180),  # a long-lived server keeps its runs' heartbeats
    ],
)
def test_only_a_long_lived_servers_runs_send_heartbeats(monkeypatch, started, heartbeat_s):
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    monkeypatch.setattr(long_lived, "answers", lambda url, timeout: True)
    api = server.Api("http://127.0.0.1:9/api", FakeServer() if started else None)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 180}):
        with api.serving():
            assert get_current_settings().flows.heartbeat_frequency == heartbeat_s
            assert str(get_current_settings().api.url) == "http://127.0.0.1:9/api"
        assert get_current_settings().flows.heartbeat_frequency == 180


def test_the_temporary_server_is_prefects_without_automations_or_live_streams(monkeypatch):
    started = {}

    def popen(command, env, start_new_session):
        started.update(command=command, env=env, session=start_new_session)
        return FakeServer()

    monkeypatch.setattr(server.subprocess, "Popen", popen)
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:4200/api")  # not the server's own
    api = server._start_temporary_server()
    command, env = " ".join(started["command"]), started["env"]
    assert all(mark in command for mark in server.SERVER_MARKS)  # what `reap_orphans` checks
    assert (
        api.url
        == f"http://127.0.0.1:{started['command'][started['command'].index('--port') + 1]}/api"
    )
    assert started["session"]  # a Ctrl-C in the terminal reaches only the run
    assert "PREFECT_API_URL" not in env
    # Prefect's own ephemeral server: no UI, the ephemeral services ...
    assert env["PREFECT__SERVER_EPHEMERAL"] == "1" and env["PREFECT_UI_ENABLED"] == "0"
    # ... less automations and the websocket stream of events, which a temporary server needs not
    assert env["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"
    assert env["PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED"] == "false"
    # ... and still everything the UI shows: task runs (recorded from events) and the events
    for kept in ("TASK_RUN_RECORDER", "EVENT_PERSISTER"):
        assert env.get(f"PREFECT_SERVER_SERVICES_{kept}_ENABLED", "true") != "false"


def test_the_temporary_servers_settings_leave_the_records_on(monkeypatch):
    # The same, as Prefect's server reads them: the services that write what the UI shows run
    from prefect.settings import Settings

    for name, value in server.TEMPORARY_SETTINGS.items():
        monkeypatch.setenv(name, value)
    services = Settings().server.services
    assert not services.triggers.enabled and not Settings().server.events.stream_out_enabled
    assert services.task_run_recorder.enabled and services.event_persister.enabled


@pytest.mark.parametrize(
    ("named", "recorded", "started"),
    [
        ("http://named:4200/api", None, False),  # PREFECT_API_URL wins over everything
        (None, "http://found:4200/api", False),  # a long-lived server that answers
        (None, None, True),  # neither: a temporary server of the run's own
    ],
)
def test_the_run_uses_the_named_api_then_a_long_lived_server_then_its_own(
    tmp_path, monkeypatch, named, recorded, started
):
    if named:
        monkeypatch.setenv("PREFECT_API_URL", named)
    else:
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(long_lived, "found", lambda home: recorded)
    own = server.Api("http://127.0.0.1:9/api", FakeServer())
    monkeypatch.setattr(server, "_start_temporary_server", lambda: own)
    monkeypatch.setattr(stopping, "stop", lambda processes: None)  # this process's children
    with server.prefect_api(tmp_path) as api:
        assert api.url == (named or recorded or own.url)
        assert (api.server is not None) == started
        assert os.environ["PREFECT_API_URL"] == api.url  # for Prefect's import, and children
        records = list((tmp_path / server.RECORDS).glob("*.json"))
        assert len(records) == started  # only a server of the run's own is recorded to reap
    assert os.environ.get("PREFECT_API_URL") == named
    assert list((tmp_path / server.RECORDS).glob("*.json")) == []


def test_the_run_stops_the_processes_it_started_not_those_it_found(tmp_path, monkeypatch):
    # `credits run` called in-process (a test session's CLI tests) stopped every child of the
    # process, the session's own Prefect server among them: every later flow test failed.
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    found = subprocess.Popen(sleeper)
    try:
        with server.prefect_api(tmp_path):
            started = subprocess.Popen(sleeper)
        assert started.wait(timeout=30) is not None  # stopped with the run
        assert found.poll() is None  # still running
    finally:
        found.kill()
        found.wait()


def test_a_stop_that_python_had_to_ignore_is_raised_again():
    # A signal handled inside a __del__ or a weakref callback raises `Stopped` where Python only
    # prints an exception and drops it: the run then went on until the 10 s hard kill.
    import os
    import signal
    import time

    class Dropped:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10_000))  # the handler runs here, inside __del__

    with pytest.raises(stopping.Stopped), stopping.watching() as signals:
        try:
            Dropped()  # collected at once
            for _ in range(500):  # ... and `Stopped` comes again, out here
                time.sleep(0.01)
        finally:
            signals.cleaning.set()  # as the run's cleanup does: nothing is raised again
            signals.done.set()  # the watcher's grace ends: this is no run to kill


# A main thread that swallows `Stopped` and goes on (a library's blanket `except`), past a short
# grace period: the watcher ends the process, and removes the run's server record.
_NEVER_UNWINDS = """
import os, signal, sys, time
from pathlib import Path
from flows import stopping
stopping.GRACE_SECONDS = 0.5
with stopping.watching() as signals:
    signals.record = Path(sys.argv[1])
    print("ready", flush=True)
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass
"""


def test_a_run_that_does_not_unwind_in_its_grace_period_still_ends_in_its_one_line(tmp_path):
    import signal
    import subprocess
    import sys

    record = tmp_path / "123.json"
    record.write_text("{}")
    child = subprocess.Popen(
        [sys.executable, "-c", _NEVER_UNWINDS, str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + signal.SIGTERM
    assert stderr == (
        f"stopped by SIGTERM (the run did not unwind within 0.5 s): {stopping.STOPPED_NOTE}\n"
    )
    assert not record.exists()


class Probes:
    """`server_watch.accepts` answering from a list (True: something accepted the connection), then
    ending the watch (`finished`) once the list is used up."""

    def __init__(self, answers: list[bool]):
        import threading

        self.answers, self.finished = list(answers), threading.Event()

    def __call__(self, url: str) -> bool:
        answer = self.answers.pop(0)
        if not self.answers:
            self.finished.set()
        return answer


@pytest.mark.parametrize(
    ("answers", "gone"),
    [
        # a server that answers, slowly or not: never gone
        ([True] * 20, False),
        # away for fewer probes than it takes, then back (a restart): never gone
        ([True, *[False] * (server_watch.GONE_AFTER_PROBES - 1), True, True], False),
        # a server killed mid-run: gone after GONE_AFTER_PROBES refused probes in a row (about
        # 3 s); Prefect's client took a minute per call and its workers minutes more
        ([True, True, *[False] * server_watch.GONE_AFTER_PROBES, True], True),
    ],
    ids=["answering", "back-in-time", "killed"],
)
def test_a_server_is_gone_after_probes_in_a_row_that_nothing_accepts(monkeypatch, answers, gone):
    probes = Probes(answers)
    monkeypatch.setattr(server_watch, "accepts", probes)
    said = server_watch.server_gone("http://127.0.0.1:9/api", None, probes.finished, every=0)
    if gone:
        assert said == (
            "the Prefect server at http://127.0.0.1:9/api stopped answering mid-run (nothing "
            f"accepted a connection there for {server_watch.GONE_AFTER_PROBES} probes in a row, "
            "0 s apart)"
        )
        assert probes.answers == [True]  # decided at the last refused probe
    else:
        assert said is None


def test_the_temporary_server_is_gone_as_soon_as_its_process_exits(monkeypatch):
    import threading

    class Exited:
        pid, returncode = 4242, -9

        def poll(self) -> int:
            return self.returncode

    monkeypatch.setattr(server_watch, "accepts", lambda url: True)  # its port taken by another
    said = server_watch.server_gone("http://127.0.0.1:9/api", Exited(), threading.Event(), every=0)
    assert said == "Prefect's temporary server (pid 4242) exited with code -9 mid-run"


def test_a_slow_server_accepts_the_probe_and_a_closed_port_does_not():
    import socket

    with socket.socket() as slow:  # listens and never answers: the kernel accepts for it
        slow.bind(("127.0.0.1", 0))
        slow.listen(8)
        port = slow.getsockname()[1]
        assert server_watch.accepts(f"http://127.0.0.1:{port}/api")
    assert not server_watch.accepts(f"http://127.0.0.1:{port}/api")  # closed: refused


def test_a_server_reached_through_a_proxy_is_not_probed_directly(monkeypatch):
    import threading

    # Prefect's client goes through HTTPS_PROXY; a direct probe refused by a firewall would
    # end a healthy run as if its server were gone.
    probes = Probes([False] * (server_watch.GONE_AFTER_PROBES * 2))
    monkeypatch.setattr(server_watch, "accepts", probes)
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    finished = threading.Event()
    timer = threading.Timer(0.2, finished.set)
    timer.start()
    assert (
        server_watch.server_gone("https://prefect.internal/api", None, finished, every=0.01) is None
    )
    assert len(probes.answers) == server_watch.GONE_AFTER_PROBES * 2  # none asked
