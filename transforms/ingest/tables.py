"""The transaction and customer tables: read from their source, checked against their column
contract, then staged.

A source (`incident.TableSource`) is a Parquet or CSV file, a table in a DuckDB file, or a
PostgreSQL table or query (`postgres.py`, imported only when one is used). Every kind is read as
a stream of Arrow record batches of the contract's columns, which DuckDB stages into
`stg_transactions` and `stg_customers` with the same SQL. A missing column or a column of the
wrong type stops the run with a message naming the source (its file, `payments.duckdb:table`
or `postgres:public.transactions`), the column and the type found. Values (duplicates, codes)
are the quality gate's job, except an amount that is not a whole number of minor units: that
stops the run too, naming the value, because it is never rounded.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from transforms import db, files
from transforms.errors import CreditsError, InputError
from transforms.ingest.incident import Incident, TableSource

_TypeCheck = Callable[[pa.DataType], bool]
_Contract = dict[str, tuple[str, _TypeCheck]]

BATCH_ROWS = 65_536
FILE_KINDS = ("parquet", "csv")


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _is_numeric_text(kind: pa.DataType) -> bool:
    """PostgreSQL NUMERIC as ADBC delivers it: exact decimal text."""
    return isinstance(kind, pa.OpaqueType) and kind.type_name == "numeric"


def _is_whole_number(kind: pa.DataType) -> bool:
    # An exact decimal is accepted and converted only when every value is whole (`_conform`).
    return pa.types.is_integer(kind) or pa.types.is_decimal(kind) or _is_numeric_text(kind)


TEXT: tuple[str, _TypeCheck] = ("text", _is_text)
INTEGER: tuple[str, _TypeCheck] = ("integer", _is_whole_number)
TIMESTAMP: tuple[str, _TypeCheck] = ("timestamp", pa.types.is_timestamp)

TRANSACTION_COLUMNS: _Contract = {
    "txn_id": TEXT,
    "customer_id": TEXT,
    "amount_minor": INTEGER,
    "currency": TEXT,
    "status": TEXT,
    "error_code": TEXT,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
CUSTOMER_COLUMNS: _Contract = {
    "customer_id": TEXT,
    "name": TEXT,
    "email": TEXT,
    "country": TEXT,
    "segment": TEXT,
    "status": TEXT,
}
# A CSV file has no types: each column is parsed as its contract says, strictly.
CSV_TYPES = {"text": pa.string(), "integer": pa.int64(), "timestamp": pa.timestamp("us", "UTC")}
CSV_EXPECTED = {
    "integer": "not a whole number of minor units (it is never rounded)",
    "timestamp": "not a timestamp with an offset such as 2025-01-07T20:00:00Z",
}
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


@dataclass(frozen=True)
class _Read:
    """A source opened for reading: its columns, its batches (read when iterated) and how to
    explain an error raised while iterating them."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    explain: Callable[[Exception], CreditsError]


def source_name(source: TableSource, root: Path) -> str:
    """The source as messages and the manifest show it: a file relative to the incident's
    folder, `payments.duckdb:transactions`, `postgres:public.transactions` or `postgres:query`.
    Never the DSN."""
    if source.kind == "postgres":
        return f"postgres:{source.table or 'query'}"
    shown = files.display_name(source.path, root)
    return f"{shown}:{source.table}" if source.kind == "duckdb" else shown


def check_columns(schema: pa.Schema, name: str, contract: _Contract) -> None:
    """Checks a source's columns against `contract`: each present, of the kind it needs."""
    for column, (wanted, is_kind) in contract.items():
        if column not in schema.names:
            raise InputError(f"{name}: required column '{column}' is missing")
        kind = schema.field(column).type
        if not is_kind(kind):
            shown = kind.type_name if isinstance(kind, pa.OpaqueType) else kind
            raise InputError(f"{name}: column '{column}' is {shown}, expected {wanted}")


def check(incident: Incident) -> None:
    """Checks both tables' columns before a run, reading no row.

    A PostgreSQL source is checked when it is read, not here: a run opens one connection to
    the payments database, for the read (its configuration was checked with the incident file).
    """
    root = incident.path.parent
    for _, source, contract in _tables(incident):
        if source.kind != "postgres":
            name = source_name(source, root)
            with _open(source, name, contract) as read:
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
            if source.kind == "postgres":
                from transforms.ingest import postgres  # only runs that use it pay for the driver

                if source.dsn_env not in sessions:
                    sessions[source.dsn_env] = stack.enter_context(postgres.session(source, name))
                session = sessions[source.dsn_env]
                read = _read_postgres(con, session, table, source, name, contract, incident)
            else:
                read = stack.enter_context(_open(source, name, contract))
                check_columns(read.schema, name, contract)
            staged.append(_stage(con, table, source, name, contract, read))
    return staged


def _tables(incident: Incident) -> tuple[tuple[str, TableSource, _Contract], ...]:
    return (
        ("transactions", incident.sources.transactions, TRANSACTION_COLUMNS),
        ("customers", incident.sources.customers, CUSTOMER_COLUMNS),
    )


def _stage(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: TableSource,
    name: str,
    contract: _Contract,
    read: _Read,
) -> TableFile:
    """Streams the read into `stg_<table>`; on an error nothing is staged."""
    schema = pa.schema(
        [
            (column, pa.int64() if wanted == "integer" else read.schema.field(column).type)
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
        db.run(con, f"stg_{table}")
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


def _conform(batch: pa.RecordBatch, schema: pa.Schema, name: str) -> pa.RecordBatch:
    """The batch's contract columns, in order; a decimal amount as int64, exactly."""
    columns = []
    for field in schema:
        column = batch.column(field.name)
        if column.type != field.type and pa.types.is_int64(field.type):
            column = _whole_numbers(column, batch, name, field.name)
        columns.append(column)
    return pa.record_batch(columns, schema=schema)


def _whole_numbers(column: pa.Array, batch: pa.RecordBatch, name: str, field: str) -> pa.Array:
    """An integer or exact decimal column as int64; a value with a fraction is an error."""
    values = column.storage if isinstance(column.type, pa.OpaqueType) else column
    try:
        return pc.cast(pc.cast(values, pa.decimal128(38, 0)), pa.int64())
    except pa.ArrowInvalid as error:
        for index, value in enumerate(values.to_pylist()):
            if value is not None and not _is_int64(value):
                key = batch.schema.names[0]
                raise InputError(
                    f"{name}: column '{field}' is {value} for {key} {batch.column(0)[index]}: "
                    "not a whole number of minor units (it is never rounded)"
                ) from None
        raise InputError(f"{name}: column '{field}': {error}") from None


def _is_int64(value: Any) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return (
        number.is_finite() and number == number.to_integral_value() and -(2**63) <= number < 2**63
    )


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
    contract: _Contract,
    incident: Incident,
) -> _Read:
    """Starts the PostgreSQL read of `table`, filtered on the keys the work database holds."""
    statement, keys_query = POSTGRES_READS[table]
    window = {"window_start": incident.window_start, "window_end": incident.window_end}
    keys = [key for (key,) in db.run(con, keys_query, **window).fetchall()]
    created = (incident.window_start - source.slack, incident.window_end + source.slack)

    def check(schema: pa.Schema) -> None:
        check_columns(schema, name, contract)

    reader = session.read(statement, source, name, check, created, keys)
    return _Read(reader.schema, reader, lambda error: session.input_error(error, source, name))


@contextmanager
def _open(source: TableSource, name: str, contract: _Contract) -> Iterator[_Read]:
    """Opens a file or DuckDB source for the contract's columns; closed when the block ends."""
    if source.kind == "parquet":
        with _open_parquet(source.path, name, list(contract)) as read:
            yield read
    elif source.kind == "csv":
        yield _open_csv(source.path, name, contract)
    else:
        with _open_duckdb(source.path, source.table, name, list(contract)) as read:
            yield read


@contextmanager
def _open_parquet(path: Path, name: str, columns: list[str]) -> Iterator[_Read]:
    try:
        parquet = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{name}: not a readable Parquet file ({error})") from None
    with parquet:
        yield _Read(
            parquet.schema_arrow,
            _later(lambda: parquet.iter_batches(BATCH_ROWS, columns=columns)),
            lambda error: InputError(f"{name}: not a readable Parquet file ({error})"),
        )


def _open_csv(path: Path, name: str, contract: _Contract) -> _Read:
    """A CSV file: UTF-8, comma-separated, a header line; blank values are nulls."""
    header = _csv_header(path, name)
    types = {
        column: CSV_TYPES[wanted] for column, (wanted, _) in contract.items() if column in header
    }
    convert = pa_csv.ConvertOptions(
        column_types=types,
        include_columns=list(types),
        null_values=[""],
        strings_can_be_null=True,
    )
    return _Read(
        pa.schema(types.items()),
        _later(lambda: pa_csv.open_csv(path, convert_options=convert)),
        lambda error: _csv_error(path, name, types, error),
    )


def _csv_header(path: Path, name: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{name}: the header line cannot be read ({error})") from None


def _csv_error(
    path: Path, name: str, types: dict[str, pa.DataType], error: Exception
) -> InputError:
    """The line pyarrow could not read, found again with the csv module: pyarrow's message
    names the column and value but not the line, and a person needs the line."""
    typed = {c: kind for c, kind in types.items() if kind != pa.string()}
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows)
            for row in rows:
                if row and len(row) != len(header):
                    return InputError(
                        f"{name}: line {rows.line_num}: {len(row)} fields, the header has "
                        f"{len(header)}"
                    )
                for column, kind in typed.items():
                    value = row[header.index(column)] if row else ""
                    if value and not _parses(value, kind):
                        expected = CSV_EXPECTED["integer" if kind == pa.int64() else "timestamp"]
                        return InputError(
                            f"{name}: line {rows.line_num}: column '{column}' is {value!r}, "
                            f"{expected}"
                        )
    except (UnicodeDecodeError, csv.Error) as found:
        return InputError(f"{name}: not a readable CSV file ({found})")
    return InputError(f"{name}: not a readable CSV file ({error})")


def _parses(value: str, kind: pa.DataType) -> bool:
    try:
        pc.cast(pa.array([value]), kind)
    except pa.ArrowInvalid:
        return False
    return True


@contextmanager
def _open_duckdb(path: Path, table: str, name: str, columns: list[str]) -> Iterator[_Read]:
    if not path.is_file():
        raise InputError(f"{name}: file not found")
    try:
        database = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise InputError(f"{name}: not a readable DuckDB database ({error})") from None
    try:
        try:
            relation = database.table(table)
        except duckdb.CatalogException:
            raise InputError(f"{name}: the database has no table '{table}'") from None
        yield _Read(
            relation.limit(0).to_arrow_table().schema,
            _later(lambda: relation.select(*columns).to_arrow_reader(BATCH_ROWS)),
            lambda error: InputError(f"{name}: cannot be read ({error})"),
        )
    finally:
        database.close()


def _later(start: Callable[[], Iterable[pa.RecordBatch]]) -> Iterator[pa.RecordBatch]:
    """Batches that start being read when first asked for, so that errors come while staging."""
    yield from start()
