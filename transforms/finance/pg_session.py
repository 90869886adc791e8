"""A session with the PostgreSQL store: its statements (`sql/postgres/*.sql`, identifiers
checked), a connection on the schema that holds the warehouse, what the login may do, and the
server's refusals as a `StorageError` saying what to do (`pg_store` works through these)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import adbc_driver_manager
import adbc_driver_postgresql.dbapi

from transforms import commands, db
from transforms.errors import ConfigError, StorageError
from transforms.finance import pg_location
from transforms.finance.pg_privileges import (
    MAKING_ROLES,
    NO_STAGING,
    READ_ONLY,
    REFUSED_ANYWAY,
    Access,
    Privileges,
    needed,
)

_SQL = Path(__file__).parent / "sql" / "postgres"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def statement(name: str, **identifiers: str) -> str:
    """`sql/postgres/<name>.sql` (or a mirror statement), its `{identifier}`s filled in: table
    and column names from `TABLES` and the schema, checked, never values."""
    text = _text(name)
    for placeholder, value in identifiers.items():
        for part in value.split(", "):
            if not _IDENTIFIER.match(part):
                raise ValueError(f"{name}: {part!r} is not an identifier")
        text = text.replace("{" + placeholder + "}", value)
    return text


@cache
def _text(name: str) -> str:
    """A statement's text without its comments, read once a process: a writer's send names
    some 30 statements, and reading each file anew cost a tenth of its CPU."""
    path = _SQL / f"{name}.sql"
    text = path.read_text(encoding="utf-8") if path.exists() else db.statement(name)
    return re.sub(r"--[^\n]*\n", "", text)


def connect(url: str) -> adbc_driver_postgresql.dbapi.Connection:
    """A session of the store's own: its tables looked for in the schema that holds the
    warehouse (`public` for a new one), whatever search_path the login, the database or the URL
    sets. One login's private schema first on its path (`"$user"`, PostgreSQL's secure pattern)
    made the store there, unseen by every other login (told "no warehouse yet", or to get
    CREATEROLE), and a login that may make roles then made a second warehouse, with a ledger of
    its own, in its own schema. Two schemas holding a warehouse are refused (exit 2). The
    server's idle timeouts are off for the session, its TCP keepalives short, and its commits
    durable (`store_session_settings.sql`): a writer's session is its lock, idle while the
    command works on its mirror but dropped soon once its machine is gone, and what it commits
    is then written to the outbox."""
    connection = pg_location.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement("store_schemas"))
            schemas = [name for (name,) in cursor.fetchall()]
            if len(schemas) > 1:
                raise ConfigError(
                    f"warehouse {pg_location.shown(url)}: schemas {', '.join(schemas)} of this "
                    "database each hold a warehouse, each with its own ledger: commands reaching "
                    "one or the other would pay the same credits twice. Keep one (move the others "
                    "to a database of their own, or drop them), then run the command again. "
                    "Nothing was read or written"
                )
            cursor.execute(statement("store_use_schema"), parameters=((schemas or ["public"])[0],))
            cursor.fetchall()
            cursor.execute(statement("store_session_settings"))
            cursor.fetchall()
        connection.commit()  # a session setting: it lasts once its transaction is committed
    except BaseException:
        connection.close()
        raise
    return connection


def privileges(url: str) -> Privileges:
    """What the login the URL names may do on the store, read on a connection of its own."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement("store_privileges"))
            (row,) = cursor.fetchall()
        return Privileges(*row)
    finally:
        connection.close()


@contextmanager
def storage_errors(url: str, doing: str, access: Access | None = None) -> Iterator[None]:
    """The server's refusals (a lost connection, a timeout) as a `StorageError` naming the
    store, its password masked, and saying that the server kept only what was committed; a
    refusal of this login's privileges says what it needs (`access`: what the command does,
    None for any writing command)."""
    try:
        yield
    except adbc_driver_manager.Error as error:
        said = pg_location.said(error, url)
        advice = "run the command again to finish"
        if "permission denied to create role" in said:
            advice = MAKING_ROLES
        elif "permission denied to create temporary tables" in said:  # revoked since the check
            advice = NO_STAGING
        elif timeout := _TIMEOUTS.get(said.rpartition("canceling statement due to ")[2]):
            advice = (
                f"the server's {timeout} (set on the database, the login or the URL) cut it: run "
                "the command again once what held it up (a lock, a busy server) is gone; if it "
                f"is cut again, raise it for this command in the URL (`?options=-c%20{timeout}"
                "%3D600000`, milliseconds), which wins over the database's and the login's"
            )
            if timeout == "lock_timeout":  # the store's own 60 s when none is set
                advice += (
                    "; with none set, a session of the store waits 60 s for a lock another "
                    "session holds on its tables: look for a transaction left open (`select pid, "
                    "state, xact_start from pg_stat_activity where state like 'idle in "
                    "transaction%'`)"
                )
        elif _DROPPED.search(said):
            advice = (
                "the store's tables are not those this version made (a table or a column dropped "
                "or renamed on the server): running the command again will not help; restore "
                "them (from a backup) before any command uses the store"
            )
        elif "read-only transaction" in said or "during recovery" in said:
            advice = READ_ONLY
        elif "permission denied" in said:  # run again, it is refused again: say who may
            advice = _permission_advice(url, access)
        raise StorageError(
            f"warehouse {pg_location.shown(url)}: {doing}: PostgreSQL said: {said}. The server "
            f"rolled back what was not committed; {advice}"
        ) from None


def committed(
    connection: adbc_driver_postgresql.dbapi.Connection, url: str, then: str | None = None
) -> None:
    """Commits the server transaction. The connection lost as it commits (no answer, or the
    session ended) leaves the outcome unknown: the server may have committed before the answer
    was lost. That is a `StorageError` saying so and how to find out and what to do (`then`;
    by default `credits audit`, and the command run again), where `storage_errors` would say
    the server rolled it back; an error the server answered (a constraint) did roll back, and
    is `storage_errors`'s."""
    try:
        connection.commit()
    except adbc_driver_manager.Error as error:
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate and not sqlstate.startswith(_CONNECTION_LOST):
            raise
        raise StorageError(
            f"warehouse {pg_location.shown(url)}: committing: the connection was lost as the "
            f"server was asked to commit (PostgreSQL said: {pg_location.said(error, url)}): "
            f"whether the server committed it is unknown. {then or _AGAIN}"
        ) from None


_AGAIN = (
    f"`{commands.credits('audit')}` shows the journal's last entries (what was committed); run "
    "the command again: it finishes what was committed and does nothing twice"
)
_CONNECTION_LOST = ("08", "57P")  # connection exceptions; the server shut the session down
_DROPPED = re.compile(r'(relation|column) "[^"]+" does not exist')
_TIMEOUTS = {"statement timeout": "statement_timeout", "lock timeout": "lock_timeout"}


def _permission_advice(url: str, access: Access | None) -> str:
    """What a login refused a privilege needs, as the server tells it (the generic advice when
    the server cannot be asked again; a grant taken away when the login holds what the roles
    give)."""
    try:
        refusal = privileges(url).refusal(access)
    except (adbc_driver_manager.Error, StorageError):
        return needed(access)
    return refusal or REFUSED_ANYWAY
