"""The warehouse in PostgreSQL: one store that several machines share (`postgresql://` URLs).

The finance logic, its SQL and its checks stay in one place, written for DuckDB: every command
works on a DuckDB *mirror* of the store, an in-memory database with the warehouse's schema,
filled from the server in one snapshot. The server holds the truth and keeps writers apart:

* **A reader** (support, `runs`, `diff`, `audit`, the notebooks) copies the tables in one
  REPEATABLE READ, READ ONLY transaction: one consistent snapshot, and no lock that a writer
  waits for (`store_begin_read.sql`).
* **A writer** (a run's start and seal, `approve`, `decline`) first takes the store's one
  writer lock, a session-level advisory lock (`store_try_lock.sql`), then copies the tables:
  nobody else writes while it holds it, so its mirror stays the store's state. Each transaction
  the finance code commits on the mirror (`db.transaction`) is then sent to the server in one
  server transaction: the rows it appended go in bulk (ADBC's COPY into a staging table, then
  one INSERT), the few decision columns it changed as UPDATEs. A failure there (the connection
  killed, the server restarted, a statement timeout) rolls the server's transaction back and
  stops the command: what the server holds is what was committed before, and the next command
  finishes the work, as on one machine.

Why one advisory lock rather than SERIALIZABLE with retries: an approval does work outside the
database between its transactions (the outbox's files), which a retry could not undo, and the
DuckDB store already has exactly one writer at a time; the lock gives the same guarantee across
machines, and dies with its session, so a killed writer never leaves it held.

Text is kept exactly, though PostgreSQL's text cannot hold a NUL (U+0000) and input data may (a
customer's name): on the server a NUL is DLE (U+0010) then "0", a DLE is DLE then "1"; what is
sent is escaped so, what is read unescaped (`pg_text`).

The password comes from the URL, PGPASSWORD or ~/.pgpass (libpq reads them); messages show the
URL with its password masked (`pg_location.shown`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi
import duckdb
import pyarrow as pa

from transforms import commands, db
from transforms.errors import CreditsError, InputError, ProofFailed, StorageError
from transforms.finance import pg_location, pg_text, pg_writer_lock
from transforms.finance.pg_privileges import Access
from transforms.finance.pg_session import (
    committed,
    connect,
    privileges,
    statement,
    storage_errors,
)

SCHEMA_VERSION = 3  # the warehouse's version the first PostgreSQL store was made at
_SQL = Path(__file__).parent / "sql" / "postgres"


@dataclass(frozen=True)
class Table:
    """A warehouse table as the mirror sends it: `key` names a row (or, for a run's or a batch's
    rows, which are appended together, the group); `mutable` are the columns a later
    transaction may change (a run's decision, a batch's state), sent as an UPDATE."""

    name: str
    key: str
    mutable: tuple[str, ...] = ()
    update: str | None = None
    json: tuple[str, ...] = ()  # json in the mirror, text on the server (`pg_text.json_kept`)


TABLES = (
    Table("schema_versions", "version"),
    Table(
        "runs",
        "run_id",
        ("status", "decided_by", "decided_at", "decision_note", "batch_id"),
        "store_update_runs",
        ("manifest",),
    ),
    Table("evidence", "run_id"),
    Table("run_credits", "run_id"),
    Table("run_exceptions", "run_id"),
    Table("run_customers", "run_id"),
    Table("run_failure_minutes", "run_id"),
    Table("run_edge_transactions", "run_id"),
    Table(
        "batches", "batch_id", ("state", "published_at"), "store_update_batches", ("totals_minor",)
    ),
    Table("batch_exceptions", "batch_id"),
    Table("batch_pay_by_hand", "batch_id"),
    Table("ledger", "entry_id"),
    Table("journal", "seq", json=("detail",)),
)


def _schema_statements(name: str = f"store_schema_v{SCHEMA_VERSION}") -> list[str]:
    text = (_SQL / f"{name}.sql").read_text(encoding="utf-8")
    return [part.strip() for part in re.split(r"^;\s*$", text, flags=re.M) if part.strip()]


class Store:
    """An open connection to a PostgreSQL warehouse and the DuckDB mirror of its tables."""

    def __init__(self, url: str, connection: adbc_driver_postgresql.dbapi.Connection):
        self.url = url
        self._connection = connection
        self._cursor = connection.cursor()
        self.mirror = db.connect()
        self.mirror.execute(db.statement("warehouse_schema"))
        self._columns = _columns(self.mirror)

    def execute(self, name: str, parameters: tuple | None = None, **identifiers: str) -> None:
        self._cursor.execute(statement(name, **identifiers), parameters=parameters)

    def scalar(self, name: str, **identifiers: str) -> Any:
        return self.rows(name, **identifiers)[0][0]

    def rows(self, name: str, **identifiers: str) -> list[tuple]:
        self.execute(name, **identifiers)
        return self._cursor.fetchall()

    def copy_in(self) -> None:
        """Fills the mirror with every table of the server (a writer then notes what it holds:
        `note_base`)."""
        for table in TABLES:
            columns = ", ".join(self._columns[table.name])
            self.execute("store_select", table=table.name, columns=columns)
            rows = self._cursor.fetch_arrow_table()
            if rows.num_rows:
                self._load(table, rows)

    def _load(self, table: Table, rows: pa.Table) -> None:
        rows = pg_text.unescaped(rows)
        for column in table.json:
            rows = pg_text.json_kept(self.mirror, rows, column)
        self.mirror.register("arrow_rows", rows)
        try:
            self.mirror.execute(statement("mirror_load", table=table.name))
        except duckdb.ConstraintException as error:  # no command writes such rows
            raise ProofFailed(
                f"warehouse {pg_location.shown(self.url)}: its table {table.name} holds rows the "
                "warehouse's schema refuses: changed on the server (a constraint dropped, then a "
                "row edited or added), by no command of outage-credits. Nothing was written; find "
                "the row and restore it (from a backup; the journal and the batches' trailers "
                "record what was written)",
                [str(error).splitlines()[0]],
            ) from None
        finally:
            self.mirror.unregister("arrow_rows")

    def note_base(self, tables: tuple[Table, ...] = TABLES) -> None:
        """Notes what the server holds of `tables` (as the mirror holds it now), for the next
        `send` to find what this writer added or changed. Only a writer sends: a reader notes
        nothing (16 ms of CPU of a reader's 100, measured 2026-12-06; a reader of support's
        warehouse 126 -> 96 ms in all with `_columns`: `bench/README.md`)."""
        for table in tables:
            self.mirror.execute(
                statement(
                    "mirror_base",
                    base=_base(table),
                    table=table.name,
                    columns=", ".join((table.key, *table.mutable)),
                )
            )

    def send(self) -> None:
        """Sends what the mirror committed since the last send to the server, in one server
        transaction: appended rows by COPY, changed decisions by UPDATE. What each table lost
        and gained is asked of all of them in one query, before anything is sent; only the
        tables sent are noted anew. Before, 28 queries and 13 tables noted for each send: a
        writer that sent two journal entries cost 277 ms of CPU, now 176 (`bench/README.md`,
        2026-12-06, a shared machine)."""
        changes = self._changes()
        for table, (lost, _) in changes.items():
            if lost:
                raise RuntimeError(f"the mirror lost {lost} row(s) of {table.name}")
        sent = []
        for table, (_, new) in changes.items():
            names = {"table": table.name, "base": _base(table), "key": table.key}
            if new:
                rows = self.mirror.sql(statement("mirror_new_rows", **names)).to_arrow_table()
                self.append(table.name, rows)
            changed = bool(table.mutable) and self._send_changed(table, names)
            if new or changed:
                sent.append(table)
        if sent:
            self.commit_sent()
            self.note_base(tuple(sent))

    def _changes(self) -> dict[Table, tuple[int, int]]:
        """Each table's keys lost and gained since `note_base`, in one query over the tables
        (`mirror_changes.sql` each, joined by `union all`)."""
        query = " union all ".join(
            statement("mirror_changes", table=t.name, base=_base(t), key=t.key) for t in TABLES
        )
        found = {name: (lost, new) for name, lost, new in self.mirror.execute(query).fetchall()}
        return {table: found[table.name] for table in TABLES}

    def _send_changed(self, table: Table, names: dict[str, str]) -> bool:
        """Sends, as UPDATEs, the decision columns this writer changed in `table`; whether any."""
        mutable = ", ".join(table.mutable)
        rows = self.mirror.execute(
            statement("mirror_changed_rows", mutable=mutable, **names)
        ).fetchall()
        columns = self._columns[table.name]
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            parameters = tuple(
                pg_text.escaped_value(values[c]) for c in (*table.mutable, table.key)
            )
            self.execute(table.update, parameters)  # type: ignore[arg-type]
        return bool(rows)

    def append(
        self, name: str, rows: pa.Table | pa.RecordBatchReader, insert: str = "store_insert"
    ) -> None:
        """Appends `rows` (a table, or a stream of batches read as they come) to a table of the
        server, in the open server transaction: staged by ADBC's bulk COPY into a temporary
        table, then moved by one `insert` statement (`{table}`, `{columns}`, `{staged}`)."""
        staged = f"staged_{uuid.uuid4().hex[:12]}"
        self._cursor.adbc_ingest(
            staged, pg_text.escaped_stream(rows), mode="create", temporary=True
        )
        columns = ", ".join(rows.schema.names)
        self.execute(insert, table=name, columns=columns, staged=staged)
        self.execute("store_drop_staged", staged=staged)

    def columns(self, name: str) -> list[str]:
        """A warehouse table's columns, in the order of its DuckDB schema."""
        return list(self._columns[name])

    def row_counts(self) -> dict[str, int]:
        """How many rows each table of the server holds (its tables made: see `_made`)."""
        return {t.name: self.scalar("store_row_counts", table=t.name) for t in TABLES}

    def commit(self) -> None:
        self._connection.commit()

    def commit_sent(self, then: str | None = None) -> None:
        """Commits what was sent: a connection lost meanwhile says the outcome is unknown, and
        `then` what to do (`committed`)."""
        committed(self._connection, self.url, then)

    def close(self) -> None:
        with suppress(Exception):
            self._cursor.close()
        with suppress(Exception):
            self._connection.close()


_COLUMNS: dict[str, list[str]] = {}


def _columns(mirror: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Each table's columns in the mirror schema's order. The schema is this code's own
    (`warehouse_schema.sql`), so the catalog is asked once a process, in its first mirror (8.5
    ms of CPU a mirror, a twelfth of a reader's, before: `bench/README.md`, 2026-12-06)."""
    if not _COLUMNS:
        columns = dict(db.run(mirror, "mirror_columns").fetchall())
        _COLUMNS.update({table.name: columns[table.name] for table in TABLES})
    return _COLUMNS


def _base(table: Table) -> str:
    return f"base_{table.name}"


def _made(store: Store) -> int | None:
    """The store's schema version; None when its tables are not made yet, 0 when they are but
    `schema_versions` has lost its rows (deleted on the server): the tables and what they hold
    are still the warehouse, never "no warehouse yet"; the next writer records the version."""
    if not store.scalar("store_exists"):
        return None
    return store.scalar("store_version") or 0


def reader(url: str) -> duckdb.DuckDBPyConnection:
    """The warehouse's tables in a DuckDB mirror, read in one snapshot without waiting for a
    writer; the server's connection is closed before it is returned."""
    with storage_errors(url, "reading", Access.READ):
        store = Store(url, connect(url))
        try:
            store.execute("store_begin_read")
            if _made(store) is None:
                raise InputError(
                    f"warehouse {pg_location.shown(url)}: no warehouse in this database yet; "
                    f"`{commands.credits('run INCIDENT_FILE')}` creates it"
                )
            store.copy_in()
        finally:
            store.close()
    return store.mirror


def run_folders(url: str) -> list[str]:
    """The folder of every run the store lists (a reader's first look, `witnesses.witnessed_at`)."""
    return column(url, "run_folders")


def column(url: str, name: str) -> list[Any]:
    """The first column of `sql/<name>.sql`'s rows, on a connection of its own and no mirror
    (`run_folders`, `run_start.require_one_spelling_at`); none when the store is not made yet."""
    with storage_errors(url, "reading", Access.READ):
        connection = connect(url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement("store_exists"))
                ((made,),) = cursor.fetchall()
                if not made:
                    return []
                cursor.execute(statement(name))
                return [value for (value,) in cursor.fetchall()]
        finally:
            connection.close()


@contextmanager
def _locked(url: str, wait_seconds: float, busy: Callable[[str], Exception]) -> Iterator[Store]:
    """A session holding the store's one writer lock (waiting up to `wait_seconds`, then
    `busy(message)`); closing it ends the session, and its lock and any open transaction go
    with it."""
    with storage_errors(url, "writing"):
        store = Store(url, connect(url))
    try:
        with storage_errors(url, "taking the writer's lock"):
            pg_writer_lock.take(store, wait_seconds, busy)
        yield store
    finally:
        store.close()


@contextmanager
def writer(
    url: str, wait_seconds: float, busy: Callable[[str], Exception]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse's mirror under the store's one writer lock, made or upgraded first; each
    mirror transaction committed is sent to the server (`db.on_commit`), and what was written
    outside one is sent at the end, or at a refusal (`CreditsError`, not a store lost)."""
    with _locked(url, wait_seconds, busy) as store:
        with storage_errors(url, "making the warehouse's tables"):
            _migrate(store)
        with storage_errors(url, "reading"):
            store.copy_in()
            store.note_base()
            # The lock is the session's: no server transaction stays open while the command
            # works on the mirror (a server's idle_in_transaction_session_timeout cut it).
            store.commit()
        con = store.mirror

        def sent() -> None:
            with storage_errors(url, "committing"):
                store.send()

        with db.on_commit(con, sent), db.on_final(con, lambda: pg_writer_lock.require(store)):
            try:
                yield con
            except CreditsError as error:
                # A refusal: what the mirror committed before it (a batch an approval finished,
                # then refused its own run) is the store's too, as on a DuckDB file. A store
                # lost meanwhile is said by the refusal's own error, not this one.
                if not isinstance(error, StorageError):
                    with suppress(StorageError):
                        sent()
                raise
        sent()


def _migrate(store: Store) -> None:
    """Makes the tables (version 3) in a database that has none, records the version where it
    is missing, and makes the pipeline's and finance's roles where they are missing and this
    session may (`_make_roles`); the lock is held."""
    made = _made(store)
    if made is None:
        _make_tables(store)
    if not made:
        store.execute("store_version_record", (SCHEMA_VERSION,))
    _make_roles(store)
    store.commit()


def _make_tables(store: Store) -> None:
    """The schema's statements and the roles', in the open server transaction (PostgreSQL's DDL
    is transactional: a rollback leaves the database without them)."""
    for part in _schema_statements() + _schema_statements("store_roles"):
        store._cursor.execute(part)


def _make_roles(store: Store) -> None:
    """`store_roles.sql` in a store made before it (by its owner, or a login that may make
    roles and is a member of the owner): a login granted only credits_writer leaves the store
    as it is, every command working, until its owner's next writing command (a run, an
    approval, a decline) makes them."""
    if not store.scalar("store_roles_made") and store.scalar("store_may_make_roles"):
        for part in _schema_statements("store_roles"):
            store._cursor.execute(part)


@contextmanager
def loader(
    url: str, wait_seconds: float, busy: Callable[[str], Exception], then: str | None = None
) -> Iterator[Store]:
    """The store for one bulk load (`store_copy`): under the writer lock, in ONE server
    transaction that makes its tables if it has none (without a version row: the load brings
    its own) and is committed when the block ends (`then`: what to do when the connection is
    lost as it commits); when the block raises, the session ends and the server rolls it all
    back, tables included. What the store held is the caller's to check (`Store.row_counts`)."""
    with _locked(url, wait_seconds, busy) as store, storage_errors(url, "loading"):
        if _made(store) is None:
            _make_tables(store)
        yield store
        store.commit_sent(then)


def reachable(url: str, access: Access = Access.READ) -> None:
    """Connects once and closes: `Unreachable` (exit 4) when the server cannot be reached, a
    `StorageError` (exit 4) when this login may not do `access` (a run under finance's login
    would compute everything and be refused only at its seal)."""
    with storage_errors(url, "checking what this login may do"):
        refusal = privileges(url).refusal(access)
    if refusal:
        raise StorageError(
            f"warehouse {pg_location.shown(url)}: {refusal}. Nothing was read or written"
        )


def empty(url: str) -> bool:
    """Whether the store holds no run, batch, ledger entry or journal entry (or no tables)."""
    with storage_errors(url, "reading"):
        store = Store(url, connect(url))
        try:
            store.execute("store_begin_read")
            if _made(store) is None:
                return True
            return holds_nothing(store.row_counts())
        finally:
            store.close()


def holds_nothing(counts: dict[str, int]) -> bool:
    """Whether a store's row counts say it holds nothing but its schema's version rows."""
    return not any(rows for name, rows in counts.items() if name != "schema_versions")
