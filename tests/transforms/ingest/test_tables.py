"""The table contract: a missing column or a wrong type names the file and the column."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.builders import txn, write_incident
from transforms import files
from transforms.errors import InputError
from transforms.ingest import incident, tables


def rewrite(path, change):
    pq.write_table(change(pq.read_table(path)), path)


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        (
            "transactions.parquet",
            lambda t: t.drop_columns(["amount_minor"]),
            r"transactions.parquet: required column 'amount_minor' is missing",
        ),
        (
            "transactions.parquet",
            lambda t: t.set_column(2, "amount_minor", pa.array([12.5], pa.float64())),
            r"transactions.parquet: column 'amount_minor' is double, expected integer",
        ),
        (
            "transactions.parquet",
            lambda t: t.set_column(2, "amount_minor", pa.array(["12.50"])),
            r"column 'amount_minor' is string, expected integer",
        ),
        (
            "transactions.parquet",
            lambda t: t.set_column(6, "created_at", pa.array(["2025-01-07"])),
            r"column 'created_at' is string, expected timestamp",
        ),
        (
            "customers.parquet",
            lambda t: t.drop_columns(["segment"]),
            r"customers.parquet: required column 'segment' is missing",
        ),
        (  # what the file has instead is named
            "transactions.parquet",
            lambda t: t.rename_columns(["TXN_ID", *t.column_names[1:]]),
            r"required column 'txn_id' is missing; the source has 'TXN_ID': names are matched ",
        ),
        (
            "customers.parquet",
            lambda t: t.set_column(0, "customer_id", pa.array([1, 2, 3], pa.int64())),
            r"customers.parquet: column 'customer_id' is int64, expected text",
        ),
    ],
)
def test_a_table_breaking_its_column_contract_is_an_input_error(tmp_path, table, change, message):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    rewrite(path.parent / table, change)
    with pytest.raises(InputError, match=message):
        tables.check(incident.load(path))


def test_a_file_that_is_not_parquet_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    (path.parent / "customers.parquet").write_text("customer_id,name\nc1,x\n")
    with pytest.raises(InputError, match=r"customers.parquet: not a readable Parquet file"):
        tables.check(incident.load(path))


def test_a_missing_table_file_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    (path.parent / "transactions.parquet").unlink()
    with pytest.raises(InputError, match=r"transactions.parquet: file not found") as raised:
        tables.check(incident.load(path))
    looked = path.parent / "transactions.parquet"
    assert f"(looked for {looked}; a path in the incident file is read from" in str(raised.value)


def test_a_parquet_page_failing_its_checksum_is_an_input_error_not_a_changed_value(tmp_path):
    # Spark and parquet-mr write a CRC in each page header; a byte changed on disk or on the
    # wire (here a transaction id's) was read as a different id, unsaid
    path = write_incident(tmp_path / "inc", transactions=[txn("txn-needle-0001")])
    table = path.parent / "transactions.parquet"
    pq.write_table(
        pq.read_table(table),
        table,
        write_page_checksum=True,
        compression="NONE",
        use_dictionary=False,
        write_statistics=False,
    )
    data = table.read_bytes()
    assert data.count(b"txn-needle-0001") == 1  # in its data page only
    table.write_bytes(data.replace(b"txn-needle-0001", b"txn-neefle-0001"))
    with pytest.raises(InputError, match=r"transactions.parquet: not a readable Parquet file"):
        tables.stage(duckdb.connect(), incident.load(path))


def test_a_timestamp_without_zone_is_read_as_utc(tmp_path):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    rewrite(
        path.parent / "transactions.parquet",
        lambda t: t.set_column(6, "created_at", t["created_at"].cast(pa.timestamp("us"))),
    )
    from tests.builders import reconcile_incident, rows

    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "class") == [("t1", "table_only")]


def test_a_parquet_table_is_identified_by_its_file_hash_and_rows(tmp_path):
    path = write_incident(tmp_path / "inc", transactions=[txn("t1"), txn("t2")])
    read = tables.stage(duckdb.connect(), incident.load(path))
    assert read == [
        tables.TableFile(
            "transactions.parquet", files.sha256(path.parent / "transactions.parquet"), 2
        ),
        tables.TableFile("customers.parquet", files.sha256(path.parent / "customers.parquet"), 3),
    ]


def test_a_whole_decimal_amount_beyond_64_bits_is_named_out_of_range_not_fractional(tmp_path):
    from tests.builders import failure
    from transforms import db

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    big = pa.array([10**30], pa.decimal128(38, 0))
    rewrite(path.parent / "transactions.parquet", lambda t: t.set_column(2, "amount_minor", big))
    with pytest.raises(
        InputError, match=r"is 1000000000000000000000000000000 for txn_id t1: beyond ±"
    ):
        tables.stage(db.connect(), incident.load(path))


def test_a_table_amount_above_any_payment_is_an_input_error_naming_the_row(tmp_path):
    from tests.builders import failure
    from transforms import db

    path = write_incident(
        tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1", amount_minor=2**62)]
    )
    with pytest.raises(
        InputError,
        match=r"transactions.parquet: column 'amount_minor' is 4611686018427387904 for txn_id "
        r"t1: beyond ±10,000,000,000,000,000 minor units",
    ):
        tables.stage(db.connect(), incident.load(path))


def _not_utf8(values: list[bytes]) -> pa.Array:
    """A Parquet string column holding the bytes as they are (pyarrow checks none on write)."""
    offsets = pa.array(
        [sum(len(v) for v in values[:i]) for i in range(len(values) + 1)], pa.int32()
    )
    data = pa.py_buffer(b"".join(values))
    return pa.Array.from_buffers(pa.string(), len(values), [None, offsets.buffers()[1], data])


@pytest.mark.parametrize(
    ("table", "column", "values", "message"),
    [
        # a customer id of the transaction table: DuckDB stopped on it with a traceback
        (
            "transactions",
            "customer_id",
            [b"c1", b"c\xff2"],
            r"transactions.parquet: column 'customer_id' holds text that is not UTF-8 for "
            r"txn_id 't2' \('c\\xff2'\)",
        ),
        # the key itself: named as its bytes read (DuckDB's error made the database unusable)
        (
            "transactions",
            "txn_id",
            [b"t1", b"t\xff2"],
            r"transactions.parquet: column 'txn_id' holds text that is not UTF-8 for txn_id "
            r"'t\\xff2'",
        ),
        (
            "customers",
            "name",
            [b"A", b"B\xc3"],
            r"customers.parquet: column 'name' holds text that is not UTF-8 for customer_id 'c2'",
        ),
        # 300 MB of text in one value: DuckDB ran out of memory, a traceback (exit 1)
        (
            "transactions",
            "customer_id",
            [b"c1", b"c" * 65_537],
            r"^transactions.parquet: column 'customer_id' is 65,537 bytes long for txn_id 't2': ",
        ),
        (  # the key itself: its first 32 characters shown
            "transactions",
            "txn_id",
            [b"t1", b"t" * 70_000],
            rf"^transactions.parquet: column 'txn_id' is 70,000 bytes long for txn_id "
            rf"'{'t' * 32}\.\.\.': longer than the 65,536 bytes a table's text may be",
        ),
        ("customers", "name", [b"A", b"B" * 65_536], None),  # at the limit: read
    ],
)
def test_parquet_text_that_is_not_utf8_or_too_long_is_an_input_error_naming_the_row(
    tmp_path, table, column, values, message
):
    from tests.builders import customer, failure
    from transforms import db

    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1")],
        transactions=[txn("t1"), txn("t2", customer_id="c2")],
        customers=[customer("c1"), customer("c2")],
    )

    def change(t: pa.Table) -> pa.Table:
        return t.set_column(t.schema.get_field_index(column), column, _not_utf8(values))

    rewrite(path.parent / f"{table}.parquet", change)
    if message is None:
        tables.stage(db.connect(), incident.load(path))
        return
    with pytest.raises(InputError, match=message):
        tables.stage(db.connect(), incident.load(path))


@pytest.mark.parametrize("long", [False, True], ids=["read", "too long"])
def test_parquet_text_as_string_view_is_checked_as_text(tmp_path, long):
    # pyarrow writes a string_view column's type into the file; its length has no kernel of its
    # own, and the length check stopped every such table as "not a readable Parquet file"
    from tests.builders import customer, failure
    from transforms import db

    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1")],
        transactions=[txn("t1"), txn("t2", customer_id="c2")],
        customers=[customer("c1"), customer("c2")],
    )
    ids = pa.array(["c1", "c" * 65_537 if long else "c2"], pa.string_view())
    rewrite(
        path.parent / "transactions.parquet",
        lambda t: t.set_column(t.schema.get_field_index("customer_id"), "customer_id", ids),
    )
    assert pq.read_schema(path.parent / "transactions.parquet").field("customer_id").type == (
        pa.string_view()
    )
    if not long:
        tables.stage(db.connect(), incident.load(path))
        return
    with pytest.raises(InputError, match=r"column 'customer_id' is 65,537 bytes long for txn_id"):
        tables.stage(db.connect(), incident.load(path))


@pytest.mark.parametrize(
    ("ticks", "shown"),
    [
        # DuckDB's infinity, as a DuckDB or Parquet table carries it: a PostgreSQL warehouse's
        # load stopped on it (exit 4, "writing COPY data"), a notebook's frame could not show it
        (2**63 - 1, r"294247-01-10T04:00:54Z \(how a database's 'infinity' is read\)"),
        (253402300800 * 10**6, r"10000-01-01T00:00:00Z"),  # the first instant past 9999
        (-62135596801 * 10**6, r"0-12-31T23:59:59Z"),  # the last instant before the year 1
    ],
)
def test_a_creation_time_outside_the_years_1_to_9999_is_an_input_error_naming_the_row(
    tmp_path, ticks, shown
):
    from tests.builders import failure
    from transforms import db

    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    at = pa.array([ticks], pa.timestamp("us", tz="UTC"))
    rewrite(path.parent / "transactions.parquet", lambda t: t.set_column(6, "created_at", at))
    with pytest.raises(
        InputError,
        match=rf"^transactions.parquet: column 'created_at' is {shown} for txn_id t1: outside "
        r"the years 1 to 9999",
    ):
        tables.stage(db.connect(), incident.load(path))


def test_a_creation_time_in_the_years_1_and_9999_and_any_update_time_are_read(tmp_path):
    # updated_at is never compared nor stored: its "never" (infinity) does not stop the run
    from datetime import UTC, datetime

    from transforms import db

    path = write_incident(tmp_path / "inc", transactions=[txn("t1"), txn("t2")])
    created = pa.array(
        [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)],
        pa.timestamp("us", tz="UTC"),
    )
    updated = pa.array([2**63 - 1, 0], pa.timestamp("us", tz="UTC"))
    rewrite(
        path.parent / "transactions.parquet",
        lambda t: t.set_column(6, "created_at", created).set_column(7, "updated_at", updated),
    )
    con = db.connect()
    tables.stage(con, incident.load(path))
    found = con.sql("select year(created_at) from stg_transactions order by txn_id").fetchall()
    assert found == [(1,), (9999,)]


def test_an_int96_time_past_2262_is_read_as_written_not_wrapped(tmp_path):
    # Spark and Hive write INT96 by default; read in nanoseconds, 9999-12-31 ("never") was
    # 1816-03-29, unsaid
    from datetime import UTC, datetime

    from transforms import db

    path = write_incident(tmp_path / "inc", transactions=[txn("t1")])
    table = pq.read_table(path.parent / "transactions.parquet")
    never = pa.array([datetime(9999, 12, 31)], pa.timestamp("us"))
    pq.write_table(
        table.set_column(7, "updated_at", never),
        path.parent / "transactions.parquet",
        use_deprecated_int96_timestamps=True,
    )
    con = db.connect()
    tables.stage(con, incident.load(path))
    [(updated,)] = con.sql("select updated_at from stg_transactions").fetchall()
    assert updated == datetime(9999, 12, 31, tzinfo=UTC)
