"""ADBC connections to PostgreSQL that know the server's built-in types only.

By default ADBC's PostgreSQL driver reads the server's whole type catalog (`pg_type`) for every
`adbc_driver_postgresql.dbapi.connect`: about 29 ms of CPU and 39 ms of wall time here, nearly
all of a connection's cost. With its `type_resolver_mode` set to `builtin` it maps the types
PostgreSQL itself defines from a table of its own instead (1.8 ms of CPU and 6 ms; the same
values for every built-in type: `bench/README.md`).

The warehouse store's tables and queries use built-in types only, and so do the tests' own
statements. A type the server's users made (an enum, a domain, an extension's type) would come
back as its raw bytes here: a table *source* may have any, so `ingest.postgres` reads the
catalog.
"""

from __future__ import annotations

import _thread
import inspect
import signal
import weakref
from contextlib import suppress

import adbc_driver_manager.dbapi
import adbc_driver_postgresql.dbapi

TYPE_RESOLVER_MODE = "adbc.postgresql.type_resolver_mode"
_OPEN: weakref.WeakSet[adbc_driver_manager.dbapi.Connection] = weakref.WeakSet()


def connect(uri: str, *, autocommit: bool = False) -> adbc_driver_manager.dbapi.Connection:
    """A new connection (a session of its own) to `uri`, knowing the built-in types only.

    Raises:
        adbc_driver_manager.Error: The server cannot be reached or refused the connection.
    """
    connection = adbc_driver_postgresql.dbapi.connect(
        uri, db_kwargs={TYPE_RESOLVER_MODE: "builtin"}, autocommit=autocommit
    )
    _OPEN.add(connection)
    return connection


def cancel_all() -> None:
    """Cancels the statement each open connection runs, from any thread: a command stopped by
    SIGTERM or SIGHUP while it waits for a lock another session holds (a psql transaction left
    open on `runs`) does not wait out the server's `lock_timeout` (the statement fails, and the
    signal's own handler stops the command)."""
    for connection in list(_OPEN):
        with suppress(Exception):  # closed meanwhile: nothing to cancel
            connection.adbc_cancel()


# ADBC's private hook (adbc_driver_manager 1.13, pinned); patched only while it is there with
# the parameters it has now: another version keeps ADBC's own handling (a Ctrl-C during a
# statement then ends the command as a store lost mid-command, exit 4), never a crash.
_adbc_blocking_call = getattr(adbc_driver_manager.dbapi, "_blocking_call", None)
_HOOK_PARAMETERS = ["func", "args", "kwargs", "cancel"]


def _blocking_call(func, args, kwargs, cancel):
    """ADBC's own Ctrl-C handling, telling Python: during a statement ADBC puts a SIGINT
    handler of its own in Python's place, which cancels the statement and nothing else, so a
    Ctrl-C ended an approval as a store lost mid-command (exit 4, "run it again"), not as the
    stop it was (130). Here the Ctrl-C is also raised in the main thread, as one arriving
    anywhere else is."""

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # ignored on purpose (`nohup`, a background job of a script): ADBC would put its own
        # handler in place all the same, and a SIGINT meant for others cancel the statement
        return func(*args, **kwargs)

    def cancelled() -> None:
        # the Ctrl-C first: the cancelled statement's error must not be taken for a lost
        # store before the main thread sees it
        _thread.interrupt_main(signal.SIGINT)
        cancel()

    return _adbc_blocking_call(func, args, kwargs, cancelled)


def _hook_is_known() -> bool:
    try:
        parameters = list(inspect.signature(_adbc_blocking_call).parameters)
    except (TypeError, ValueError):  # no hook, or one that tells nothing of its parameters
        return False
    return parameters == _HOOK_PARAMETERS


if _hook_is_known():
    adbc_driver_manager.dbapi._blocking_call = _blocking_call
