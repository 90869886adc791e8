"""The `credits` console script: the command line imported under a Ctrl-C guard.

Importing the commands takes a few tenths of a second (DuckDB, Typer, Rich); a Ctrl-C in that
time ends with one line and exit 130, like a Ctrl-C anywhere else before a run starts, never
with Python's traceback of the import it interrupted.
"""

from __future__ import annotations

import signal
import sys

STOPPED_EARLY = "stopped by SIGINT before the command started: nothing was done\n"


def main() -> None:
    try:
        from flows.cli import app
    except KeyboardInterrupt:
        sys.stderr.write(STOPPED_EARLY)
        raise SystemExit(128 + signal.SIGINT) from None
    app()
