"""The two warehouse stores, for tests: a DuckDB file, or a PostgreSQL database made for one test.

The server is the one `CREDITS_TEST_PG_DSN` names (default postgresql://postgres@127.0.0.1:5432/
test). Without one, what needs it skips, except when CI=true: there it fails. The test side talks
to the server through ADBC, in autocommit, as an operator with psql would.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_manager
import pytest

from transforms import pg_connections
from transforms.finance import pg_location, warehouse

DSN_VARIABLE = "CREDITS_TEST_PG_DSN"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
STORES = ("duckdb", "postgres")
DATABASE_NAME = re.compile(r"credits_t_[0-9a-f]{16}")

# For a test about the DuckDB file itself (its file lock, its upgrade in place, a full disk
# under it): the `warehouse_location` fixture on the DuckDB store only.
duckdb_only = pytest.mark.parametrize("warehouse_location", ["duckdb"], indirect=True)


def execute(dsn: str, *statements: str, parameters: tuple | None = None) -> None:
    """Runs statements (schema changes: names cannot be bound), each with the `$1`.. values
    given, on a connection of their own."""
    with (
        pg_connections.connect(dsn, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        for statement in statements:
            cursor.execute(statement, parameters=parameters)


def fetch(dsn: str, query: str, *parameters) -> list[tuple]:
    """The rows of a query, its values bound, on a connection of its own."""
    with (
        pg_connections.connect(dsn, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(query, parameters=parameters or None)
        return cursor.fetchall()


def server() -> str:
    """The test server's DSN; the test skips without one (fails when CI=true)."""
    dsn = os.environ.get(DSN_VARIABLE, DEFAULT_DSN)
    try:
        execute(dsn, "select 1")
    except adbc_driver_manager.Error as error:
        reason = f"no PostgreSQL at {DSN_VARIABLE} ({str(error).splitlines()[0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI=true runs these tests, start the server", pytrace=False)
        pytest.skip(f"{reason}: set {DSN_VARIABLE} to a reachable server to run these tests")
    return dsn


@contextmanager
def database(dsn: str, template: str | None = None) -> Iterator[str]:
    """A brand-new database on the server (`credits_t_<uuid>`; a copy of `template` if given),
    its URL; dropped afterwards."""
    name = f"credits_t_{uuid.uuid4().hex[:16]}"
    for named in (name, template or name):  # only our own databases are made or copied
        if not DATABASE_NAME.fullmatch(named):
            raise ValueError(f"{named!r} is not a test database's name")
    if template:
        administer(dsn, "select format('create database %I template %I', $1, $2)", name, template)
    else:
        administer(dsn, "select format('create database %I', $1)", name)
    try:
        yield urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))
    finally:
        administer(dsn, "select format('drop database %I with (force)', $1)", name)


def administer(dsn: str, statement: str, *names: str) -> None:
    """Runs the statement that `statement` (a `format()` of the server's) makes of `names`: a
    name (a database's, a role's, a column's) cannot be bound in a schema change, so the names
    are bound to `format`, whose `%I` quotes them as identifiers, and the server's own text is
    run."""
    with (
        pg_connections.connect(dsn, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, parameters=names)
        ((made,),) = cursor.fetchall()
        cursor.execute(made)


def with_path(dsn: str, database: str, user: str | None = None) -> str:
    """The DSN of another database (and user) on the same server."""
    parts = urlsplit(dsn)
    netloc = parts.netloc if user is None else f"{user}@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(path=f"/{database}", netloc=netloc))


@contextmanager
def login(server: str, *granted: str) -> Iterator[str]:
    """A login role of its own (granted `granted`; none: it may only connect, as any login
    may), dropped after the block: a superuser passes every privilege and limit."""
    role = f"credits_login_{uuid.uuid4().hex[:8]}"
    administer(server, "select format('create role %I login', $1)", role)
    try:
        for granting in granted:
            administer(server, "select format('grant %I to %I', $1, $2)", granting, role)
        yield role
    finally:
        administer(server, "select format('drop role if exists %I', $1)", role)


def kind(location: warehouse.Location) -> str:
    """The store a warehouse location is on: one of `STORES`."""
    return "postgres" if pg_location.is_url(location) else "duckdb"


@contextmanager
def location(store: str, folder: Path) -> Iterator[warehouse.Location]:
    """A warehouse location no warehouse is at yet: a DuckDB file in `folder`, or the URL of a
    new database on the test server."""
    if store == "duckdb":
        yield folder / "wh.duckdb"
        return
    with database(server()) as url:
        yield url


def tamper(location: warehouse.Location, *statements: str, parameters: tuple | None = None):
    """Changes the warehouse behind the product's back, as whoever can write to it can: SQL
    (valid in both dialects, values as `$1`..) on the DuckDB file, or on the server."""
    if isinstance(location, str):
        execute(location, *statements, parameters=parameters)
        return
    with warehouse.connect(location) as con:
        for statement in statements:
            con.execute(statement, parameters)
