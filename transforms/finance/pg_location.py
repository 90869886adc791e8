"""Where a PostgreSQL warehouse is (`postgresql://` URLs) and how it is reached: a URL told from
a DuckDB file's path, shown with its password masked, checked before connecting, and the
server's refusals said in one line without the URL's secrets. `pg_store` is the store itself.

Light to import (no driver until a connection is made): quick commands and settings tell a URL
from a path with it.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from transforms import pg_url
from transforms.errors import ConfigError, StorageError

if TYPE_CHECKING:
    import adbc_driver_postgresql.dbapi

SCHEMES = pg_url.SCHEMES


def is_url(location: object) -> bool:
    """Whether a warehouse location names a PostgreSQL store (else it is a DuckDB file)."""
    return isinstance(location, str) and location.startswith(SCHEMES)


_ANY_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def require_location(value: str, option: str = "warehouse") -> None:
    """Refuses (exit 2, the value not shown: it may hold a password) a URL that is not a
    PostgreSQL store's: `Postgresql://...` (libpq's schemes are lower case) or another scheme
    would otherwise be taken for a DuckDB file's path, made as folders, and recorded by
    Prefect; so is libpq's key/value form (`host=db password=...`) and a URL short of a
    slash (`postgresql:/db`)."""
    pg_url.require_no_misread_url(value, option)
    if _ANY_URL.match(value) and not is_url(value):
        scheme = value.partition("://")[0]
        raise ConfigError(
            f"{option} {scheme}://...: neither a DuckDB file nor a PostgreSQL URL (the scheme is "
            "postgresql:// or postgres://, in lower case). Not shown: it may hold a password"
        )


def shown(url: str) -> str:
    """The URL as messages show it: every password masked (`pg_url`)."""
    return pg_url.shown(url)


def without_password(url: str) -> tuple[str, str | None]:
    """The URL without its password, and the password (for PGPASSWORD), so that what Prefect
    records of a run's parameters never holds it."""
    return pg_url.parse(url).without_password()


# What libpq says when the server answered and refused the connection, and what to do: it is
# running, so "start the server" would send its user the wrong way (ten approvals at once on a
# busy server were told so). The words are libpq's and the server's in English; a server that
# speaks another language gets the advice for a server not reached, as before.
_REFUSED = (
    (
        ("too many connections", "too many clients", "connection slots are reserved"),
        "the server is up and every connection it allows (to this database or this login) is "
        "taken: run the command again once other sessions end, or raise the limit "
        "(`max_connections`, or the database's or the login's connection limit)",
    ),
    (
        ("permission denied for database",),
        "the server is up and this login may not connect to the database: `grant connect on "
        "database DATABASE to LOGIN`, then run the command again",
    ),
    (
        ("is starting up", "is shutting down", "in recovery mode", "not yet accepting connections"),
        "the server is starting or stopping: run the command again once it accepts connections",
    ),
    (
        ("FATAL:",),
        "the server is up and refused this connection: fix the URL's login, password or "
        "database ({given_as}), or ask the server's administrator, then run the command again",
    ),
)


def _advice(why: str, given_as: str) -> str:
    """What to do about a connection refused for `why` (libpq's words)."""
    for said_so, advice in _REFUSED:
        if any(words in why for words in said_so):
            return advice.format(given_as=given_as)
    return f"start the server or fix the URL ({given_as}), then run the command again"


class Unreachable(StorageError):
    """The server cannot be reached or refused the connection (exit 4); `given_as` is how its
    user names the warehouse (the commands' variable and option, `make notebooks`' variable)."""

    def __init__(
        self, url: str, server: str, why: str, given_as: str = "CREDITS_WAREHOUSE or --warehouse"
    ):
        self.parts = (url, server, why)  # the URL as `shown`: its password masked
        self._given_as = given_as
        # what happened, and what to do (`sealing` puts what is left of a run between them)
        self.refused = f"warehouse {url}: cannot connect to PostgreSQL at {server}: {why}"
        self.advice = _advice(why, given_as)
        super().__init__(f"{self.refused}. Nothing was read or written; {self.advice}")

    def __reduce__(self):  # whole again in another process (a Dask worker's)
        return Unreachable, (*self.parts, self._given_as)

    def given_as(self, given_as: str) -> Unreachable:
        """The same refusal, naming the warehouse as `given_as`."""
        return Unreachable(*self.parts, given_as)


def connect(url: str) -> adbc_driver_postgresql.dbapi.Connection:
    import adbc_driver_manager

    from transforms import pg_connections
    from transforms.ingest.postgres import named

    where = server_of(url)  # a URL libpq would read otherwise: exit 2, before connecting
    try:
        passphrase = os.environ.get(pg_url.PASSPHRASE_VARIABLE)
        return pg_connections.connect(
            named(pg_url.parse(url).with_passphrase(passphrase)), autocommit=False
        )
    except adbc_driver_manager.Error as error:
        raise Unreachable(shown(url), where, said(error, url)) from None


def server_of(url: str) -> str:
    """`host:port` of the URL as messages name the server; a URL that does not parse (a port
    that is not a number, an IPv6 bracket left open, a password libpq would read otherwise) is
    the URL's mistake (`ConfigError`, exit 2), not the server's."""
    try:
        return pg_url.parse(url).server()
    except ConfigError as error:
        raise ConfigError(f"warehouse {error}") from None


def said(error: Exception, url: str) -> str:
    """The server's or driver's first line, with the URL and its password kept out."""
    from transforms.ingest.postgres import named

    text = str(error)
    parsed = pg_url.parse(url)
    _, password = parsed.without_password()
    passphrase = parsed.keyword("sslpassword") or os.environ.get(pg_url.PASSPHRASE_VARIABLE)
    for secret in (named(url), url, parsed.password, password, passphrase):
        if secret:
            text = text.replace(secret, pg_url.MASK)
    # The driver quotes the whole statement it was running: what the server said is after it.
    text = re.sub(r"Failed to execute query '.*?': ", "", text, count=1, flags=re.S)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
