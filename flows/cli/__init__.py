"""The `credits` command line. Exit codes: 0 done (a run that passed the gate waits for
approval), 2 bad usage or configuration or input, 3 data rejected by validation or a ledger,
journal or batch that does not prove itself, 4 the machine refused a write (full disk, read-only
folder, permission), 1 anything else (a bug); `credits run` stopped by a signal exits 128 + its
number.

One module per user group adds its commands to the one `app` (`common`): `run` (sample, run,
serve-prefect), `runs` (runs), `finance` (approve, decline, verify-batch, audit), `diff` (diff,
and how approve shows it), `support` (customers, lookup), `support_page` (serve-support),
`window` (the analysts' window against the logs), `warehouse` (warehouse copy: a DuckDB file
into a PostgreSQL store), `version` (`--version`). Quick commands never import Prefect: only
`credits run` starts it (and `credits serve-prefect` a server for the runs).
"""

from flows.cli.common import app

# `credits --help` lists the commands in the order their modules are imported.
# isort: off
from flows.cli import version, run, runs, finance, diff, support, support_page, window, warehouse
from flows.cli import whatif  # noqa: F401  (registers `what-if`)

# isort: on

__all__ = [
    "app",
    "diff",
    "finance",
    "run",
    "runs",
    "support",
    "support_page",
    "version",
    "warehouse",
    "window",
]
