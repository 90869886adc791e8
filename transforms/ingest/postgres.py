"""Reading the transaction and customer tables from PostgreSQL without becoming the next incident.

The last outage came from a service that held database connections and locked tables. A read
here therefore:

* opens one connection, named `outage-credits` in `pg_stat_activity`, and closes it on every
  path (`session`); both tables are read through it;
* runs in one READ ONLY, REPEATABLE READ transaction (`sql/pg_begin.sql`): it cannot write, and
  both tables come from one snapshot;
* sets `statement_timeout` and `lock_timeout` for each read (`sql/pg_settings.sql`): a read
  that waits for a lock gives up after `lock_timeout` instead of queueing in front of other
  sessions, a read that runs long is cancelled by the server; it takes only the
  AccessShareLock every SELECT takes;
* reads only the rows a run needs (`sql/pg_transactions.sql`, `sql/pg_customers.sql`), streamed
  through COPY in record batches of about `BATCH_BYTES`, so memory stays bounded.

ADBC streams a query only through COPY, which takes no parameters (a query with bound
parameters is fetched whole, into memory): the values of a read are bound to `set_config`
instead, and its SQL reads them with `current_setting` (`sql/pg_settings.sql`). NUMERIC
arrives from ADBC as text; `tables` converts it exactly, never through a float.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import adbc_driver_manager
import adbc_driver_postgresql.dbapi
import pyarrow as pa
from adbc_driver_postgresql import StatementOptions

from transforms import db, pg_url
from transforms.errors import ConfigError, CreditsError, InputError, StorageError
from transforms.ingest.incident import TableSource

APPLICATION_NAME = "outage-credits"
# PostgreSQL types the driver reads as a contract kind, but not as the value the table means.
MISREAD_TYPES = {
    "money": (
        "PostgreSQL money, which is read as its internal count of the server's lc_monetary "
        "fractions (JPY 1500 as 150000): give the amount in minor units as an integer or "
        "numeric column or query expression"
    ),
    "bpchar": (
        "PostgreSQL char(n), padded with blanks to its length ('c1' is 'c1   '): read it as "
        "text (a query with rtrim(column), or the column altered to varchar)"
    ),
}


def check_types(schema: pa.Schema, name: str, columns: Sequence[str]) -> None:
    """Refuses a contract column whose PostgreSQL type would be read as another value
    (`MISREAD_TYPES`), naming it, before any row is read."""
    for column in columns:
        metadata = schema.field(column).metadata or {}
        typname = metadata.get(b"POSTGRESQL:type", b"").decode()
        if typname in MISREAD_TYPES:
            raise InputError(f"{name}: column '{column}' is {MISREAD_TYPES[typname]}")


CONNECT_TIMEOUT_SECONDS = 10
BATCH_BYTES = 8 * 1024 * 1024  # a hint: ADBC ends a record batch once it holds about this much
_LOCK_TIMEOUT = ("55P03", "canceling statement due to lock timeout")
_STATEMENT_TIMEOUT = ("57014", "canceling statement due to statement timeout")
_NO_PERMISSION = ("42501", "permission denied for")


def relation(source: TableSource) -> str:
    """The source as it goes into SQL text: its table name (validated by `incident` as a plain
    identifier: it cannot be bound) or its query as a subquery: without the `;` a query pasted
    from psql ends with (and the lines of `-- comment` only after it), and closed on a line of
    its own, after a last `-- comment` it may have (either made a syntax error of the read). A
    comment after the `;` on its own line stays (told from a string's text only by parsing)."""
    if source.table:
        return source.table
    query = re.sub(r"(\n[ \t]*--[^\n]*|\s)+$", "", source.query or "")
    query = re.sub(r"[;\s]+$", "", query)
    return f"({query}\n)"


class Session:
    """The open read-only transaction of one connection; reads stream through its cursor."""

    def __init__(self, cursor: adbc_driver_postgresql.dbapi.Cursor, dsn: str):
        self._cursor = cursor
        self._dsn = dsn  # only to keep it out of messages

    def read(
        self,
        statement: str,
        source: TableSource,
        name: str,
        check: Callable[[pa.Schema], None],
        created: tuple[datetime, datetime],
        keys: Sequence[str],
    ) -> pa.RecordBatchReader:
        """Starts `sql/<statement>.sql` on the source and returns its record batches as they come.

        First sets the read's limits and filter (rows created in `[created[0], created[1])` or
        whose key is in `keys`, as the statement says), then passes the source's columns to
        `check` before a row is read. Errors while streaming come out of the reader;
        `input_error` explains them.
        """
        values = pa.record_batch(
            [
                pa.array([_milliseconds(source.statement_timeout)]),
                pa.array([_milliseconds(source.lock_timeout)]),
                pa.array([created[0].isoformat()]),
                pa.array([created[1].isoformat()]),
                pa.array([list(keys)], pa.list_(pa.string())),
            ],
            names=["statement_timeout", "lock_timeout", "created_from", "created_until", "keys"],
        )
        try:
            self._cursor.execute(_sql("pg_settings"), parameters=values)
            check(self._cursor.adbc_execute_schema(_sql("pg_describe", source)))
            self._cursor.execute(_sql(statement, source))
            return self._cursor.fetch_record_batch()
        except adbc_driver_manager.Error as error:
            raise self.input_error(error, source, name) from None

    def input_error(self, error: Exception, source: TableSource, name: str) -> CreditsError:
        """A database error as a message that says what happened and what to do."""
        text = _without(str(error), self._dsn, source)
        state = getattr(error, "sqlstate", None)
        # Errors raised while streaming reach us without their SQLSTATE: the text tells.
        if state == _LOCK_TIMEOUT[0] or _LOCK_TIMEOUT[1] in text:
            return InputError(
                f"{name}: another session held a lock on the table for longer than "
                f"lock_timeout={_shown(source.lock_timeout)}; nothing was written. Try again later."
            )
        if state == _STATEMENT_TIMEOUT[0] or _STATEMENT_TIMEOUT[1] in text:
            return InputError(
                f"{name}: the read took longer than "
                f"statement_timeout={_shown(source.statement_timeout)}; nothing was written"
            )
        if state == _NO_PERMISSION[0] or _NO_PERMISSION[1] in text:  # refused, as a file can be
            return StorageError(
                f"{name}: PostgreSQL said: {_first_line(text)}; grant this DSN's role SELECT on "
                "it (the read takes nothing else), then run again"
            )
        return InputError(f"{name}: PostgreSQL said: {_first_line(text)}")


@contextmanager
def session(source: TableSource, name: str) -> Iterator[Session]:
    """One connection and its read-only transaction, closed however the block ends.

    The DSN is read from the source's environment variable here, at the last moment, so it is
    never held by an object that is logged or pickled.
    """
    dsn = os.environ.get(source.dsn_env or "")
    if not dsn:
        raise ConfigError(f"{name}: the environment variable {source.dsn_env} is not set")
    try:
        connection = adbc_driver_postgresql.dbapi.connect(named(dsn), autocommit=True)
    except ConfigError as error:
        raise ConfigError(f"{name}: ${source.dsn_env}: {error}") from None
    except adbc_driver_manager.Error as error:
        text = _first_line(_without(str(error), dsn, source))
        raise InputError(f"{name}: cannot connect with ${source.dsn_env}: {text}") from None
    try:
        cursor = connection.cursor()
        try:
            cursor.adbc_statement.set_options(
                **{StatementOptions.BATCH_SIZE_HINT_BYTES.value: str(BATCH_BYTES)}
            )
            opened = Session(cursor, dsn)
            try:
                cursor.execute(_sql("pg_begin"))
            except adbc_driver_manager.Error as error:
                raise opened.input_error(error, source, name) from None
            yield opened
        finally:
            cursor.close()
    finally:
        # Closing ends the session; the server rolls the read-only transaction back.
        connection.close()


def named(dsn: str) -> str:
    """The DSN with application_name set to ours and client_encoding to UTF8 (replacing those
    it may carry) and, unless it sets one, a connect timeout of `CONNECT_TIMEOUT_SECONDS` (libpq
    waits forever by default). ADBC reads and sends text as UTF-8 whatever the session's
    encoding: one set on the database or the role (LATIN1) stopped every read of a character
    it cannot hold and stored what it can hold encoded twice (José as JosÃ©); the connection's
    own setting wins over theirs. A URL's query items are kept as written (libpq decodes only
    %XX: `options=-c%20...`)."""
    ours = {"application_name": APPLICATION_NAME, "client_encoding": "UTF8"}
    if dsn.startswith(pg_url.SCHEMES):
        url = pg_url.parse(dsn)
        items = [item for key, item in url.query if key not in ours]
        if url.keyword("connect_timeout") is None:
            items.append(f"connect_timeout={CONNECT_TIMEOUT_SECONDS}")
        items += [f"{key}={value}" for key, value in ours.items()]
        return url.with_query("&".join(items))
    # key=value form: libpq takes the last value of a repeated keyword, so the timeout goes
    # first (the DSN's own wins) and our settings last (ours win).
    settings = " ".join(f"{key}={value}" for key, value in ours.items())
    return f"connect_timeout={CONNECT_TIMEOUT_SECONDS} {dsn} {settings}"


def _without(text: str, dsn: str, source: TableSource) -> str:
    """An error's text with the DSN, should the driver quote it, replaced by its variable."""
    for secret in (named(dsn), dsn):
        text = text.replace(secret, f"${source.dsn_env}")
    return text


def _sql(statement: str, source: TableSource | None = None) -> str:
    """`sql/<statement>.sql` on the source; without our comments, so that pg_stat_activity (the
    first 1 kB of a query's text) shows what is read."""
    text = re.sub(r"--[^\n]*\n", "", db.statement(statement))
    return text if source is None else text.replace("{relation}", relation(source))


def _milliseconds(duration: timedelta) -> str:
    return str(duration // timedelta(milliseconds=1))


def _shown(duration: timedelta) -> str:
    """A duration as the incident file would say it: 5min, 1s, 1500ms."""
    milliseconds = duration // timedelta(milliseconds=1)
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
