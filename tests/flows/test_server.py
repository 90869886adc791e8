"""The temporary server's settings for the run it serves (the kills are in test_kill_safety)."""

from __future__ import annotations

import psutil
import pytest

from flows import server


class FakeServer:
    """Stands for Prefect's temporary server: this process plays its part, nothing starts."""

    server_process = psutil.Process()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.mark.parametrize(
    ("api_url", "heartbeat_s"),
    [
        (None, None),  # the temporary server ends with the run: no heartbeats to wait for
        ("http://127.0.0.1:9/api", 180),  # a long-lived server keeps its runs' heartbeats
    ],
)
def test_only_a_long_lived_servers_runs_send_heartbeats(
    tmp_path, monkeypatch, api_url, heartbeat_s
):
    from prefect.server.api import server as prefect_server
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    monkeypatch.setattr(prefect_server, "SubprocessASGIServer", FakeServer)
    monkeypatch.setattr(server, "_stop", lambda processes: None)  # this process's children
    monkeypatch.setattr(server, "_drain_prefect_workers", lambda: None)
    with temporary_settings({PREFECT_API_URL: api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 180}):
        with server.temporary_server(tmp_path):
            assert get_current_settings().flows.heartbeat_frequency == heartbeat_s
        assert get_current_settings().flows.heartbeat_frequency == 180


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

    with pytest.raises(server.Stopped), server._signals() as signals:
        try:
            Dropped()  # collected at once
            for _ in range(500):  # ... and `Stopped` comes again, out here
                time.sleep(0.01)
        finally:
            signals.cleaning.set()  # as the run's cleanup does: nothing is raised again
            signals.done.set()  # the watcher's grace ends: this is no run to kill
