"""The tables' column contracts, and a Parquet, CSV or DuckDB source opened for reading.

Each source is read as a stream of Arrow record batches of the contract's columns, started only
when the first batch is asked for. A missing file, an unreadable one, a missing table or a CSV
line that does not parse is an `InputError` naming the source (and the line).
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from transforms import times
from transforms.errors import CreditsError, InputError, StorageError
from transforms.ingest import column_names, csv_text
from transforms.ingest.incident import TableSource
from transforms.ingest.incident.amounts import BEYOND_LARGEST_AMOUNT

_TypeCheck = Callable[[pa.DataType], bool]
Contract = dict[str, tuple[str, _TypeCheck]]

BATCH_ROWS = 65_536
# How a table source in a DuckDB file is opened: never an extension fetched or loaded (another
# program's database, a SQLite file named .duckdb, made DuckDB fetch one from the internet).
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
SQLITE_HEADER = b"SQLite format 3\x00"


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
    # An exact decimal is accepted and converted only when every value is whole (`tables._conform`).
    return pa.types.is_integer(kind) or pa.types.is_decimal(kind) or _is_numeric_text(kind)


TEXT: tuple[str, _TypeCheck] = ("text", _is_text)


INTEGER: tuple[str, _TypeCheck] = ("integer", _is_whole_number)


TIMESTAMP: tuple[str, _TypeCheck] = ("timestamp", pa.types.is_timestamp)


TRANSACTION_COLUMNS: Contract = {
    "txn_id": TEXT,
    "customer_id": TEXT,
    "amount_minor": INTEGER,
    "currency": TEXT,
    "status": TEXT,
    "error_code": TEXT,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}


CUSTOMER_COLUMNS: Contract = {
    "customer_id": TEXT,
    "name": TEXT,
    "email": TEXT,
    "country": TEXT,
    "segment": TEXT,
    "status": TEXT,
}


# A CSV file has no types: each column is parsed as its contract says, strictly. A time is read
# as text, its decimals past the microsecond dropped (pandas' `to_csv` writes nine: truncated,
# as every time inside is, never rounded), then parsed: any year to 9999 ("never" is often
# 9999-12-31), which nanoseconds could not hold.
# An amount is read as text too: a whole decimal (`1000.00`, as a spreadsheet writes it) is the
# integer it is; a fraction stops the run (never rounded).
CSV_TYPES = {"text": pa.string(), "integer": pa.int64(), "timestamp": pa.timestamp("us", "UTC")}
PAST_MICROSECONDS = r"(\.[0-9]{6})[0-9]+"
WHOLE_DECIMAL = r"^(-?[0-9]+)\.0*$"
DECIMAL_DIGITS = r"^-?[0-9]+$"
ERROR_CHUNK_ROWS = 65_536  # rows parsed at once when a bad CSV value is looked for
CSV_BLOCK_BYTES = 1 << 20  # pyarrow's default; a record longer than the block is read again
CSV_LARGEST_BLOCK_BYTES = 1 << 30  # a record longer than this is not read (`_csv_error`)


FIELDS_MORE = "a value holding a comma (1,000) must be quoted, or written without it"
FIELDS_FEWER = "give each line a value (or a blank) for every header name, a trailing comma's too"
QUOTE_CLOSED = "a field that opens a quote must close it"
CSV_EXPECTED = {
    "integer": "not a whole number of minor units (it is never rounded)",
    "timestamp": ("not a timestamp with an offset such as 2025-01-07T20:00:00Z"),
}


@dataclass(frozen=True)
class Read:
    """A source opened for reading: its columns, its batches (read when iterated) and how to
    explain an error raised while iterating them."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    explain: Callable[[Exception], CreditsError]


def check_columns(schema: pa.Schema, name: str, contract: Contract) -> None:
    """Checks a source's columns against `contract`: each present, of the kind it needs."""
    for column, (wanted, is_kind) in contract.items():
        if column not in schema.names:
            raise InputError(column_names.missing(name, column, schema.names))
        kind = schema.field(column).type
        if not is_kind(kind) and not pa.types.is_null(kind):  # null: no value, of any kind
            shown = kind.type_name if isinstance(kind, pa.OpaqueType) else kind
            raise InputError(f"{name}: column '{column}' is {shown}, expected {wanted}")


@contextmanager
def open_source(source: TableSource, name: str, contract: Contract) -> Iterator[Read]:
    """Opens a file or DuckDB source for the contract's columns; closed when the block ends.
    A path that is there but no regular file (a folder; a named pipe, whose read would wait for
    a writer forever; a device) is refused naming it (`require_regular`)."""
    require_regular(source.path, name)
    if source.kind == "parquet":
        with _open_parquet(source.path, name, list(contract)) as read:
            yield read
    elif source.kind == "csv":
        yield _open_csv(source.path, name, contract)
    else:
        with _open_duckdb(source.path, source.table, name, list(contract)) as read:
            yield read


def require_regular(path: Path, name: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:  # not there: each reader names it as missing
        return
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device)"
        raise InputError(f"{name}: {path} is {what}; give the table's file")
    if not os.access(path, os.R_OK):  # the machine refusing, as the README's exit 4 has it
        raise StorageError(f"{name}: {path} cannot be read by this user; make it readable")


def not_found(name: str, path: Path) -> str:
    return f"{name}: file not found (looked for {path}; {RELATIVE})"


RELATIVE = "a path in the incident file is read from the incident file's folder"


@contextmanager
def _open_parquet(path: Path, name: str, columns: list[str]) -> Iterator[Read]:
    try:
        # Buffered reads, not pre-buffered: pre-buffering holds every row group's column chunks
        # (160 MB of Arrow memory for 5 M transactions, 30 MB without, and no slower). INT96
        # times (Spark's and Hive's default) in microseconds: in nanoseconds, pyarrow's default,
        # a year past 2262 wraps round unsaid (9999-12-31, "never", read as 1816-03-29). A
        # page's CRC, where its writer kept one (Spark's and parquet-mr's default), checked: a
        # byte changed on disk was read as another value.
        parquet = pq.ParquetFile(
            path,
            pre_buffer=False,
            buffer_size=1 << 20,
            coerce_int96_timestamp_unit="us",
            page_checksum_verification=True,
        )
    except FileNotFoundError:
        raise InputError(not_found(name, path)) from None
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{name}: not a readable Parquet file ({error})") from None
    with parquet:
        names = parquet.schema_arrow.names
        twice = sorted({c for c in columns if names.count(c) > 1})
        if twice:  # which one is meant is unknown (pyarrow could not even pick one)
            raise InputError(f"{name}: the file has column(s) {', '.join(twice)} twice")
        yield Read(
            parquet.schema_arrow,
            _later(lambda: parquet.iter_batches(BATCH_ROWS, columns=columns)),
            lambda error: InputError(f"{name}: not a readable Parquet file ({error})"),
        )


def _open_csv(path: Path, name: str, contract: Contract) -> Read:
    """A CSV file: UTF-8, comma-separated, a header line; blank values are nulls. A contract
    column named twice in the header is an error (which one is meant is unknown)."""
    try:
        header = csv_text.header(path, name)
    except FileNotFoundError:
        raise InputError(not_found(name, path)) from None
    if not header:
        raise InputError(f"{name}: the file is empty; a CSV table starts with a header line")
    twice = sorted(c for c, count in Counter(header).items() if count > 1 and c in contract)
    if twice:
        raise InputError(f"{name}: the header names column(s) {', '.join(twice)} twice")
    missing = [column for column in contract if column not in header]
    if missing:  # named here, where the header's other names are known
        raise InputError(column_names.missing(name, missing[0], header))
    types = {
        column: CSV_TYPES[wanted] for column, (wanted, _) in contract.items() if column in header
    }
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(types, pa.string()),  # each parsed below, as its kind
        include_columns=list(types),
        null_values=[""],
        strings_can_be_null=True,
    )
    schema = pa.schema(types.items())

    def batches() -> Iterator[pa.RecordBatch]:
        # A record longer than the reader's block (a text cell of megabytes) cannot be parsed
        # in it: the file is read again with a block 16 times larger, the rows already given
        # skipped, up to CSV_LARGEST_BLOCK_BYTES.
        if csv_text.header_alone(path):  # no row, which pyarrow cannot tell without the line end
            return
        given, block = 0, CSV_BLOCK_BYTES
        while True:
            skip = given
            read = pa_csv.ReadOptions(block_size=block)
            try:
                for batch in pa_csv.open_csv(path, read_options=read, convert_options=convert):
                    if skip >= batch.num_rows:
                        skip -= batch.num_rows
                        continue
                    batch, skip = batch.slice(skip), 0
                    if csv_text.has_blank_row(batch):  # a spreadsheet's empty row: its line
                        raise csv_text.blank_row(path, name, list(types))
                    columns = [_parsed(batch[c], k) for c, k in types.items()]
                    yield pa.record_batch(columns, schema=schema)
                    given += batch.num_rows
                return
            except pa.ArrowInvalid as error:
                if "straddling object" not in str(error) or block >= CSV_LARGEST_BLOCK_BYTES:
                    raise
                block = min(block * 16, CSV_LARGEST_BLOCK_BYTES)  # 4 GiB: no int32, no read

    return Read(schema, _later(batches), lambda error: _csv_error(path, name, types, error))


def _csv_error(
    path: Path, name: str, types: dict[str, pa.DataType], error: Exception
) -> InputError:
    """The line pyarrow could not read, found again with the csv module: pyarrow's message
    names the column and value but not the line, and a person needs the line. Values are
    parsed a chunk of rows at once (one at a time only in the chunk that fails): a bad value
    at the end of millions of rows is named in seconds."""
    typed = {c: kind for c, kind in types.items() if kind != pa.string()}
    read_to = 0  # the last line of the last whole record read
    at: dict[str, int] = {}  # each typed column's place in the header
    chunk: list[tuple[int, list[str]]] = []  # the rows read since the last parse: (line, row)

    def bad_value() -> InputError | None:  # the first bad value of the chunk, if any
        found = _first_unparsed(chunk, at, typed)
        chunk.clear()
        if found is None:
            return None
        line, column, value = found
        expected = CSV_EXPECTED["integer" if typed[column] == pa.int64() else "timestamp"]
        if typed[column] == pa.int64() and re.fullmatch(r"-?[0-9]+(\.0*)?", value):
            expected = BEYOND_LARGEST_AMOUNT  # whole, but no 64-bit integer holds it
        elif typed[column] != pa.int64() and (after := times.after_leap_second(value)):
            expected = (
                f"a leap second, never read as another instant: write the instant after it, {after}"
            )
        return InputError(f"{name}: line {line}: column '{column}' is {value!r}, {expected}")

    # a value as long as pyarrow reads (a note of 200 KB: the csv module's limit is 128 KiB)
    limit = csv.field_size_limit(CSV_LARGEST_BLOCK_BYTES)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows)
            read_to = rows.line_num
            at.update((column, header.index(column)) for column in typed)
            for row in rows:
                first = read_to + 1  # a record's first line (a quoted field may go on)
                if row and len(row) != len(header):
                    fields = f"{len(row)} fields, the header has {len(header)}"
                    return bad_value() or InputError(
                        f"{name}: line {first}: {fields}; "
                        + (FIELDS_MORE if len(row) > len(header) else FIELDS_FEWER)
                        if rows.line_num == first and row[-1][-1:] not in ("\n", "\r")
                        else f"{name}: line {first}: not a readable CSV record ({fields}: a "
                        f"quoted value on it runs to the end of line {rows.line_num}); "
                        + QUOTE_CLOSED  # over lines, or to the file's end: a quote left open
                    )
                chunk.append((first, row))
                if len(chunk) >= ERROR_CHUNK_ROWS and (found := bad_value()) is not None:
                    return found
                read_to = rows.line_num
            if (found := bad_value()) is not None:
                return found
    except csv.Error as found:
        # A quote opened and never closed reads the rest of the file as one field.
        if "field larger" in str(found):  # the limit pyarrow's blocks have
            found = f"longer than {CSV_LARGEST_BLOCK_BYTES:,} bytes, which is not read"
        return bad_value() or InputError(
            f"{name}: line {read_to + 1}: not a readable CSV record ({found}); {QUOTE_CLOSED}"
        )
    except UnicodeDecodeError as found:
        return csv_text.first_not_utf8(path, name) or InputError(
            f"{name}: not a readable CSV file ({found})"
        )
    finally:
        csv.field_size_limit(limit)
    return InputError(f"{name}: not a readable CSV file ({error})")


def _first_unparsed(
    chunk: list[tuple[int, list[str]]], at: dict[str, int], typed: dict[str, pa.DataType]
) -> tuple[int, str, str] | None:
    """The first (line, column, value) of the chunk's rows whose value does not parse."""
    failing = []
    for column, kind in typed.items():
        values = [row[at[column]] if row else "" for _, row in chunk]
        if not _parses_all(values, kind):
            failing.append(column)
    for line, row in chunk if failing else ():
        for column in failing:
            value = row[at[column]] if row else ""
            if value and not _parses_all([value], typed[column]):
                return line, column, value
    return None


def _parsed(text: pa.Array | pa.ChunkedArray, kind: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """A CSV column's text as `kind`: a time with its decimals past the microsecond dropped
    (truncated, never rounded), an integer written as a whole decimal as that integer;
    `ArrowInvalid` for a value that is neither."""
    if pa.types.is_timestamp(kind):  # RFC 3339's lowercase t and z, which Arrow reads upper
        text = pc.ascii_upper(text)
        return pc.cast(pc.replace_substring_regex(text, PAST_MICROSECONDS, r"\1"), kind)
    if pa.types.is_integer(kind):
        whole = pc.replace_substring_regex(text, WHOLE_DECIMAL, r"\1")
        # Arrow's cast reads `0x10` as 16 (and `0xFFFFFFFFFFFFFFFF` as -1): decimal digits only
        if pc.all(pc.match_substring_regex(whole, DECIMAL_DIGITS)).as_py() is False:
            raise pa.ArrowInvalid("not an integer in decimal digits")
        return pc.cast(whole, kind)
    return text


def _parses_all(values: list[str], kind: pa.DataType) -> bool:
    try:
        _parsed(pa.array([v or None for v in values], pa.string()), kind)
    except pa.ArrowInvalid:
        return False
    return True


@contextmanager
def _open_duckdb(path: Path, table: str, name: str, columns: list[str]) -> Iterator[Read]:
    if not path.is_file():
        raise InputError(not_found(name, path))
    if _is_sqlite(path):
        raise InputError(
            f"{name}: a SQLite database, not a DuckDB one: export the table to Parquet or CSV "
            "(sqlite3 -csv -header FILE 'select * from TABLE' > TABLE.csv) and name that file "
            "in the incident file"
        )
    try:
        # Offline, as every connection of the run (`db.connect`): DuckDB fetched an extension
        # from the internet to open another program's database file.
        database = duckdb.connect(str(path), read_only=True, config=OFFLINE)
    except duckdb.Error as error:
        if "Could not set lock" in str(error):  # readable, but another process writes it now
            raise StorageError(
                f"{name}: another process holds the DuckDB file open for writing ({error}); "
                "run again once it has closed it, or give a copy of the file"
            ) from None
        raise InputError(f"{name}: not a readable DuckDB database ({error})") from None
    try:
        try:
            relation = database.table(table)
        except duckdb.CatalogException:
            raise InputError(f"{name}: the database has no table '{table}'") from None
        yield Read(
            relation.limit(0).to_arrow_table().schema,
            _later(lambda: relation.select(*columns).to_arrow_reader(BATCH_ROWS)),
            lambda error: InputError(f"{name}: cannot be read ({error})"),
        )
    finally:
        database.close()


def _is_sqlite(path: Path) -> bool:
    """Whether the file starts as a SQLite database does (its 16-byte header string)."""
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False  # DuckDB's own open names the fault


def _later(start: Callable[[], Iterable[pa.RecordBatch]]) -> Iterator[pa.RecordBatch]:
    """Batches that start being read when first asked for, so that errors come while staging."""
    yield from start()
