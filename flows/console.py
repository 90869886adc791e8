"""The `credits` console script: the command line imported and run under a stop-signal guard.

The guard is the script's first act (importing `flows` is kept cheap for it: no DuckDB), and it
stays for the whole command: a Ctrl-C, a SIGTERM or a SIGHUP while the commands are imported (a
tenth of a second: Typer, Rich; DuckDB first thing in `credits run`) or read (Typer) ends with one
line and exit 128 + the signal's number, never with Python's traceback of the import it interrupted,
nor (SIGTERM, SIGHUP) silently, nor with Typer's silent 130 for a stop between its steps; later, it
raises `KeyboardInterrupt` naming the signal, as Ctrl-C does, until a command puts its own handling
in place (`credits run`, `approve`, `decline`), and whatever command it stops says so
(`common.stopped_as_128_plus_n`); once the command is over (Python exiting, Prefect's workers
draining), the system's default again. Before this module runs (Python starting, a few hundredths of
a second) the system's default applies: SIGTERM and SIGHUP end the process silently (a shell shows
128 + n), SIGINT with Python's own fatal error or traceback; nothing was done.

A stop that arrives while a module is being imported is raised again the moment the outermost
import is over, to whatever handler is then in place (`waits_for_an_import`): an exception
raised inside a C extension's initialisation (DuckDB's, say) is not ours to raise. Nanobind
aborts the process (exit 134) on it; DuckDB turns it into an `ImportError` with a traceback, or
swallows it and the command goes on.
"""

from __future__ import annotations

import io
import signal
import sys

STOPPED_EARLY = "stopped by {} before the command started: nothing was done\n"
STOPPED_LATE = "stopped by {}: the command ended there (what it committed stays)\n"
STOPPED_READING = (
    "stopped by {}: the command ended there; it only reads, so nothing changed: run it again\n"
)
STOPPED_SERVING = (
    "stopped by {}: the support page stopped serving; it only reads, so nothing changed\n"
)
GUARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
IMPORTING = "<frozen importlib._bootstrap>"


class _Waiting:
    """A stop that came during an import, raised again at the first call or return once the
    outermost import has returned (`sys.setprofile`), and again at the next one if that first
    one was a finaliser's (a `__del__`, a weak reference's callback: Python reports an exception
    raised there and goes on)."""

    def __init__(self, signum: int, outermost) -> None:
        self.signum, self.outermost, self.over = signum, outermost, False
        earlier = getattr(sys.unraisablehook, "__self__", None)  # an earlier stop's
        self.reporter = earlier.reporter if isinstance(earlier, _Waiting) else sys.unraisablehook

    def start(self) -> None:
        sys.unraisablehook = self.unraisable
        sys.setprofile(self.watch)

    def watch(self, frame, event: str, _arg) -> None:
        if event == "return" and frame is self.outermost:
            self.over = True
        elif self.over:  # back in the importer's code: a Python or a C call, or a return
            sys.setprofile(None)
            signal.raise_signal(self.signum)  # its handler runs here, or waits for an import

    def unraisable(self, found) -> None:
        name = signal.Signals(self.signum).name
        if isinstance(found.exc_value, KeyboardInterrupt) and str(found.exc_value) == name:
            # lost in a finaliser: raised again at the first call or return after this one
            self.outermost, self.over = sys._getframe(), False
            sys.setprofile(self.watch)
        else:
            self.reporter(found)


def waits_for_an_import(signum: int, frame) -> bool:
    """True if the signal came while a module is being imported (`frame` is where the main
    thread was: the import machinery below it): it is raised again once the import is over
    (`_Waiting`). Under a profiler (`sys.getprofile` set: cProfile's, a debugger's) nothing
    waits: the stop is raised where it came, as before."""
    outermost = None
    while frame is not None:
        if frame.f_code.co_filename == IMPORTING:
            outermost = frame
        frame = frame.f_back
    if outermost is None or sys.getprofile() is not None:
        return False
    _Waiting(signum, outermost).start()
    return True


def _stop(signum, frame) -> None:
    if not waits_for_an_import(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)


def _name(stopped: KeyboardInterrupt) -> str:
    return str(stopped) if str(stopped) in signal.Signals.__members__ else "SIGINT"


def _stopped_behind(leaving: SystemExit) -> KeyboardInterrupt | None:
    """The stop behind Typer's `Exit(130)`, if it is one (an exit the commands chose has none)."""
    if leaving.code != 130:
        return None
    cause: BaseException | None = leaving
    while cause is not None and not isinstance(cause, KeyboardInterrupt):
        # not through a `raise ... from None`: ours, once the stop was told
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    return cause


def main() -> None:
    # A terminal whose encoding cannot show a character (a locale that is not UTF-8) gets it
    # escaped (`\xe9`): printing a customer's name or a path was a traceback, exit 1, after
    # the command had done its work. stderr escapes by default; stdout refused.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # A signal ignored from the start stays ignored (`nohup credits ...`: SIGHUP).
    previous = {s: signal.getsignal(s) for s in GUARDED}
    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _stop)
    try:
        from typer.main import get_command

        from flows.cli import app

        command = get_command(app)  # Typer reads every command's signature: a tenth of a second
    except KeyboardInterrupt as stopped:
        name = _name(stopped)
        sys.stderr.write(STOPPED_EARLY.format(name))
        raise SystemExit(128 + signal.Signals[name]) from None
    try:
        command()  # what `app()` runs, the commands read once
    except (SystemExit, KeyboardInterrupt) as leaving:  # a stop between Typer's steps (which
        # Typer makes a silent 130) or outside them (its shell completion, its usage error)
        stopped = leaving if isinstance(leaving, KeyboardInterrupt) else _stopped_behind(leaving)
        if stopped is None:
            raise
        name = _name(stopped)
        sys.stderr.write(STOPPED_LATE.format(name))
        raise SystemExit(128 + signal.Signals[name]) from None
    finally:  # the command is over: a stop while Python exits is the system's, as before
        for signum, handler in previous.items():
            signal.signal(signum, handler)
