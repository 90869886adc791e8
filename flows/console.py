"""The `credits` console script: the command line imported and run under a stop-signal guard.

The guard is the script's first act (importing `flows` is kept cheap for it: no DuckDB), and it
stays for the whole command: a Ctrl-C, a SIGTERM or a SIGHUP while the commands are imported
(a few tenths of a second: DuckDB, Typer, Rich) ends with one line and exit 128 + the signal's
number, never with Python's traceback of the import it interrupted, nor (SIGTERM, SIGHUP)
silently; later, it raises `KeyboardInterrupt` naming the signal, as Ctrl-C does, until a
command puts its own handling in place (`credits run`, `approve`, `decline`), and whatever
command it stops says so (`common.stopped_as_128_plus_n`); once the command is over (Python
exiting, Prefect's workers draining), the system's default again. Before this module runs (Python
starting, a few hundredths of a second) the system's default applies: SIGTERM and SIGHUP end the
process silently (a shell shows 128 + n), SIGINT with Python's own fatal error (exit 1); nothing
was done.
"""

from __future__ import annotations

import signal
import sys

STOPPED_EARLY = "stopped by {} before the command started: nothing was done\n"
GUARDED = (signal.SIGTERM, signal.SIGHUP)  # SIGINT is Python's KeyboardInterrupt already


def _stop(signum, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    # A signal ignored from the start stays ignored (`nohup credits ...`: SIGHUP).
    previous = {s: signal.getsignal(s) for s in GUARDED}
    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _stop)
    try:
        from flows.cli import app
    except KeyboardInterrupt as stopped:
        name = str(stopped) if str(stopped) in signal.Signals.__members__ else "SIGINT"
        sys.stderr.write(STOPPED_EARLY.format(name))
        raise SystemExit(128 + signal.Signals[name]) from None
    try:
        app()
    finally:  # the command is over: a stop while Python exits is the system's, as before
        for signum, handler in previous.items():
            signal.signal(signum, handler)
