"""The transaction and customer tables: read from their source, checked against their column
contract, then staged.

A source (`incident.TableSource`) is a Parquet or CSV file, a table in a DuckDB file, or a
PostgreSQL table or query (`postgres.py`, imported only when one is used). Every kind is read as
a stream of Arrow record batches of the contract's columns (`table_sources`), which DuckDB
stages into `stg_transactions` and `stg_customers` with the same SQL. A missing column or a
column of the wrong type stops the run with a message naming the source (its file,
`payments.duckdb:table` or `postgres:public.transactions`), the column and the type found.
Values (duplicates, codes) are the quality gate's job, except an amount that is not a whole
number of minor units (it is never rounded) or is above any payment, and a `created_at` outside the
years 1 to 9999 (a database's `infinity`): those stop the run too, naming the value and the row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from transforms import db, files
from transforms.errors import CreditsError, InputError
from transforms.ingest.incident import Incident, TableKind, TableSource
from transforms.ingest.incident.amounts import BEYOND_LARGEST_AMOUNT, LARGEST_AMOUNT
from transforms.ingest.incident.values import ASCII_SPACE
from transforms.ingest.table_sources import (
    BATCH_ROWS,
    CUSTOMER_COLUMNS,
    TRANSACTION_COLUMNS,
    Contract,
    Read,
    check_columns,
    not_found,
    open_source,
    require_regular,
)

FILE_KINDS: tuple[TableKind, ...] = ("parquet", "csv")
# A PostgreSQL read per table: its SQL, and the DuckDB query giving the keys it needs.
POSTGRES_READS = {
    "transactions": ("pg_transactions", "candidate_txn_ids"),
    "customers": ("pg_customers", "candidate_customer_ids"),
}


@dataclass(frozen=True)
class TableFile:
    """One input table as read: its name as shown, sha256 and row count.

    The sha256 of a Parquet or CSV file is of its bytes; of a DuckDB or PostgreSQL table, of
    the rows staged from it (`_rows_sha256`): a database has no file to hash.
    """

    name: str
    sha256: str
    rows: int


def source_name(source: TableSource, root: Path) -> str:
    """The source as messages and the manifest show it: a file relative to the incident's
    folder, `payments.duckdb:transactions`, `postgres:public.transactions` or `postgres:query`.
    Never the DSN."""
    if source.kind == "postgres":
        return f"postgres:{source.table or 'query'}"
    shown = files.display_name(source.path, root)
    return f"{shown}:{source.table}" if source.kind == "duckdb" else shown


def check(incident: Incident) -> None:
    """Checks both tables' columns before a run, reading no row.

    A PostgreSQL source is checked when it is read, not here: a run opens one connection to
    the payments database, for the read (its configuration was checked with the incident file).
    """
    root = incident.path.parent
    for _, source, contract in _tables(incident):
        if source.kind != "postgres":
            name = source_name(source, root)
            with open_source(source, name, contract) as read:
                check_columns(read.schema, name, contract)


def stage(con: duckdb.DuckDBPyConnection, incident: Incident) -> list[TableFile]:
    """Stages `stg_transactions` then `stg_customers` from their sources; returns what was read.

    A PostgreSQL source reads only the rows the run needs: transactions created in the window
    widened by the source's slack, or with a candidate txn_id (from `stg_failures`: stage the
    logs first); customers of the candidates (`sql/candidate_customer_ids.sql`). Both tables
    in one database are read through one connection and one read-only transaction.
    """
    root = incident.path.parent
    staged = []
    with ExitStack() as stack:
        sessions: dict[str, Any] = {}
        for table, source, contract in _tables(incident):
            name = source_name(source, root)
            before = _file_state(source)
            if source.kind == "postgres":
                from transforms.ingest import postgres  # only runs that use it pay for the driver

                if source.dsn_env not in sessions:
                    sessions[source.dsn_env] = stack.enter_context(postgres.session(source, name))
                session = sessions[source.dsn_env]
                read = _read_postgres(con, session, table, source, name, contract, incident)
            else:
                read = stack.enter_context(open_source(source, name, contract))
                check_columns(read.schema, name, contract)
            staged.append(_stage(con, table, source, name, contract, read))
            if _file_state(source) != before:
                # its sha256 (taken after the read) would be of bytes the run never read
                raise InputError(
                    f"{name}: the file changed while the run read it; run again once it is "
                    "written whole"
                )
    return staged


def _file_state(source: TableSource) -> tuple[int, ...] | None:
    """What tells a file written again: its inode, size and modification time (None: not
    there, or no file of its own: a database's rows are hashed as staged)."""
    if source.kind not in ("parquet", "csv"):
        return None
    try:
        found = source.path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def _tables(incident: Incident) -> tuple[tuple[str, TableSource, Contract], ...]:
    named = (
        ("transactions", incident.sources.transactions, TRANSACTION_COLUMNS),
        ("customers", incident.sources.customers, CUSTOMER_COLUMNS),
    )
    for table, source, _ in named:
        _require_there(incident, table, source)
    return named


def _require_there(incident: Incident, table: str, source: TableSource) -> None:
    """A table file that is not there, named with the incident file and its key (several
    incident files share a folder) and a file whose name differs only in case, if one is; so
    is one that is no regular file (a link to `/dev/zero` was named by its target alone)."""
    path = source.path
    if path is not None and path.exists():
        try:
            require_regular(path, source_name(source, incident.path.parent))
        except InputError as error:
            raise InputError(f"{incident.path}: sources.{table}: {error}") from None
    if path is None or path.exists() or path.is_symlink():  # a link: the incident file's words
        return
    try:
        same = sorted(p.name for p in path.parent.iterdir() if p.name.lower() == path.name.lower())
    except OSError:  # no such folder, or one this user may not list: no hint
        same = []
    hint = f"; did you mean '{same[0]}'?" if same else ""
    found = not_found(source_name(source, incident.path.parent), path)
    hint = hint or files.backslash_hint(files.display_name(path, incident.path.parent))
    raise InputError(f"{incident.path}: sources.{table}: {found}{hint}")


def _stage(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: TableSource,
    name: str,
    contract: Contract,
    read: Read,
) -> TableFile:
    """Streams the read into `stg_<table>`; on an error nothing is staged."""
    schema = pa.schema(
        [
            (column, _staged_type(wanted, read.schema.field(column).type))
            for column, (wanted, _) in contract.items()
        ]
    )
    failures: list[Exception] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in read.batches:
                yield _conform(batch, schema, name)
        except Exception as error:  # DuckDB keeps only the text: keep the error to explain it
            failures.append(error)
            raise

    view = f"source_{table}"
    con.register(view, pa.RecordBatchReader.from_batches(schema, batches()))
    try:
        db.run(con, f"stg_{table}", ascii_space=ASCII_SPACE)
    except duckdb.Error:
        if not failures:
            raise
        failure = failures[0]
        raise failure if isinstance(failure, CreditsError) else read.explain(failure) from None
    finally:
        con.unregister(view)
    staged = con.table(f"stg_{table}")
    [(rows,)] = staged.aggregate("count(*)").fetchall()
    if source.kind in FILE_KINDS:
        return TableFile(name, files.sha256(source.path), rows)
    return TableFile(name, _rows_sha256(staged), rows)


def _staged_type(wanted: str, given: pa.DataType) -> pa.DataType:
    """The type a contract column is staged as: integers as int64; times finer than the
    microsecond (pandas writes nanoseconds) in microseconds, as every time inside is."""
    if wanted == "integer":
        return pa.int64()
    if pa.types.is_null(given):  # a column of nulls only (pandas writes an all-None one so)
        return pa.string() if wanted == "text" else pa.timestamp("us", tz="UTC")
    if pa.types.is_timestamp(given) and given.unit == "ns":
        return pa.timestamp("us", tz=given.tz)
    return given


def _conform(batch: pa.RecordBatch, schema: pa.Schema, name: str) -> pa.RecordBatch:
    """The batch's contract columns, in order; a decimal amount as int64, exactly; a time in
    nanoseconds truncated to the microsecond, as a log's is (DuckDB's cast would round it,
    moving 13:59:59.9999995 into a window that starts at 14:00)."""
    columns = []
    for field in schema:
        column = batch.column(field.name)
        if pa.types.is_null(column.type):
            column = pc.cast(column, field.type)
        if column.type != field.type and pa.types.is_timestamp(field.type):
            column = pc.cast(column, field.type, safe=False)  # truncates, never rounds
        elif column.type != field.type and pa.types.is_int64(field.type):
            column = _whole_numbers(column, batch, name, field.name)
        if _is_text(column.type):
            _utf8(column, batch, name, field.name)
            _not_too_long(column, batch, name, field.name)
        if field.name == "amount_minor":
            _within_largest_amount(column, batch, name)
        if field.name == "created_at":  # updated_at is read for the record, never compared
            _within_years(column, batch, name, field.name)
        columns.append(column)
    return pa.record_batch(columns, schema=schema)


# The instants every reader of a table time holds: Python's datetime (pandas in the notebooks,
# the pages) and a PostgreSQL warehouse. Seconds from 1970: 0001-01-01 to 9999-12-31, whole.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST_SECOND = int((datetime(1, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
LATEST_SECOND = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - EPOCH).total_seconds())
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _within_years(column: pa.Array, batch: pa.RecordBatch, name: str, field: str) -> None:
    """A creation time outside the years 1 to 9999 is an error naming the row: no payment is
    then, and it would stop a PostgreSQL warehouse's load (exit 4, as if the machine refused)
    or a notebook. A database's `infinity` arrives as such a time: never compared as an
    instant."""
    per_second = PER_SECOND[column.type.unit]
    ticks = pc.cast(column, pa.int64())
    index = _first_outside(
        ticks, EARLIEST_SECOND * per_second, (LATEST_SECOND + 1) * per_second - 1
    )
    if index is None:
        return
    key = batch.schema.names[0]
    raise InputError(
        f"{name}: column '{field}' is {_shown_time(ticks[index].as_py() // per_second)} for "
        f"{key} {batch.column(0)[index]}: outside the years 1 to 9999, which no payment is; "
        "give the real time, or null"
    )


def _first_outside(values: pa.Array, lowest: int, highest: int) -> int | None:
    """The index of the first value below `lowest` or above `highest` (nulls pass), if any."""
    outside = pc.or_(pc.less(values, lowest), pc.greater(values, highest))
    index = pc.index(outside, True).as_py()
    return None if index < 0 else index


GREGORIAN_CYCLE = timedelta(days=146_097)  # 400 years: the calendar repeats
# PostgreSQL's infinity as ADBC wraps it is -9,222,425,352,054 s; DuckDB's, +-(2**63 - 1) us.
INFINITY_SECONDS = 9_200_000_000_000


def _shown_time(seconds: int) -> str:
    """A time from 1970 in any year (Arrow's own text is wrong past a few thousand years); one
    near the 64-bit limit (about 290,000 years either way) is how a database's infinity is read."""
    cycles, rest = divmod(timedelta(seconds=seconds), GREGORIAN_CYCLE)
    moment = EPOCH + rest
    shown = f"{moment.year + 400 * cycles}-{moment:%m-%dT%H:%M:%SZ}"
    if abs(seconds) >= INFINITY_SECONDS:
        return f"{shown} (how a database's 'infinity' is read)"
    return shown


def _is_text(kind: pa.DataType) -> bool:
    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _utf8(column: pa.Array, batch: pa.RecordBatch, name: str, field: str) -> None:
    """Text whose bytes are not UTF-8 is an error naming the row: Parquet's writers check none,
    and DuckDB stops on it with its own error (or, in a regular expression, unusable)."""
    try:
        column.validate(full=True)
    except pa.ArrowInvalid:
        pass
    else:
        return

    def shown(values: pa.Array, index: int) -> str:
        raw = pc.cast(values, pa.binary())[index].as_py()
        # the bytes that are not UTF-8 as \xff, the rest as written
        return f"'{raw.decode('utf-8', 'backslashreplace')}'" if raw is not None else "null"

    raws = pc.cast(column, pa.binary()).to_pylist()
    index = next(i for i, raw in enumerate(raws) if raw is not None and not _decodes(raw))
    key = batch.schema.names[0]
    value = "" if field == key else f" ({shown(column, index)})"
    raise InputError(
        f"{name}: column '{field}' holds text that is not UTF-8 for {key} "
        f"{shown(batch.column(0), index)}{value}: write the table's text as UTF-8"
    )


# The bytes a table's text value may hold (an id, a code, a status, a name, an address): a value
# of 300 MB ran DuckDB out of memory while staging, a traceback (exit 1).
MAX_TEXT_BYTES = 65_536
SHOWN_KEY_CHARACTERS = 32


def _not_too_long(column: pa.Array, batch: pa.RecordBatch, name: str, field: str) -> None:
    """Text longer than `MAX_TEXT_BYTES` is an error naming the row (its key, cut if long)."""
    if pa.types.is_string_view(column.type):  # whose length has no kernel of its own
        column = column.cast(pa.large_string())
    lengths = pc.binary_length(column)
    index = _first_outside(lengths, 0, MAX_TEXT_BYTES)
    if index is None:
        return
    key = batch.schema.names[0]
    shown = batch.column(0)[index].as_py()
    if shown is not None and len(shown) > SHOWN_KEY_CHARACTERS:
        shown = shown[:SHOWN_KEY_CHARACTERS] + "..."
    size = lengths[index].as_py()
    raise InputError(
        f"{name}: column '{field}' is {size:,} bytes long for {key} '{shown}': longer than the "
        f"{MAX_TEXT_BYTES:,} bytes a table's text may be (an id, a code, a name); mend the row "
        "(or the export that wrote it), then run again"
    )


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _within_largest_amount(column: pa.Array, batch: pa.RecordBatch, name: str) -> None:
    """An amount beyond ±`LARGEST_AMOUNT` minor units (no payment is; sums of such amounts would
    not fit in 64 bits) is an error naming the row."""
    # bounds both ways, not `abs`: it wraps -2**63 round to itself, which then passed as small
    index = _first_outside(column, -LARGEST_AMOUNT, LARGEST_AMOUNT)
    if index is None:
        return
    key = batch.schema.names[0]
    raise InputError(
        f"{name}: column 'amount_minor' is {column[index].as_py()} for {key} "
        f"{batch.column(0)[index]}: {BEYOND_LARGEST_AMOUNT}"
    )


def _whole_numbers(column: pa.Array, batch: pa.RecordBatch, name: str, field: str) -> pa.Array:
    """An integer or exact decimal column as int64; a value with a fraction is an error."""
    values = column.storage if isinstance(column.type, pa.OpaqueType) else column
    try:
        return pc.cast(pc.cast(values, pa.decimal128(38, 0)), pa.int64())
    except pa.ArrowInvalid as error:
        for index, value in enumerate(values.to_pylist()):
            if value is not None and not _is_int64(value):
                key = batch.schema.names[0]
                what = "not a whole number of minor units (it is never rounded)"
                if _is_whole(value):
                    what = BEYOND_LARGEST_AMOUNT
                raise InputError(
                    f"{name}: column '{field}' is {value} for {key} {batch.column(0)[index]}: "
                    f"{what}"
                ) from None
        raise InputError(f"{name}: column '{field}': {error}") from None


def _is_whole(value: Any) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and number == number.to_integral_value()


def _is_int64(value: Any) -> bool:
    return _is_whole(value) and -(2**63) <= Decimal(value) < 2**63


def _rows_sha256(staged: duckdb.DuckDBPyRelation) -> str:
    """sha256 of the staged rows as JSON lines, sorted: it depends on the rows, not their order."""
    rows = staged.set_alias("source").project("to_json(source) as row").order("row")
    digest = hashlib.sha256()
    for batch in rows.to_arrow_reader(BATCH_ROWS):
        digest.update("".join(f"{row}\n" for row in batch.column("row").to_pylist()).encode())
    return digest.hexdigest()


def _read_postgres(
    con: duckdb.DuckDBPyConnection,
    session: Any,
    table: str,
    source: TableSource,
    name: str,
    contract: Contract,
    incident: Incident,
) -> Read:
    """Starts the PostgreSQL read of `table`, filtered on the keys the work database holds."""
    statement, keys_query = POSTGRES_READS[table]
    window = {"window_start": incident.window_start, "window_end": incident.window_end}
    # A key holding a NUL (a log's "t\u00001") names no row: PostgreSQL's text cannot hold
    # one, and refuses the whole read if it is sent (it stopped the run, blaming the table).
    keys = [key for (key,) in db.run(con, keys_query, **window).fetchall() if "\x00" not in key]
    created = (incident.window_start - source.slack, incident.window_end + source.slack)

    def check(schema: pa.Schema) -> None:
        from transforms.ingest import postgres  # the session below imported it

        check_columns(schema, name, contract)
        postgres.check_types(schema, name, list(contract))

    reader = session.read(statement, source, name, check, created, keys)
    return Read(reader.schema, reader, lambda error: session.input_error(error, source, name))
