"""How `credits run` stops on SIGTERM, SIGINT or SIGHUP: `Stopped` raised in the main thread
(once), a watcher thread that gives the unwinding `GRACE_SECONDS` and then stops the children
and ends the process, and `exit_now` once the run has unwound. `flows.server` wraps a run's
Prefect API in it."""

from __future__ import annotations

import _thread
import logging
import os
import select
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NoReturn

import psutil

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 10.0
# What a stopped run says after "stopped by <SIGNAL>", whichever way it ends.
STOPPED_NOTE = (
    "the run's processes (Prefect's temporary server among them, if it started one) are "
    "stopped. A run stopped before its manifest was written can never be approved: run the "
    "incident again"
)
STOP_WAIT_SECONDS = 5.0
RAISE_AGAIN_SECONDS = 0.05


class Stopped(KeyboardInterrupt):
    """`credits run` received SIGTERM, SIGINT or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_now(code: int) -> NoReturn:
    """Ends a stopped run at once, its server and children already stopped: a normal exit would
    wait for the task threads still inside a step (Python joins them) and for Prefect's log and
    event workers retrying a server that is gone, seconds of "Error logging to API" for nothing
    (the run is never approved; its warehouse writes are transactions)."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(code)


class Signals:
    """What `watching` knows of SIGTERM, SIGINT and SIGHUP during a run.

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
def watching() -> Iterator[Signals]:
    """SIGTERM, SIGINT and SIGHUP raise `Stopped` in the main thread (once); a watcher thread,
    woken at once by the signal (even while the main thread is inside a long query), gives the
    unwinding `GRACE_SECONDS`, then stops the children and ends the process."""
    signals = Signals()

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
                interrupt_duckdb_queries()  # the main thread may wait for one: do not wait
                if store := sys.modules.get("transforms.pg_connections"):  # or a store's lock
                    store.cancel_all()
                if not signals.done.wait(GRACE_SECONDS):
                    signum = signals.received() or signal.SIGTERM
                    stop(psutil.Process().children(recursive=True))
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


@contextmanager
def statements_cancelled() -> Iterator[None]:
    """A thread that cancels the store's statements when a stop signal arrives: Python runs a
    signal's handler only between the main thread's steps, and a statement waiting for a lock
    another session holds (a psql transaction left open on `runs`) kept an approval deaf to
    SIGTERM until the server's 60 s `lock_timeout`. Python's C-level handler writes each
    signal's number to a socket (`signal.set_wakeup_fd`), which the thread reads at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # no signal handler runs there (a test's thread): nothing to watch
        return
    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    previous = signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while received := receiver.recv(64):
            store = sys.modules.get("transforms.pg_connections")  # no store used: none loaded
            if store is not None and any(n in received for n in SIGNALS):
                store.cancel_all()

    watcher = threading.Thread(target=watch, name="credits-stop-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        sender.close()  # the watcher reads the end of the stream and returns
        watcher.join(5)
        receiver.close()


def _say_stopped_after_grace(signum: int) -> None:
    """The stopped run's one line, when its main thread did not unwind within the grace period
    (stuck in a call that swallowed `Stopped`, or slowed by a busy machine): written straight to
    stderr, since the main thread may hold the console's lock."""
    name = signal.Signals(signum).name
    line = f"stopped by {name} (the run did not unwind within {GRACE_SECONDS:g} s): {STOPPED_NOTE}"
    with suppress(OSError):
        os.write(2, f"{line}\n".encode())


def interrupt_duckdb_queries() -> None:
    """Interrupts every DuckDB query this process runs (`db.interrupt_all`); with DuckDB's
    queries module not loaded there is none, and importing it here would cost every quick
    command its start."""
    if (queries := sys.modules.get("transforms.db")) is not None:
        queries.interrupt_all()


def stop(processes: list[psutil.Process]) -> None:
    """Terminates the processes, then kills those still alive after `STOP_WAIT_SECONDS`."""
    for process in processes:
        with suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=STOP_WAIT_SECONDS)
    for process in alive:
        with suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=STOP_WAIT_SECONDS)
