"""The PostgreSQL store's one writer lock: a session-level advisory lock a writer takes (and
names itself by), and who holds it, for the message of a writer that waited in vain."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING

import adbc_driver_manager

from transforms.errors import StorageError
from transforms.finance import pg_location
from transforms.finance.pg_session import storage_errors

if TYPE_CHECKING:
    from transforms.finance.pg_store import Store


def take(store: Store, wait_seconds: float, busy: Callable[[str], Exception]) -> None:
    """Takes the store's one writer lock for the session, naming this process and machine
    for a writer that waits; waits up to `wait_seconds`, then raises `busy(message)` naming
    who holds it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        taken = store.scalar("store_try_lock")
        if taken:
            named = f"outage-credits writer: pid {os.getpid()} on {socket.gethostname()}"
            store.execute("store_name_writer", (named,))
        store.commit()  # the session's lock and name outlive the transaction
        if taken:
            return
        if time.monotonic() >= deadline:
            raise busy(
                f"warehouse {pg_location.shown(store.url)}: another run or approval is writing "
                f"to it{holder(store)}; waited {wait_seconds:.0f} s. Try again when it has "
                "finished."  # warehouse.TRY_AGAIN, which a seal that gives up leaves out
            )
        time.sleep(0.1)


def require(store: Store) -> None:
    """Refuses (`StorageError`) a writer cut off, its lock gone with its session: it must not
    make a batch final, since the next writer, let in, may be finishing it into another
    outbox."""
    with storage_errors(store.url, "checking that it still holds the writer's lock"):
        held = store.scalar("store_lock_held")
        store.commit()
    if not held:
        raise StorageError(
            f"warehouse {pg_location.shown(store.url)}: this command no longer holds the "
            "writer's lock (its session was cut, and another writer may be finishing its "
            "work): it stopped before making anything final"
        )


def holder(store: Store) -> str:
    """Who holds the writer's lock, as the server sees the session: its name (another
    writer's process and machine), client and start; empty when the server does not say
    (the lock just released, or this role may not see other sessions)."""
    try:
        rows = store.rows("store_lock_holder")
        store.commit()
    except adbc_driver_manager.Error:
        return ""
    if not rows:
        return ""
    name, client, since, pid = rows[0]
    said = [name or f"server process {pid}"]
    if client is not None:
        said.append(f"from {client}")
    if since is not None:
        said.append(f"connected since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z")
    return f" ({', '.join(said)})"
