"""Table sources other than Parquet: the incident file's syntax, CSV and DuckDB files.

Every kind gives the same credit file as Parquet and meets the same column contract; PostgreSQL
reads are in test_postgres.py (they need a server).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import sqlite3
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.builders import (
    customer,
    failure,
    reconcile_incident,
    txn,
    with_sources,
    write_csv_tables,
    write_duckdb_tables,
    write_incident,
)
from transforms.errors import ConfigError, InputError
from transforms.ingest import incident, tables
from transforms.ingest.incident import TableSource
from transforms.reconcile import outputs

DUCKDB_SOURCES = {
    "transactions": {"duckdb": "payments.duckdb", "table": "transactions"},
    "customers": {"duckdb": "payments.duckdb", "table": "customers"},
}
CSV_SOURCES = {"transactions": "transactions.csv", "customers": "customers.csv"}


def small_incident(folder):
    """A few of every class, and customer fields that CSV must quote."""
    lines = [
        failure("t1", customer_id="c1", amount_minor=1000, currency="USD"),
        failure("t2", code="UPSTREAM_TIMEOUT"),
        failure("t3", customer_id="c3", amount_minor=500, currency="EUR"),  # log_only
        failure("t4", code="CARD_DECLINED"),
        failure(" t5 ", ts="2025-01-07T21:00:00Z"),  # padded in the log: trimmed
    ]
    transactions = [
        txn("t1"),
        txn("t2", customer_id="c2", status="succeeded", currency="JPY", amount_minor=1500),
        txn("t4", customer_id="c2", status="failed", error_code="CARD_DECLINED"),
        txn("t5", customer_id="c4", created_at="2025-01-05T08:00:00Z"),  # created days before
        txn("t6", customer_id="c5"),  # table_only
        txn("t7", error_code=None, status="succeeded"),  # irrelevant
    ]
    customers = [
        customer("c1", name='Quote "the" Comma, Ltd'),
        customer("c2", name="Zoë Ünïcode", country="DE"),
        customer("c3", segment="business", email="NA"),  # text, never a null
        customer("c4", status="closed"),
        customer("c5", name="Line\nbreak"),
    ]
    return write_incident(folder, lines=lines, transactions=transactions, customers=customers)


def credit_file(path, work_dir):
    work_dir.mkdir()
    con = reconcile_incident(path, work_dir)
    out = work_dir / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, out)
    return con, out.read_bytes()


@pytest.mark.parametrize(
    ("write", "sources"),
    [
        (write_csv_tables, CSV_SOURCES),
        (write_duckdb_tables, DUCKDB_SOURCES),
    ],
)
def test_csv_and_duckdb_sources_give_the_parquet_credit_file(tmp_path, write, sources):
    path = small_incident(tmp_path / "inc")
    parquet_con, expected = credit_file(path, tmp_path / "parquet")
    write(path.parent)
    con, found = credit_file(with_sources(path, "other.toml", **sources), tmp_path / "other")
    assert found == expected
    assert expected.count(b"\n") == 5  # header, c1, c2, c3 and c5 (c4 is closed: an exception)
    for table in ("stg_transactions", "stg_customers"):
        assert (
            con.table(table).order("all").fetchall()
            == parquet_con.table(table).order("all").fetchall()
        )


@pytest.mark.parametrize(
    ("column", "written", "read"),
    [
        # pandas' to_csv writes nine decimals: the run stopped, calling it "not a timestamp"
        ("created_at", "2025-01-07 19:59:59.999999999+00:00", (2025, 1, 7, 19, 59, 59, 999999)),
        ("created_at", "2025-01-07T14:59:59.9999999-05:00", (2025, 1, 7, 19, 59, 59, 999999)),
        # "never", which nanoseconds cannot hold
        ("updated_at", "9999-12-31T00:00:00Z", (9999, 12, 31)),
        # RFC 3339's lowercase t and z, as log lines and window edges read them: the run stopped
        # with "not a timestamp with an offset"
        ("created_at", "2025-01-07t19:15:00z", (2025, 1, 7, 19, 15)),
        ("created_at", "2025-01-07t14:15:00.5-05:00", (2025, 1, 7, 19, 15, 0, 500000)),
        ("updated_at", "2025-01-07T19:15:00z", (2025, 1, 7, 19, 15)),
    ],
)
def test_a_csv_time_is_read_to_the_microsecond_truncated_like_parquet(
    tmp_path, column, written, read
):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    table = path.parent / "transactions.csv"
    with open(table, encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))[:2]
    row[header.index(column)] = written
    with open(table, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, row])
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    con = duckdb.connect()
    tables.stage(con, loaded)
    [staged] = con.sql("select created_at, updated_at from stg_transactions").fetchall()
    found = dict(zip(("created_at", "updated_at"), staged, strict=True))[column]
    assert found == datetime(*read, tzinfo=UTC)  # never rounded up


def test_a_duckdb_table_is_hashed_by_its_rows_not_their_order(tmp_path):
    path = small_incident(tmp_path / "inc")
    write_duckdb_tables(path.parent, "a.duckdb")
    rows = pq.read_table(path.parent / "transactions.parquet")
    reordered = rows.take(list(reversed(range(rows.num_rows))))
    with duckdb.connect(str(path.parent / "b.duckdb")) as con:
        con.from_arrow(reordered).create("transactions")
        con.from_arrow(pq.read_table(path.parent / "customers.parquet")).create("customers")
    read = {}
    for name in ("a", "b"):
        sources = {t: {"duckdb": f"{name}.duckdb", "table": t} for t in DUCKDB_SOURCES}
        loaded = incident.load(with_sources(path, f"{name}.toml", **sources))
        con = duckdb.connect()
        read[name] = tables.stage(con, loaded)
    assert [(t.sha256, t.rows) for t in read["a"]] == [(t.sha256, t.rows) for t in read["b"]]
    assert [t.name for t in read["a"]] == ["a.duckdb:transactions", "a.duckdb:customers"]
    assert read["a"][0].rows == 6


@pytest.mark.parametrize(
    ("row", "message"),
    [
        # a fraction of a minor unit is never rounded
        (
            "t9,c1,12.50,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"transactions.csv: line 3: column 'amount_minor' is '12.50', not a whole number",
        ),
        # a time without an offset is ambiguous in a file without types
        (
            "t9,c1,1250,USD,failed,,2025-01-07 20:00:00,2025-01-07T20:00:00Z",
            r"line 3: column 'created_at' is '2025-01-07 20:00:00', not a timestamp with an offset",
        ),
        # a leap second is refused, never read as another instant, and the message says what
        # to write: the instant after it (docs/incident-file.md)
        (
            "t9,c1,1250,USD,failed,,2025-01-07T23:59:60Z,2025-01-07T20:00:00Z",
            r"line 3: column 'created_at' is '2025-01-07T23:59:60Z', a leap second.*"
            r"write the instant after it, 2025-01-08T00:00:00Z",
        ),
        (
            "t9,c1,1250,USD,failed,,2025-01-07T20:00:00Z,2025-01-07t18:59:60.25-05:00",
            r"column 'updated_at' is '2025-01-07t18:59:60.25-05:00', a leap second.*"
            r"write the instant after it, 2025-01-07T19:00:00-05:00",
        ),
        # a lowercase t and z with no offset after all is still refused
        (
            "t9,c1,1250,USD,failed,,2025-01-07t20:00:00,2025-01-07T20:00:00Z",
            r"line 3: column 'created_at' is '2025-01-07t20:00:00', not a timestamp with an off",
        ),
        # a field too many
        (
            "t9,c1,1250,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z,extra",
            r"transactions.csv: line 3: 9 fields, the header has 8",
        ),
        # a spreadsheet's thousands separator, unquoted: one field too many, and why
        (
            "t9,c1,1,000.00,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"line 3: 9 fields, the header has 8; a value holding a comma \(1,000\) must be quoted",
        ),
        # a field too few (a header saved with a trailing comma has one more name): what to give
        (
            "t9,c1,1000,USD,failed,,2025-01-07T20:00:00Z",
            r"line 3: 7 fields, the header has 8; give each line a value \(or a blank\) for every",
        ),
        # hexadecimal: Arrow's cast read it as 16, a wrong credit under the percent basis
        (
            "t9,c1,0x10,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"transactions.csv: line 3: column 'amount_minor' is '0x10', not a whole number",
        ),
        (
            "t9,c1,0XFFFFFFFFFFFFFFFF,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"line 3: column 'amount_minor' is '0XFFFFFFFFFFFFFFFF', not a whole number",
        ),
        # whole, but past what 64 bits hold: too large, not "not a whole number"
        (
            "t9,c1,9223372036854775808,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"line 3: column 'amount_minor' is '9223372036854775808', beyond ±10,000,000,000,000",
        ),
        (
            "t9,c1,-99999999999999999999.00,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z",
            r"line 3: column 'amount_minor' is '-99999999999999999999.00', beyond ±10,000,",
        ),
        # a spreadsheet's empty rows, saved as commas: the gate rejected the run for rows
        # without an id, naming neither the file nor a line ("[2 rows; e.g. <null>]")
        (",,,,,,,\n,,,,,,,", r"transactions.csv: line 3: every column is blank"),
        (",,,,,,,", r"line 3: every column is blank \(a spreadsheet's empty row"),
        # the first of two mistakes, the bad value before the row of too many fields
        (
            "t9,c1,0x10,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n"
            "t8,c1,1,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z,extra",
            r"transactions.csv: line 3: column 'amount_minor' is '0x10'",
        ),
    ],
)
def test_a_csv_value_that_breaks_its_type_names_the_file_line_and_column(tmp_path, row, message):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    with open(path.parent / "transactions.csv", "a", encoding="utf-8") as handle:
        handle.write(row + "\n")
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    con = duckdb.connect()
    with pytest.raises(InputError, match=message):
        tables.stage(con, loaded)
    assert con.execute("select count(*) from duckdb_tables()").fetchall() == [(0,)]


def test_a_bad_csv_value_after_many_rows_is_named_with_its_line(tmp_path, monkeypatch):
    # It was found again one value at a time: 13 minutes for a line near 5 million.
    from transforms.ingest import table_sources

    monkeypatch.setattr(table_sources, "ERROR_CHUNK_ROWS", 100)
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    with open(path.parent / "transactions.csv", "a", encoding="utf-8") as handle:
        for n in range(1000):
            handle.write(f"u{n},c1,1,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n")
        handle.write('t9,c1,"1\n2",USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n')
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=r"transactions.csv: line 1003: column 'amount_minor'"):
        tables.stage(duckdb.connect(), loaded)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_table_file_written_again_while_the_run_reads_it_stops_the_run(
    tmp_path, monkeypatch, kind
):
    # Its sha256, taken after the read, was of bytes the run never read: a wrong proof.
    from transforms.ingest import tables as tables_module

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    if kind == "csv":
        write_csv_tables(path.parent)
        path = with_sources(path, "csv.toml", **CSV_SOURCES)
    real = tables_module.files.sha256

    def written_meanwhile(file):
        if file.name.startswith("transactions"):
            with open(file, "ab") as handle:  # a writer still at it
                handle.write(b"\n")
        return real(file)

    monkeypatch.setattr(tables_module.files, "sha256", written_meanwhile)
    with pytest.raises(InputError, match=rf"transactions.{kind}: the file changed while the run"):
        tables.stage(duckdb.connect(), incident.load(path))


def test_a_csv_amount_written_as_a_whole_decimal_is_that_integer(tmp_path):
    # "1250.00", as a spreadsheet writes it, stopped the run though it is whole
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    with open(path.parent / "transactions.csv", "a", encoding="utf-8") as handle:
        handle.write("t9,c1,1250.00,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n")
        handle.write("t8,c1,-3.,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n")
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    con = duckdb.connect()
    tables.stage(con, loaded)
    found = con.sql(
        "select txn_id, amount_minor from stg_transactions where txn_id in ('t8', 't9')"
    )
    assert sorted(found.fetchall()) == [("t8", -3), ("t9", 1250)]


@pytest.mark.parametrize("line", [2, 3])
def test_a_csv_byte_that_is_not_utf8_is_named_with_its_line(tmp_path, line):
    # It was "the header line cannot be read (... position 85)", whichever line held it.
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / "transactions.csv"
    with open(csv_path, "a", encoding="utf-8") as handle:
        handle.write("t7,c1,1,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n")
    rows = csv_path.read_bytes().splitlines(keepends=True)
    rows[line - 1] = rows[line - 1].replace(b"c1", b"c\xe9", 1)
    csv_path.write_bytes(b"".join(rows))
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=rf"transactions.csv: line {line}: byte 0xe9 at byte "):
        tables.stage(duckdb.connect(), loaded)


@pytest.mark.parametrize("after", [3000, 1])
def test_a_quote_never_closed_names_the_line_it_opens_on(tmp_path, after):
    # Every line after it is read as one field. On the last line alone, it was "1 fields, the
    # header has 8; give each line a value ... for every header name".
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    row = "t{n},c1,1250,USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z\n"
    with open(path.parent / "transactions.csv", "a", encoding="utf-8") as handle:
        handle.write('"' + "".join(row.format(n=n) for n in range(after)))
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=r"transactions.csv: line 3: not a readable CSV record"):
        tables.stage(duckdb.connect(), loaded)


@pytest.mark.parametrize("table", ["transactions", "customers"])
def test_a_csv_file_whose_lines_end_in_a_cr_alone_is_named_so(tmp_path, table):
    # Old Mac OS's line ends: the header line ran to the file's end, and the message was the
    # csv module's ("new-line character seen in unquoted field - do you need to open the file
    # in universal-newline mode?")
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / f"{table}.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"\n", b"\r"))
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=rf"{table}.csv: its lines end in a CR alone"):
        tables.check(loaded)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        # Excel's "Unicode Text": UTF-16 LE with a BOM, read as "lines end in a CR alone"
        ("utf-16-le", "\ufeff"),
        ("utf-16-be", "\ufeff"),
        # without a BOM, the header's names were shown with a NUL between their letters
        ("utf-16-le", ""),
    ],
)
def test_a_utf16_csv_file_is_named_so(tmp_path, encoding, bom):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / "transactions.csv"
    text = bom + csv_path.read_text(encoding="utf-8").replace("\n", "\r\n")
    csv_path.write_bytes(text.encode(encoding))
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(
        InputError, match=r"transactions.csv: the file is UTF-16.*save it as CSV UTF-8"
    ):
        tables.check(loaded)


@pytest.mark.parametrize(
    ("pack", "named"),
    [
        (gzip.compress, "gzip data"),
        (bz2.compress, "bzip2 data"),
        (lzma.compress, "xz data"),
        (lambda data: b"PK\x03\x04" + data, "zip data"),  # a spreadsheet's workbook (.xlsx)
    ],
)
def test_a_compressed_csv_file_is_named_so(tmp_path, pack, named):
    # `transactions.csv` that is `transactions.csv.gz` renamed: "line 1: byte 0x8b ... is not
    # UTF-8 (save the file as UTF-8)", advice that does not fit it
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / "transactions.csv"
    csv_path.write_bytes(pack(csv_path.read_bytes()))
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=rf"^transactions.csv: the file holds {named}, not CSV"):
        tables.check(loaded)


def test_a_parquet_file_named_csv_is_named_so(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    (path.parent / "transactions.csv").write_bytes(
        (path.parent / "transactions.parquet").read_bytes()
    )
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=r"^transactions.csv: the file holds Parquet data, not"):
        tables.check(loaded)


@pytest.mark.parametrize("sep", [",", ";"])
def test_excels_sep_line_before_the_header_is_named_so(tmp_path, sep):
    # Excel's "sep=;" hint line was taken for the header: "the source's columns are sep=;"
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / "customers.csv"
    csv_path.write_text(f"sep={sep}\n" + csv_path.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(
        InputError, match=rf"customers.csv: line 1 is Excel's 'sep={sep}' hint, not the header"
    ):
        tables.check(loaded)


def test_a_csv_header_naming_a_contract_column_twice_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    csv_path = path.parent / "transactions.csv"
    header, *rows = csv_path.read_text(encoding="utf-8").splitlines()
    csv_path.write_text(
        "\n".join([header + ",txn_id", *(row + ",t0" for row in rows)]) + "\n", encoding="utf-8"
    )
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(
        InputError, match=r"transactions.csv: the header names column\(s\) txn_id twice"
    ):
        tables.stage(duckdb.connect(), loaded)


def test_a_csv_record_longer_than_the_readers_block_is_read(tmp_path, monkeypatch):
    # A customer's name of 4 MB (the reader's block is 1 MiB) stopped the run, saying a quote
    # was never closed; a Parquet table with it was read. Here the block is 256 bytes.
    from transforms.ingest import table_sources

    monkeypatch.setattr(table_sources, "CSV_BLOCK_BYTES", 256)
    # short rows read in blocks before the first long one (they are not read twice), a long
    # one at the end
    lengths = {"c1": 7, "c2": 7, "c3": 7, "c4": 1000, "c5": 7, "c6": 3000}
    rows = [customer(key, name="N" * length) for key, length in lengths.items()]
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], customers=rows)
    write_csv_tables(path.parent)
    con = duckdb.connect()
    tables.stage(con, incident.load(with_sources(path, "csv.toml", **CSV_SOURCES)))
    found = con.sql("select customer_id, length(name) from stg_customers order by customer_id")
    assert found.fetchall() == list(lengths.items())


@pytest.mark.parametrize(("length", "read"), [(10000, True), (20000, False)])
def test_a_csv_record_is_read_in_blocks_up_to_the_largest_only(tmp_path, monkeypatch, length, read):
    # The block grew 16-fold past the largest (1 MiB, 16, 256 MiB, then 4 GiB, which pyarrow
    # cannot take): a record of 600 MB stopped the run as a quote never closed. Here the
    # blocks are 256 bytes to 8 KiB, which reads a record of up to two blocks.
    from transforms.ingest import table_sources

    monkeypatch.setattr(table_sources, "CSV_BLOCK_BYTES", 256)
    monkeypatch.setattr(table_sources, "CSV_LARGEST_BLOCK_BYTES", 8192)
    lengths = {"c1": 7, "c2": length, "c3": 7}
    rows = [customer(key, name="N" * n) for key, n in lengths.items()]
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], customers=rows)
    write_csv_tables(path.parent)
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    con = duckdb.connect()
    if not read:
        with pytest.raises(
            InputError, match=r"^customers.csv: line 3: not a readable CSV record \(lo"
        ):
            tables.stage(con, loaded)
        return
    tables.stage(con, loaded)
    found = con.sql("select customer_id, length(name) from stg_customers order by customer_id")
    assert found.fetchall() == list(lengths.items())


def test_a_bad_csv_value_after_a_long_one_is_named_with_its_line(tmp_path):
    # A note of 200 KB (a column the run ignores) before it: the line named was the note's,
    # "field larger than field limit (131072)", the csv module's own limit.
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    row = "t{n},c1,{amount},USD,failed,,2025-01-07T20:00:00Z,2025-01-07T20:00:00Z,{note}\n"
    (path.parent / "transactions.csv").write_text(
        "txn_id,customer_id,amount_minor,currency,status,error_code,created_at,updated_at,note\n"
        + row.format(n=1, amount=1000, note='"' + "y" * 200_000 + '"')
        + row.format(n=2, amount="12.50", note="short"),
        encoding="utf-8",
    )
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=r"transactions.csv: line 3: column 'amount_minor' is '12"):
        tables.stage(duckdb.connect(), loaded)


def test_csv_times_with_an_offset_and_blank_values_are_read(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")])
    write_csv_tables(path.parent)
    (path.parent / "transactions.csv").write_text(
        "txn_id,customer_id,amount_minor,currency,status,error_code,created_at,updated_at\n"
        "t1,c1,1000,USD,failed,NA,2025-01-07T15:00:00-05:00,2025-01-07 20:00:01+00\n"
        "t2,c1,,USD,succeeded,,2025-01-07T20:00:00.123456Z,2025-01-07T20:00:00Z\n",
        encoding="utf-8",
    )
    con = duckdb.connect()
    tables.stage(con, incident.load(with_sources(path, "csv.toml", **CSV_SOURCES)))
    found = con.execute(
        "select txn_id, amount_minor, error_code, strftime(created_at, '%H:%M:%S.%f'),"
        " strftime(updated_at, '%H:%M:%S') from stg_transactions order by txn_id"
    ).fetchall()
    assert found == [
        ("t1", 1000, "NA", "20:00:00.000000", "20:00:01"),  # "NA" is text, not a null
        ("t2", None, None, "20:00:00.123456", "20:00:00"),  # blank: null
    ]


@pytest.mark.parametrize(
    ("table", "header", "message"),
    [
        (
            "transactions.csv",
            "txn_id,customer_id,currency,status,error_code,created_at,updated_at",
            r"transactions.csv: required column 'amount_minor' is missing",
        ),
        (
            "customers.csv",
            "customer_id,name,email,country,status",
            r"customers.csv: required column 'segment' is missing",
        ),
        # what the file has instead is named: a header of one field (not commas), another case
        (
            "transactions.csv",
            "txn_id;customer_id;amount_minor;currency;status;error_code;created_at;updated_at",
            r"required column 'txn_id' is missing; the header is one field, 'txn_id;customer_id;",
        ),
        (
            "customers.csv",
            "customer_id,name,email,country,Segment,status",
            r"customers.csv: required column 'segment' is missing; the source has 'Segment': ",
        ),
        (
            "customers.csv",
            "",
            r"customers.csv: the file is empty; a CSV table starts with a header",
        ),
        # renamed by another system (camel case, a blank or a hyphen for the underscore): it
        # said only that customer_id was missing
        (
            "customers.csv",
            "CustomerID,name,email,country,segment,status",
            r"customers.csv: required column 'customer_id' is missing; the source has "
            r"'CustomerID': names are matched exactly",
        ),
        (
            "customers.csv",
            "customer id,name,email,country,segment,status",
            r"the source has 'customer id': names are matched exactly",
        ),
        (
            "transactions.csv",
            "txn_id,Customer-Id,amount_minor,currency,status,error_code,created_at,updated_at",
            r"required column 'customer_id' is missing; the source has 'Customer-Id': ",
        ),
        # the other table's file (the two swapped in the incident file): it said to rename a
        # column ("name the one it is 'txn_id'") of a file that holds the customers
        (
            "transactions.csv",
            "customer_id,name,email,country,segment,status",
            r"transactions.csv: required column 'txn_id' is missing; the source's columns are the "
            r"customer table's \(customer_id, name, .*\): are sources.transactions and "
            r"sources.customers swapped in the incident file\?",
        ),
        (
            "customers.csv",
            "txn_id,customer_id,amount_minor,currency,status,error_code,created_at,updated_at",
            r"customers.csv: required column 'name' is missing; the source's columns are the "
            r"transaction table's \(txn_id, .*\): are sources.transactions and sources.customers",
        ),
        # nothing like it: the columns the file has are named, to rename one
        (
            "customers.csv",
            "cust_id,name,email,country,segment,status",
            r"customers.csv: required column 'customer_id' is missing; the source's columns "
            r"are cust_id, name, email, country, segment, status",
        ),
    ],
)
def test_a_csv_file_without_a_contract_column_fails_the_preflight_check(
    tmp_path, table, header, message
):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    write_csv_tables(path.parent)
    (path.parent / table).write_text(header + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        tables.check(incident.load(with_sources(path, "csv.toml", **CSV_SOURCES)))


@pytest.mark.parametrize("table", ["transactions", "customers"])
def test_a_csv_file_of_its_header_alone_without_a_line_end_is_a_table_of_no_row(tmp_path, table):
    # a file cut to its header line, without its line end: "not a readable CSV file (CSV parse
    # error: Empty CSV file or block: cannot infer number of columns)", where the same header
    # with its line end is a table of no row (which the gate refuses beside credits to pay)
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    write_csv_tables(path.parent)
    file = path.parent / f"{table}.csv"
    file.write_bytes(file.read_bytes().split(b"\n")[0])
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    staged = {t.name: t.rows for t in tables.stage(duckdb.connect(), loaded)}
    assert staged[f"{table}.csv"] == 0


def test_each_kind_of_source_is_parsed_from_the_incident_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENTS_DSN", "postgresql://credits:hunter2@db.internal/payments")
    postgres = {"postgres": "env:PAYMENTS_DSN"}
    path = write_incident(
        tmp_path / "inc",
        sources={
            "transactions": {**postgres, "table": "public.transactions"},
            "customers": {
                **postgres,
                "query": "select * from crm.customers",
                "statement_timeout": "30 s",
                "lock_timeout": "500ms",
                "slack": "2 hours",
            },
        },
    )
    loaded = incident.load(path)
    assert loaded.sources.transactions == TableSource(
        "postgres",
        table="public.transactions",
        dsn_env="PAYMENTS_DSN",
        statement_timeout=timedelta(minutes=5),  # the defaults
        lock_timeout=timedelta(seconds=1),
        slack=timedelta(days=1),
    )
    assert loaded.sources.customers == TableSource(
        "postgres",
        query="select * from crm.customers",
        dsn_env="PAYMENTS_DSN",
        statement_timeout=timedelta(seconds=30),
        lock_timeout=timedelta(milliseconds=500),
        slack=timedelta(hours=2),
    )
    assert "hunter2" not in repr(loaded)  # the secret stays in the environment
    files = incident.load(
        with_sources(
            path, "files.toml", transactions="t.CSV", customers=DUCKDB_SOURCES["customers"]
        )
    ).sources
    assert files.transactions == TableSource("csv", path=path.parent / "t.CSV")
    assert files.customers == TableSource(
        "duckdb", path=path.parent / "payments.duckdb", table="customers"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # a DSN in the file is refused, and not repeated in the message
        (
            {"postgres": "postgresql://u:hunter2@db/payments", "table": "t"},
            r'sources.transactions.postgres: must be "env:NAME"',
        ),
        (
            {"postgres": "env:CREDITS_NO_SUCH_VARIABLE", "table": "t"},
            r"postgres: the environment variable CREDITS_NO_SUCH_VARIABLE is not set",
        ),
        ({"postgres": "env:PAYMENTS_DSN"}, r"sources.transactions: give exactly one of 'table' or"),
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t", "query": "select 1"},
            r"give exactly one of 'table' or 'query'",
        ),
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t", "statment_timeout": "1s"},
            r"sources.transactions.statment_timeout: unknown key; did you mean 'statement_timeout'",
        ),
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t", "lock_timeout": "0s"},
            r"sources.transactions.lock_timeout: must be at least 1ms",
        ),
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t", "slack": "a day"},
            r"sources.transactions.slack: 'a day' is not a duration",
        ),
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t", "slack": "1 fortnight"},
            r"is not a duration",
        ),
        # a table name goes into SQL text: only plain identifiers pass
        (
            {"postgres": "env:PAYMENTS_DSN", "table": "t; drop table t"},
            r"sources.transactions.table: must be a table name",
        ),
        ({"duckdb": "payments.duckdb"}, r"sources.transactions.table: is required"),
        (
            {"duckdb": "payments.duckdb", "table": "t", "postgres": "env:PAYMENTS_DSN"},
            r"give exactly one of 'duckdb' \(a file\) or 'postgres'",
        ),
        (
            {"duckdb": "payments.duckdb", "table": "t", "slack": "1 day"},
            r"sources.transactions.slack: unknown key",
        ),
        ("transactions.json", r"sources.transactions: name a .parquet or .csv file"),
        (42, r"sources.transactions: must be a file name or a table"),
    ],
)
def test_a_wrong_source_is_a_config_error_naming_the_key(tmp_path, monkeypatch, value, message):
    monkeypatch.setenv("PAYMENTS_DSN", "postgresql://db/payments")
    monkeypatch.delenv("CREDITS_NO_SUCH_VARIABLE", raising=False)
    path = write_incident(tmp_path / "inc", sources={"transactions": value})
    with pytest.raises(ConfigError, match=message) as raised:
        incident.load(path)
    assert "hunter2" not in str(raised.value)


def duckdb_incident(tmp_path, amount_type="bigint", amount="1000"):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_duckdb_tables(path.parent)
    with duckdb.connect(str(path.parent / "payments.duckdb")) as con:
        con.execute(f"alter table transactions alter amount_minor type {amount_type}")
        con.execute("update transactions set amount_minor = ?", [amount])  # cast from text
    return incident.load(with_sources(path, "duckdb.toml", **DUCKDB_SOURCES))


@pytest.mark.parametrize(
    ("amount_type", "amount", "message"),
    [
        (
            "double",
            "1000",
            r"payments.duckdb:transactions: column 'amount_minor' is double, "
            r"expected integer",
        ),
        ("varchar", "1000", r"column 'amount_minor' is string, expected integer"),
    ],
)
def test_a_duckdb_column_of_the_wrong_type_fails_the_preflight_check(
    tmp_path, amount_type, amount, message
):
    with pytest.raises(InputError, match=message):
        tables.check(duckdb_incident(tmp_path, amount_type, amount))


@pytest.mark.parametrize(
    ("amount", "staged", "message"),
    [
        ("1000.00", 1000, None),  # an exact decimal holding a whole number
        (
            "12.50",
            None,
            r"payments.duckdb:transactions: column 'amount_minor' is 12.50 for "
            r"txn_id t1: not a whole number of minor units",
        ),
    ],
)
def test_a_decimal_amount_is_converted_exactly_or_stops_the_run(tmp_path, amount, staged, message):
    loaded = duckdb_incident(tmp_path, "decimal(18, 2)", amount)
    con = duckdb.connect()
    if message:
        with pytest.raises(InputError, match=message):
            tables.stage(con, loaded)
    else:
        tables.stage(con, loaded)
        assert con.execute("select amount_minor from stg_transactions").fetchall() == [(staged,)]


def _sqlite(path):
    """Another program's database in place of `path`: SQLite's."""
    path.unlink()
    database = sqlite3.connect(path)
    database.execute("create table transactions (txn_id text)")
    database.commit()
    database.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda folder: (folder / "payments.duckdb").unlink(),
            r"payments.duckdb:transactions: file not found",
        ),
        (
            lambda folder: (folder / "payments.duckdb").write_text("not a database"),
            r"payments.duckdb:transactions: not a readable DuckDB database",
        ),
        (  # another program's database named .duckdb: DuckDB went online for its extension
            lambda folder: _sqlite(folder / "payments.duckdb"),
            r"payments.duckdb:transactions: a SQLite database, not a DuckDB one: export the "
            r"table to Parquet or CSV \(sqlite3 -csv -header FILE 'select \* from TABLE' > "
            r"TABLE.csv\) and name that file in the incident file$",
        ),
        (
            lambda folder: (
                duckdb.connect(str(folder / "payments.duckdb"))
                .execute("drop table transactions")
                .close()
            ),
            r"payments.duckdb:transactions: the database has no table 'transactions'",
        ),
    ],
)
def test_a_missing_or_broken_duckdb_source_is_an_input_error(tmp_path, change, message):
    loaded = duckdb_incident(tmp_path)
    change(loaded.path.parent)
    with pytest.raises(InputError, match=message):
        tables.check(loaded)


def test_a_table_time_in_nanoseconds_is_truncated_to_the_microsecond_not_rounded(tmp_path):
    # pandas writes nanoseconds: 13:59:59.9999995 is before a window that starts at 14:00, and
    # rounding it up to 14:00:00 would bring it in (a log's time is truncated alike)
    import pyarrow as pa

    path = write_incident(tmp_path / "inc", transactions=[txn("t1"), txn("t2")])
    table = pq.read_table(path.parent / "transactions.parquet")
    at = pa.array([1736258399999999999, 1736258399999999500], pa.timestamp("ns", tz="UTC"))
    index = table.schema.get_field_index("created_at")
    pq.write_table(table.set_column(index, "created_at", at), path.parent / "transactions.parquet")
    con = duckdb.connect()
    tables.stage(con, incident.load(path))
    found = con.execute(
        "select strftime(created_at, '%H:%M:%S.%f') from stg_transactions order by txn_id"
    ).fetchall()
    assert found == [("13:59:59.999999",), ("13:59:59.999999",)]


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_table_source_that_is_no_regular_file_is_named(tmp_path, kind):
    # A folder was a bug's exit 1 (IsADirectoryError); a named pipe made the run wait forever.
    # A link to a device was named by its target alone ("/dev/zero: /dev/zero is not a regular
    # file"), without the incident file and the key that names it.
    import os

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    (path.parent / "transactions.csv").unlink()
    if kind == "folder":
        (path.parent / "transactions.csv").mkdir()
    elif kind == "fifo":
        os.mkfifo(path.parent / "transactions.csv")
    else:
        (path.parent / "transactions.csv").symlink_to("/dev/zero")
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    shown = "/dev/zero" if kind == "device" else "transactions.csv"
    for step in (tables.check, lambda loaded: tables.stage(duckdb.connect(), loaded)):
        with pytest.raises(
            InputError,
            match=rf"^{loaded.path}: sources.transactions: .*{shown} is (a folder|not a regular f)",
        ):
            step(loaded)


def test_a_parquet_column_twice_is_named(tmp_path):
    # pyarrow could not pick one: a bug's exit 1 (KeyError)
    import pyarrow as pa

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    table = pq.read_table(path.parent / "transactions.parquet")
    doubled = pa.Table.from_arrays(
        [*table.columns, table.column("txn_id")], names=[*table.column_names, "txn_id"]
    )
    pq.write_table(doubled, path.parent / "transactions.parquet")
    with pytest.raises(InputError, match=r"the file has column\(s\) txn_id twice"):
        tables.stage(duckdb.connect(), incident.load(path))


def test_the_smallest_64_bit_amount_is_out_of_range_not_small(tmp_path):
    # `abs` wrapped -2**63 round to itself: it passed, and a sum then overflowed (exit 1)
    path = write_incident(
        tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1", amount_minor=-(2**63))]
    )
    with pytest.raises(InputError, match=r"amount_minor' is -9223372036854775808 for txn_id"):
        tables.stage(duckdb.connect(), incident.load(path))


def test_a_table_this_user_cannot_read_is_the_machine_refusing(tmp_path, monkeypatch):
    # "not a readable Parquet file (Permission denied)": exit 2, where a permission is exit 4
    import os

    from transforms.errors import StorageError

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    real = os.access
    table = path.parent / "transactions.parquet"
    monkeypatch.setattr(os, "access", lambda p, mode: False if p == table else real(p, mode))
    with pytest.raises(StorageError, match=r"transactions.parquet cannot be read by this user"):
        tables.stage(duckdb.connect(), incident.load(path))


def test_a_duckdb_source_another_process_writes_is_the_machine_refusing(tmp_path):
    # exit 4, as a warehouse kept busy is: it was exit 2, "not a readable DuckDB database"
    import subprocess
    import sys

    from transforms.errors import StorageError

    loaded = duckdb_incident(tmp_path)
    database = str(loaded.path.parent / "payments.duckdb")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb; c = duckdb.connect({database!r}); print(); input()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        holder.stdout.readline()  # the writer's connection is open
        with pytest.raises(StorageError, match=r"payments.duckdb:transactions: another process"):
            tables.check(loaded)
    finally:
        holder.communicate("\n")


def test_a_blank_row_of_the_customer_csv_is_named_with_its_line(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    write_csv_tables(path.parent)
    with open(path.parent / "customers.csv", "a", encoding="utf-8") as handle:
        handle.write(",,,,,\r\n")
    lines = (path.parent / "customers.csv").read_text(encoding="utf-8").splitlines()
    loaded = incident.load(with_sources(path, "csv.toml", **CSV_SOURCES))
    with pytest.raises(InputError, match=rf"customers.csv: line {len(lines)}: every column is"):
        tables.stage(duckdb.connect(), loaded)
