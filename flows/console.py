"""The `credits` console script: the command line imported under a stop-signal guard.

Importing the commands takes a few tenths of a second (DuckDB, Typer, Rich); a Ctrl-C, a
SIGTERM or a SIGHUP in that time ends with one line and exit 128 + the signal's number, like a
stop anywhere else before a run starts, never with Python's traceback of the import it
interrupted, nor (SIGTERM, SIGHUP) silently.
"""

from __future__ import annotations

import signal
import sys

STOPPED_EARLY = "stopped by {} before the command started: nothing was done\n"
GUARDED = (signal.SIGTERM, signal.SIGHUP)  # SIGINT is Python's KeyboardInterrupt already


def _stop(signum, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    previous = {s: signal.signal(s, _stop) for s in GUARDED}
    try:
        from flows.cli import app
    except KeyboardInterrupt as stopped:
        name = str(stopped) if str(stopped) in signal.Signals.__members__ else "SIGINT"
        sys.stderr.write(STOPPED_EARLY.format(name))
        raise SystemExit(128 + signal.Signals[name]) from None
    finally:
        for signum, handler in previous.items():  # each command sets its own from here
            signal.signal(signum, handler)
    app()
