"""PostgreSQL connections through ADBC, each made from a driver database kept for its URL.

ADBC's PostgreSQL driver reads the server's type catalog (`pg_type`) when its *database*
object is made, and `adbc_driver_postgresql.dbapi.connect` makes a new one for every
connection: about 30 ms of CPU here, and a catalog query on the server, each time. ADBC's
connections made from one database object share what it read: a connection then costs the
server's handshake only (under 1 ms of CPU). The warehouse store connects once per command and
per snapshot; the tests connect thousands of times.

What is kept is the driver's database object and nothing else: no session stays open between
connections, and each connection is opened, used and closed as before. The catalog read once
is right for as long as the process talks to the URL: the store's tables use built-in types
only. (A table *source* may use any type its owner made, so `ingest.postgres` makes a new
database object for each read.)

The objects are kept for the last `KEPT` URLs (the tests make a database per test), and
closed at exit. ADBC lets one thread at a time use a database object: a connection is made
from it under a lock.
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict

import adbc_driver_manager
import adbc_driver_manager.dbapi
import adbc_driver_postgresql

KEPT = 16

# The shared holder of ADBC's dbapi counts the connections that use a database object and
# closes it after the last one: the entry here holds one count of its own.
_Shared = adbc_driver_manager.dbapi._SharedDatabase
_KEPT: OrderedDict[str, tuple[_Shared, threading.Lock]] = OrderedDict()
_KEPT_LOCK = threading.Lock()


def connect(uri: str, *, autocommit: bool = False) -> adbc_driver_manager.dbapi.Connection:
    """A new connection to `uri` (its own session), as `adbc_driver_postgresql.dbapi.connect`
    gives, made from the driver database kept for `uri`.

    Raises:
        adbc_driver_manager.Error: The server cannot be reached or refused the connection.
    """
    shared, lock = _database(uri)
    try:
        with lock:
            connection = adbc_driver_manager.AdbcConnection(shared._db)
        try:
            return adbc_driver_manager.dbapi.Connection(shared, connection, autocommit=autocommit)
        except BaseException:
            connection.close()
            raise
    finally:
        shared.close()  # the count `_database` took for this call (the connection has its own)


def _database(uri: str) -> tuple[_Shared, threading.Lock]:
    """The kept database object of `uri` (made if absent), with one count taken for the
    caller; the oldest kept one is let go past `KEPT`."""
    with _KEPT_LOCK:
        entry = _KEPT.get(uri)
        if entry is not None:
            _KEPT.move_to_end(uri)
            entry[0].clone()
            return entry
    made = _Shared(adbc_driver_postgresql.connect(uri))  # reads the type catalog
    with _KEPT_LOCK:
        entry = _KEPT.get(uri)
        if entry is not None:  # another thread made one meanwhile: keep the first
            made.close()
            entry[0].clone()
            return entry
        entry = _KEPT[uri] = (made, threading.Lock())
        while len(_KEPT) > KEPT:
            _, (oldest, _) = _KEPT.popitem(last=False)
            oldest.close()  # closed now, or after its last open connection
        entry[0].clone()
        return entry


@atexit.register
def close_all() -> None:
    """Lets go of every kept database object (each closes after its last open connection)."""
    with _KEPT_LOCK:
        while _KEPT:
            _, (shared, _) = _KEPT.popitem()
            shared.close()
