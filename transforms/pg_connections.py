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

import adbc_driver_manager.dbapi
import adbc_driver_postgresql.dbapi

TYPE_RESOLVER_MODE = "adbc.postgresql.type_resolver_mode"


def connect(uri: str, *, autocommit: bool = False) -> adbc_driver_manager.dbapi.Connection:
    """A new connection (a session of its own) to `uri`, knowing the built-in types only.

    Raises:
        adbc_driver_manager.Error: The server cannot be reached or refused the connection.
    """
    return adbc_driver_postgresql.dbapi.connect(
        uri, db_kwargs={TYPE_RESOLVER_MODE: "builtin"}, autocommit=autocommit
    )
