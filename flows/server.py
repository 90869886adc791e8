"""The Prefect API of one `credits run`, and no leftovers when the run is killed.

A run uses `PREFECT_API_URL` if it is set, else the long-lived server that `credits serve-prefect`
(or `make serve`) recorded in `PREFECT_HOME` if it answers (`long_lived`), else Prefect's
temporary (ephemeral) server, started at the very beginning of the run so that its start-up
(seconds of imports in its own process) overlaps the run's own checks and imports. The run then
talks to it by URL like to any server; it records it in `PREFECT_HOME/credits-run-servers/
<pid>.json`: the run's pid and the server's, each with its start time. On SIGTERM, SIGINT or
SIGHUP the run interrupts DuckDB's running queries, unwinds (Prefect marks the flow run crashed;
its console says nothing more), stops the server and every other child process (a Dask
cluster's workers), and exits 128 + the signal's number at once (`exit_now`); if unwinding takes
longer than `GRACE_SECONDS`, the children are killed, the record removed and the process exits
anyway. SIGKILL cannot be caught: the next `credits run` reaps a server whose run is gone, after
checking, by its start time and command line, that the process is really that server (a pid the
system gave to another process is left alone). A long-lived server is never stopped by a run.
"""

from __future__ import annotations

import _thread
import json
import logging
import os
import select
import signal
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
from typing import NoReturn

import psutil

from flows import long_lived, server_watch
from transforms import commands, db
from transforms.errors import ConfigError

RECORDS = "credits-run-servers"
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 10.0
# What a stopped run says after "stopped by <SIGNAL>", whichever way it ends.
STOPPED_NOTE = (
    "the run's processes (Prefect's temporary server among them, if it started one) are "
    "stopped. A run stopped before its manifest was written can never be approved: run the "
    "incident again"
)
STOP_WAIT_SECONDS = 5.0
# A stopped run gives Prefect's log and event workers this long each: their sends must end well
# inside the grace period, or the watcher kills the run before it says why it stopped.
DRAIN_WHEN_STOPPED_SECONDS = 1.0
RAISE_AGAIN_SECONDS = 0.05
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


class Stopped(KeyboardInterrupt):
    """`credits run` received SIGTERM, SIGINT or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


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
            _stop([process])
            reaped.append(process.pid)
        path.unlink(missing_ok=True)
    return reaped


@dataclass
class Api:
    """The Prefect API a run talks to; `server` is the temporary server this run started."""

    url: str
    server: subprocess.Popen | None = None
    signals: _Signals | None = None  # the run's signal handling (`prefect_api` sets it)

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
            db.interrupt_all()
            _stop(psutil.Process().children(recursive=True))
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
    above; stops the temporary server and the children on the way out. Inside, the environment
    names the API (for Prefect when it is imported, and for child processes)."""
    record = None
    previous = os.environ.get(API_URL)
    with _signals() as signals:  # before the server starts: a signal stops it too
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
                raise Stopped(signum)
        finally:
            signals.cleaning.set()
            signals.stopping.set()  # a second signal must not cut the cleanup short
            if record is not None and "prefect" in sys.modules:
                stopped = signals.received() is not None
                _drain_prefect_workers(DRAIN_WHEN_STOPPED_SECONDS if stopped else STOP_WAIT_SECONDS)
            _stop(psutil.Process().children(recursive=True))  # the temporary server among them
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


def exit_now(code: int) -> NoReturn:
    """Ends a stopped run at once, its server and children already stopped: a normal exit would
    wait for the task threads still inside a step (Python joins them) and for Prefect's log and
    event workers retrying a server that is gone, seconds of "Error logging to API" for nothing
    (the run is never approved; its warehouse writes are transactions)."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(code)


def _drain_prefect_workers(timeout: float) -> None:
    """Sends the logs and events Prefect still holds while its server is up: left queued, they
    are retried against the stopped server at exit, for many seconds."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with suppress(Exception):  # best effort: the run's outcome is already decided
            worker.drain_all(timeout=timeout)


class _Signals:
    """What `_signals` knows of SIGTERM, SIGINT and SIGHUP during a run.

    Python's C-level handler writes each signal's number to a socket (`signal.set_wakeup_fd`)
    whatever Python handler is installed at the time, ours or one a library put in its place
    (Prefect replaces SIGTERM's during a flow). That byte is the record of the signal: the
    watcher thread reads it at once, and the main thread reads what is still unread before it
    decides an outcome, so no signal is missed whichever of the two gets there first.
    """

    def __init__(self) -> None:
        self.stopping, self.done = threading.Event(), threading.Event()
        self.cleaning = threading.Event()
        self.signalled = threading.Event()
        # The run's record of its temporary server (`prefect_api` sets it): removed by the
        # watcher too when it ends a run that did not unwind in time.
        self.record: Path | None = None
        self._first: list[int] = []
        self._lock = threading.Lock()
        self.receiver, self.sender = socket.socketpair()
        self.receiver.setblocking(False)
        self.sender.setblocking(False)

    def note(self, signum: int) -> None:
        with self._lock:
            if not self._first:
                self._first.append(signum)
                # From here on the run ends in one line of ours: no "Crash detected!", no
                # interrupted query's error, from Prefect or its workers.
                logging.disable(logging.CRITICAL)
            self.signalled.set()

    def take_pending(self) -> bool:
        """Notes the signals written to the socket and not read yet; False once it is closed."""
        with self._lock:
            try:
                data = self.receiver.recv(64)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
        for signum in data:
            if signum in SIGNALS:
                self.note(signum)
        return bool(data)

    @contextmanager
    def deciding(self) -> Iterator[None]:
        """An error leaving the block after a signal arrived leaves as `Stopped`: Prefect may
        catch the `Stopped` raised inside a flow or task and end with an error of its own (a
        crashed run), and during a flow Prefect's own SIGTERM handler replaces ours (a query it
        interrupts ends in DuckDB's "Query interrupted"): a signal decides the outcome all the
        same."""
        try:
            yield
        except Stopped:
            raise
        except BaseException as error:
            if signum := self.received():
                raise Stopped(signum) from error
            raise

    def received(self) -> int | None:
        """The first signal received so far, or None."""
        self.take_pending()
        return self._first[0] if self._first else None


@contextmanager
def _signals() -> Iterator[_Signals]:
    """SIGTERM, SIGINT and SIGHUP raise `Stopped` in the main thread (once); a watcher thread,
    woken at once by the signal (even while the main thread is inside a long query), gives the
    unwinding `GRACE_SECONDS`, then stops the children and ends the process."""
    signals = _Signals()

    def on_signal(signum, _frame):
        signals.note(signum)
        if not signals.stopping.is_set():
            signals.stopping.set()
            raise Stopped(signum)

    def watch():
        while True:
            with suppress(OSError, ValueError):
                select.select([signals.receiver], [], [])
            if not signals.take_pending():
                return  # the socket was closed: the run is over
            if signals.signalled.is_set():
                db.interrupt_all()  # the main thread may wait for a query: do not wait for it
                if not signals.done.wait(GRACE_SECONDS):
                    signum = signals.received() or signal.SIGTERM
                    _stop(psutil.Process().children(recursive=True))
                    if signals.record is not None:  # its server is stopped: nothing to reap
                        with suppress(OSError):
                            signals.record.unlink(missing_ok=True)
                    _say_stopped_after_grace(signum)
                    os._exit(128 + signum)
                return

    def unraisable(found) -> None:
        # Raised where Python ignores exceptions (a weakref callback, a __del__), `Stopped` would
        # print a traceback and be lost, leaving the run to the grace period: raise it again.
        if not isinstance(found.exc_value, Stopped):
            previous_hook(found)
            return
        if not signals.cleaning.is_set():  # once cleaning up, the run is stopping anyway
            signals.stopping.clear()
            # A moment later, from another thread: by then the main thread is out of here (if
            # it is in such a place again, it comes back here and tries again).
            threading.Timer(RAISE_AGAIN_SECONDS, raise_again, [found.exc_value.signum]).start()

    def raise_again(signum: int) -> None:
        if not signals.cleaning.is_set():  # it came meanwhile: nothing to raise again
            _thread.interrupt_main(signum)

    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    previous_fd = signal.set_wakeup_fd(signals.sender.fileno(), warn_on_full_buffer=False)
    watcher = threading.Thread(target=watch, name="credits-run-signals", daemon=True)
    watcher.start()
    try:
        yield signals
    finally:
        signal.set_wakeup_fd(previous_fd)
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.unraisablehook = previous_hook
        logging.disable(logging.NOTSET)
        signals.sender.close()  # the watcher reads the end of the stream and returns
        watcher.join(GRACE_SECONDS + STOP_WAIT_SECONDS * 2)
        signals.receiver.close()


def _say_stopped_after_grace(signum: int) -> None:
    """The stopped run's one line, when its main thread did not unwind within the grace period
    (stuck in a call that swallowed `Stopped`, or slowed by a busy machine): written straight to
    stderr, since the main thread may hold the console's lock."""
    name = signal.Signals(signum).name
    line = f"stopped by {name} (the run did not unwind within {GRACE_SECONDS:g} s): {STOPPED_NOTE}"
    with suppress(OSError):
        os.write(2, f"{line}\n".encode())


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


def _stop(processes: list[psutil.Process]) -> None:
    """Terminates the processes, then kills those still alive after `STOP_WAIT_SECONDS`."""
    for process in processes:
        with suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=STOP_WAIT_SECONDS)
    for process in alive:
        with suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=STOP_WAIT_SECONDS)
