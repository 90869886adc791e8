"""The Prefect API of one `credits run`, and no leftovers when the run is killed.

A run uses `PREFECT_API_URL` if it is set, else the long-lived server that `credits serve-prefect`
(or `make serve`) recorded in `PREFECT_HOME` if it answers (`long_lived`), else Prefect's temporary
(ephemeral) server, started at the very beginning of the run so that its start-up (seconds of
imports in its own process) overlaps the run's own checks and imports. The run then talks to it by
URL like to any server; it records it in `PREFECT_HOME/credits-run-servers/<pid>.json`: the run's
pid and the server's, each with its start time. On SIGTERM, SIGINT or SIGHUP the run interrupts
DuckDB's running queries, unwinds (Prefect marks the flow run crashed; its console says nothing
more), stops the server and every other child process (a Dask cluster's workers), and exits 128 +
the signal's number at once (`flows.stopping`); if unwinding takes longer than its grace period,
the children are killed, the record removed and the process exits anyway. SIGKILL cannot be caught:
the next `credits run` reaps a server whose run is gone, after checking, by its start time and
command line, that the process is really that server (a pid the system gave to another process is
left alone). A long-lived server is never stopped by a run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import psutil

from flows import long_lived, server_watch, stopping
from transforms import commands
from transforms.errors import ConfigError

RECORDS = "credits-run-servers"
# A stopped run gives Prefect's log and event workers this long each: their sends must end well
# inside the grace period, or the watcher kills the run before it says why it stopped.
DRAIN_WHEN_STOPPED_SECONDS = 1.0
SERVER_MARKS = ("uvicorn", "prefect.server.api.server:create_app")
API_URL = "PREFECT_API_URL"
HEALTH_POLL_SECONDS = 0.05
# The temporary server as Prefect starts it (`SubprocessASGIServer`): no UI, ephemeral services.
EPHEMERAL = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
# What a server that ends with its run does without: automations (the triggers service, its
# actions) and the live stream of events to a UI's websockets (it has no UI). Everything the UI
# shows later from PREFECT_HOME's database is still written: flow runs and logs (the API), task
# runs (the task-run recorder) and events (the event persister).
TEMPORARY_SETTINGS = {
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
}


GONE_EXIT_CODE = 4  # the machine refused: transforms.errors.StorageError's


def reap_orphans(prefect_home: Path) -> list[int]:
    """Stops every temporary server left by a `credits run` that is gone; returns their pids."""
    reaped = []
    for path in sorted((prefect_home / RECORDS).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            owner, server = record["owner"], record["server"]
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if _process(owner) is not None:
            continue  # its run is alive: its server is in use
        process = _process(server)
        if process is not None and _is_server(process):
            stopping.stop([process])
            reaped.append(process.pid)
        path.unlink(missing_ok=True)
    return reaped


@dataclass
class Api:
    """The Prefect API a run talks to; `server` is the temporary server this run started."""

    url: str
    server: subprocess.Popen | None = None
    signals: stopping.Signals | None = None  # the run's signal handling (`prefect_api` sets it)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Runs the body against this API once it answers. Flow-run heartbeats tell a long-lived
        server that a run still lives; a temporary one ends with the run, and the engine would
        wait up to a second for their thread: off. An error that a signal caused (a query it
        interrupted: "Query interrupted", a crashed flow run) leaves as `Stopped`, here, inside
        the command's error handling, which would otherwise report it as a bug first."""
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            temporary_settings,
        )

        updates = {PREFECT_API_URL: self.url}
        if self.server is not None:
            self._wait_for_server()
            updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
        deciding = self.signals.deciding() if self.signals is not None else nullcontext()
        finished, acting = threading.Event(), threading.Lock()
        watcher = threading.Thread(
            target=self._end_if_gone, args=(finished, acting), name="credits-run-api", daemon=True
        )
        watcher.start()
        try:
            with deciding, temporary_settings(updates):
                yield
        finally:
            with acting:  # the watcher ends the run, or never will
                finished.set()

    def _end_if_gone(self, finished: threading.Event, acting: threading.Lock) -> None:
        """Ends the run with exit 4 once its server is gone (`server_gone`), unless the run
        ended first or a stop signal is ending it. As a SIGKILL would: every warehouse write is
        a transaction and a run without its manifest is never approved; the scratch `_work/`
        is the next run's to remove."""
        why = server_watch.server_gone(self.url, self.server, finished)
        if why is None:
            return
        with acting:
            if finished.is_set() or (self.signals is not None and self.signals.signalled.is_set()):
                return
            stopping.interrupt_duckdb_queries()
            stopping.stop(psutil.Process().children(recursive=True))
            if self.signals is not None and self.signals.record is not None:
                with suppress(OSError):
                    self.signals.record.unlink(missing_ok=True)
            again = (
                "Run the incident again: it starts a new temporary server"
                if self.server is not None
                else "Start the server, or leave PREFECT_API_URL unset for a temporary one, "
                "and run again"
            )
            line = (
                f"error: {why}: the run stopped there. Nothing was published: a run not sealed "
                "is never approved (one that printed its `publish` line is sealed and waits for "
                f"approval as usual: `{commands.credits('runs')}` shows its status). {again}"
            )
            with suppress(OSError):
                os.write(2, f"{line}\n".encode())
            os._exit(GONE_EXIT_CODE)

    def _wait_for_server(self) -> None:
        seconds = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
        deadline = time.monotonic() + seconds
        while not long_lived.answers(self.url, timeout=1.0):
            if (code := self.server.poll()) is not None:
                raise RuntimeError(f"Prefect's temporary server exited with code {code}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Prefect's temporary server did not answer in {seconds:.0f} s")
            time.sleep(HEALTH_POLL_SECONDS)


@contextmanager
def prefect_api(prefect_home: Path) -> Iterator[Api]:
    """Runs the body with the run's Prefect API (`PREFECT_API_URL`, a long-lived server found,
    or a temporary server started now: `Api.serving` waits for it) and the signal handling
    (`stopping.watching`); stops the temporary server and the children on the way out. Inside,
    the environment names the API (for Prefect when it is imported, and for child processes)."""
    record = None
    previous = os.environ.get(API_URL)
    # Processes this one had already started (a test session's Prefect server, when the CLI is
    # called in-process) are not the run's: only those started since are stopped.
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    with stopping.watching() as signals:  # before the server starts: a signal stops it too
        try:
            if previous:
                _require_api_url(previous)
            url = previous or long_lived.found(prefect_home)
            api = Api(url) if url else _start_temporary_server()
            api.signals = signals
            if api.server is not None:
                record = signals.record = _record(prefect_home, api.server.pid)
            os.environ[API_URL] = api.url
            with signals.deciding():
                yield api
            if signum := signals.received():  # the signal was swallowed, the flow returned
                raise stopping.Stopped(signum)
        finally:
            signals.cleaning.set()
            signals.stopping.set()  # a second signal must not cut the cleanup short
            if record is not None and "prefect" in sys.modules:
                stopped = signals.received() is not None
                _drain_prefect_workers(
                    DRAIN_WHEN_STOPPED_SECONDS if stopped else stopping.STOP_WAIT_SECONDS
                )
            # the temporary server among them
            children = psutil.Process().children(recursive=True)
            stopping.stop([child for child in children if child.pid not in before])
            if record is not None:
                record.unlink(missing_ok=True)
            if previous is None:
                os.environ.pop(API_URL, None)
            else:
                os.environ[API_URL] = previous
            signals.done.set()


def _require_api_url(url: str) -> None:
    """Refuses (exit 2) a `PREFECT_API_URL` that is no http(s) URL with a host: Prefect
    would fail to reach it as if a server had gone (`notaurl` was a bug's exit 1)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"PREFECT_API_URL={url!r}: not a Prefect API URL such as "
            "http://127.0.0.1:4200/api; set it to one, or unset it (a run then starts its own "
            "server, or uses `credits serve-prefect`'s)"
        )


def _start_temporary_server() -> Api:
    """Prefect's temporary server, as Prefect starts it, on a free port, with
    `TEMPORARY_SETTINGS`; not waited for. Its own session: a Ctrl-C in the terminal signals the
    whole foreground process group, and the server, caught while it imports or serves, printed
    its own tracebacks over ours (`prefect_api` stops it, in order)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    prefect_dir = Path(util.find_spec("prefect").origin).parent  # without importing Prefect
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_dir.parent)]
    command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    env = {**os.environ, **EPHEMERAL, **TEMPORARY_SETTINGS}
    env.pop(API_URL, None)
    process = subprocess.Popen(command, env=env, start_new_session=True)
    return Api(f"http://127.0.0.1:{port}/api", process)


def _drain_prefect_workers(timeout: float) -> None:
    """Sends the logs and events Prefect still holds while its server is up: left queued, they
    are retried against the stopped server at exit, for many seconds."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with suppress(Exception):  # best effort: the run's outcome is already decided
            worker.drain_all(timeout=timeout)


def _record(prefect_home: Path, server_pid: int) -> Path:
    folder = prefect_home / RECORDS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    me, server = psutil.Process(), psutil.Process(server_pid)
    content = {
        "owner": {"pid": me.pid, "started": me.create_time()},
        "server": {"pid": server.pid, "started": server.create_time()},
    }
    path.write_text(json.dumps(content) + "\n")
    return path


def _process(known: dict) -> psutil.Process | None:
    """The process recorded as `known`, if it still runs (same pid and start time)."""
    try:
        process = psutil.Process(int(known["pid"]))
        if abs(process.create_time() - float(known["started"])) < 0.01:
            return process
    except (psutil.Error, ValueError, KeyError, TypeError):
        pass
    return None


def _is_server(process: psutil.Process) -> bool:
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return False
    return all(mark in command for mark in SERVER_MARKS)
