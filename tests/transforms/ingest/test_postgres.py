"""PostgreSQL sources against a real server: the same credit file, and a read that is safe.

The server is the one `CREDITS_TEST_PG_DSN` names (default postgresql://postgres@127.0.0.1:5432/
test). Without one these tests skip, except when CI=true: there they fail. Each test works in a
schema of its own, dropped afterwards. The test side talks to the server through ADBC as well.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import adbc_driver_postgresql.dbapi
import duckdb
import pyarrow.parquet as pq
import pytest

from tests import stores
from tests.builders import (
    failure,
    reconcile_incident,
    txn,
    with_sources,
    write_incident,
)
from tests.waiting import until
from transforms import db, sample
from transforms.errors import InputError
from transforms.ingest import incident, logs, postgres, tables
from transforms.reconcile import outputs

ENV = "env:PAYMENTS_DSN"


@pytest.fixture(scope="module")
def dsn() -> str:
    return stores.server()


@pytest.fixture
def schema(dsn, monkeypatch):
    """A schema of the test's own; PAYMENTS_DSN points at the server."""
    name = f"credits_test_{uuid.uuid4().hex[:12]}"
    stores.execute(dsn, f"create schema {name}")
    monkeypatch.setenv("PAYMENTS_DSN", dsn)
    yield name
    stores.execute(dsn, f"drop schema {name} cascade")


def load(dsn: str, schema: str, folder, amount_type: str = "numeric(18, 2)") -> None:
    """Copies the folder's Parquet tables into the schema; amounts as PostgreSQL NUMERIC."""
    with (
        adbc_driver_postgresql.dbapi.connect(dsn, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        for table in ("transactions", "customers"):
            rows = pq.read_table(folder / f"{table}.parquet")
            cursor.adbc_ingest(table, rows, mode="create", db_schema_name=schema)
        cursor.execute(f"alter table {schema}.transactions alter amount_minor type {amount_type}")


def postgres_sources(schema: str, **transactions) -> dict:
    return {
        "transactions": {"postgres": ENV, "table": f"{schema}.transactions", **transactions},
        "customers": {"postgres": ENV, "table": f"{schema}.customers"},
    }


def outputs_of(path, work_dir) -> tuple[duckdb.DuckDBPyConnection, dict[str, bytes]]:
    work_dir.mkdir()
    con = reconcile_incident(path, work_dir)
    written = {}
    for table, columns, order in (
        ("credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER),
        ("exceptions", outputs.EXCEPTION_COLUMNS, outputs.EXCEPTION_ORDER),
    ):
        outputs.write_csv(con, table, columns, order, work_dir / f"{table}.csv")
        written[table] = (work_dir / f"{table}.csv").read_bytes()
    return con, written


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The sample incident and what the Parquet path makes of it."""
    folder = tmp_path_factory.mktemp("sample")
    sample.generate(folder, scale=1)
    path = folder / "INC-2025-01-07.toml"
    con, written = outputs_of(path, tmp_path_factory.mktemp("parquet") / "work")
    return path, con, written


def count(con, table: str) -> int:
    return con.table(table).aggregate("count(*)").fetchall()[0][0]


@pytest.mark.parametrize("slack", ["1 day", "0s"])
def test_the_sample_read_from_postgres_gives_byte_identical_outputs(
    dsn, schema, generated, tmp_path, slack
):
    path, parquet_con, expected = generated
    load(dsn, schema, path.parent)
    sources = postgres_sources(schema, slack=slack)
    con, found = outputs_of(with_sources(path, "pg.toml", **sources), tmp_path / "pg")
    assert found == expected
    assert expected["credits"].count(b"\n") > 100
    # Only the rows a run needs. The sample is one day: a day's slack reads all transactions;
    # none reads those created in the window and the candidates' rows created outside it.
    loaded = incident.load(path)
    window = {"window_start": loaded.window_start, "window_end": loaded.window_end}
    candidates = {key for (key,) in db.run(parquet_con, "candidate_txn_ids").fetchall()}
    needed = {
        key
        for (key, created) in parquet_con.table("stg_transactions")
        .select("txn_id", "created_at")
        .fetchall()
        if key in candidates or loaded.window_start <= created < loaded.window_end
    }
    customers = {
        key for (key,) in db.run(parquet_con, "candidate_customer_ids", **window).fetchall()
    }
    known = {key for (key,) in parquet_con.table("stg_customers").select("customer_id").fetchall()}
    assert count(con, "stg_transactions") == (
        count(parquet_con, "stg_transactions") if slack == "1 day" else len(needed)
    )
    assert len(needed) < count(parquet_con, "stg_transactions")
    assert count(con, "stg_customers") == len(customers & known) < len(known)


def small(tmp_path, dsn, schema, amount_type="numeric(18, 2)", **sources):
    """A small incident whose tables are in the schema; returns it loaded, logs staged."""
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1"), failure("t2")],
        transactions=[
            txn("t1"),
            txn("t2", customer_id="c2"),
            txn("t3", customer_id="c3", status="succeeded", error_code=None),  # not a candidate
        ],
    )
    load(dsn, schema, path.parent, amount_type)
    loaded = incident.load(with_sources(path, "pg.toml", **{**postgres_sources(schema), **sources}))
    con = db.connect()
    logs.stage(con, loaded, tmp_path)
    return con, loaded


def ours(dsn: str, schema: str) -> list[tuple]:
    """Our connections reading the schema: pid, application_name, state, xid, query."""
    return stores.fetch(
        dsn,
        "select pid, application_name, state, backend_xid::text, query from pg_stat_activity"
        " where query like $1 and pid <> pg_backend_pid()",
        f"%{schema}.%",
    )


def wait_until_closed(dsn: str, schema: str) -> None:
    """A closed connection leaves pg_stat_activity a moment after the client lets go."""
    until(lambda: not ours(dsn, schema), seconds=5)
    assert ours(dsn, schema) == []


def test_a_read_holds_one_named_read_only_connection_and_only_access_share_locks(
    dsn, schema, tmp_path
):
    # Queries that sleep keep each read running long enough to be watched from outside.
    slow = {
        "transactions": {
            "postgres": ENV,
            "query": f"select t.* from {schema}.transactions as t cross join pg_sleep(0.5)",
        },
        "customers": {
            "postgres": ENV,
            "query": f"select c.* from {schema}.customers as c cross join pg_sleep(1)",
        },
    }
    con, loaded = small(tmp_path, dsn, schema, **slow)
    staged: list = []
    reading = threading.Thread(target=lambda: staged.extend(tables.stage(con, loaded)))
    reading.start()
    seen, locks = [], set()
    while reading.is_alive():
        found = ours(dsn, schema)
        seen.append(found)
        for pid, *_ in found:
            modes = stores.fetch(
                dsn, "select mode from pg_locks where pid = $1 and locktype = 'relation'", pid
            )
            locks |= {mode for (mode,) in modes}
        time.sleep(0.05)
    reading.join()
    assert [t.rows for t in staged] == [3, 2]  # c3's only payment is no candidate: not read
    assert {len(found) for found in seen} <= {0, 1}  # never two connections at once
    rows = [row for found in seen for row in found]
    assert {pid for pid, *_ in rows} == {rows[0][0]}  # one connection for both tables
    assert {name for _, name, *_ in rows} == {postgres.APPLICATION_NAME}
    assert {xid for _, _, _, xid, _ in rows} == {None}  # read-only: no transaction id, no write
    queries = " ".join(query for *_, query in rows if query.startswith("COPY"))
    assert f"{schema}.transactions" in queries and f"{schema}.customers" in queries
    assert locks == {"AccessShareLock"}  # the weakest lock, as any SELECT
    wait_until_closed(dsn, schema)


def test_the_transaction_is_read_only(dsn, schema, tmp_path):
    stores.execute(
        dsn,
        f"create table {schema}.written (n int)",
        f"create function {schema}.write() returns int language sql"
        f" as 'insert into {schema}.written values (1) returning 1'",
    )
    query = f"select t.* from {schema}.transactions as t where {schema}.write() = 1"
    con, loaded = small(tmp_path, dsn, schema, transactions={"postgres": ENV, "query": query})
    with pytest.raises(InputError, match=r"postgres:query: PostgreSQL said: .*read-only"):
        tables.stage(con, loaded)
    assert stores.fetch(dsn, f"select count(*) from {schema}.written") == [(0,)]
    wait_until_closed(dsn, schema)


def test_a_read_past_its_statement_timeout_stops_with_a_clear_error_and_stages_nothing(
    dsn, schema, tmp_path
):
    query = f"select t.* from {schema}.transactions as t cross join pg_sleep(3)"
    transactions = {"postgres": ENV, "query": query, "statement_timeout": "300ms"}
    con, loaded = small(tmp_path, dsn, schema, transactions=transactions)
    with pytest.raises(
        InputError,
        match=r"^postgres:query: the read took longer than statement_timeout=300ms; nothing "
        r"was written$",
    ):
        tables.stage(con, loaded)
    assert "stg_transactions" not in {name for (name,) in con.execute("show tables").fetchall()}
    wait_until_closed(dsn, schema)


def test_a_table_locked_by_another_session_is_given_up_after_lock_timeout(dsn, schema, tmp_path):
    con, loaded = small(tmp_path, dsn, schema)
    with (
        adbc_driver_postgresql.dbapi.connect(dsn, autocommit=True) as other,
        other.cursor() as cursor,
    ):
        # Like the service of the last outage: a transaction holding the strongest lock.
        cursor.execute("begin")
        cursor.execute(f"lock table {schema}.transactions in access exclusive mode")
        with pytest.raises(
            InputError,
            match=rf"^postgres:{schema}.transactions: another session held a lock on the table "
            r"for longer than lock_timeout=1s; nothing was written",
        ):
            tables.stage(con, loaded)
        cursor.execute("rollback")
    wait_until_closed(dsn, schema)


def test_rows_stream_in_record_batches_of_bounded_size(dsn, schema):
    stores.execute(
        dsn,
        f"create table {schema}.transactions as select 'txn_' || g as txn_id,"
        " 'cus_' || g % 1000 as customer_id, g::numeric(18, 0) as amount_minor,"
        " 'USD' as currency, 'failed' as status, 'DB_POOL_TIMEOUT' as error_code,"
        " timestamptz '2025-01-07 20:00Z' as created_at, timestamptz '2025-01-07 20:00Z'"
        " as updated_at from generate_series(1, 400000) as g",
    )
    source = incident.TableSource(
        "postgres",
        table=f"{schema}.transactions",
        dsn_env="PAYMENTS_DSN",
        statement_timeout=timedelta(minutes=1),
        lock_timeout=timedelta(seconds=1),
    )
    window = (datetime(2025, 1, 7, tzinfo=UTC), datetime(2025, 1, 8, tzinfo=UTC))
    with postgres.session(source, "postgres:transactions") as session:
        reader = session.read("pg_transactions", source, "t", lambda schema: None, window, [])
        sizes = [(batch.num_rows, batch.nbytes) for batch in reader]
    assert sum(rows for rows, _ in sizes) == 400_000
    assert len(sizes) > 2 and max(size for _, size in sizes) < 2 * postgres.BATCH_BYTES


@pytest.mark.parametrize(
    ("amount_type", "message"),
    [
        ("numeric(18, 3)", r"column 'amount_minor' is 1000.001 for txn_id t1: not a whole number"),
        ("double precision", r"column 'amount_minor' is double, expected integer"),
    ],
)
def test_an_amount_that_is_not_a_whole_number_type_or_value_stops_the_read(
    dsn, schema, tmp_path, amount_type, message
):
    con, loaded = small(tmp_path, dsn, schema, amount_type)
    if "numeric" in amount_type:
        stores.execute(
            dsn, f"update {schema}.transactions set amount_minor = 1000.001 where txn_id = 't1'"
        )
    with pytest.raises(InputError, match=rf"^postgres:{schema}.transactions: {message}"):
        tables.stage(con, loaded)
    wait_until_closed(dsn, schema)


@pytest.mark.parametrize(
    ("table", "column", "to", "message"),
    [  # JPY 1500 as money read as 150000; 'c1' as char(4) read as 'c1  ', an unknown customer
        ("transactions", "amount_minor", "money", "is PostgreSQL money, which is read as"),
        ("customers", "customer_id", "char(4)", "is PostgreSQL char(n), padded with blanks"),
    ],
)
def test_a_column_the_driver_would_misread_is_refused_before_any_row(
    dsn, schema, tmp_path, table, column, to, message
):
    con, loaded = small(tmp_path, dsn, schema)
    stores.administer(
        dsn,
        "select format('alter table %I.%I alter column %I type %s using %I::%s', "
        "$1, $2, $3, $4, $3, $4)",
        schema,
        table,
        column,
        to,
    )
    said = re.escape(f"postgres:{schema}.{table}: column '{column}' {message}")
    with pytest.raises(InputError, match=f"^{said}"):
        tables.stage(con, loaded)
    wait_until_closed(dsn, schema)


def test_a_missing_column_is_named_before_any_row_is_read(dsn, schema, tmp_path):
    con, loaded = small(tmp_path, dsn, schema)
    stores.execute(dsn, f"alter table {schema}.customers drop column segment")
    with pytest.raises(
        InputError, match=rf"^postgres:{schema}.customers: required column 'segment' is missing"
    ):
        tables.stage(con, loaded)
    assert "stg_transactions" in {name for (name,) in con.execute("show tables").fetchall()}


def test_a_table_the_role_may_not_read_is_the_machine_refusing(dsn, schema, tmp_path, monkeypatch):
    # exit 4, as a table file this user cannot read: it was exit 2, a bad input
    from urllib.parse import urlsplit, urlunsplit

    from transforms.errors import StorageError

    con, loaded = small(tmp_path, dsn, schema)
    role = f"{schema}_reader"
    stores.administer(dsn, "select format('create role %I login', $1)", role)
    try:
        stores.administer(
            dsn, "select format('grant usage on schema %I to %I', $1, $2)", schema, role
        )
        parts = urlsplit(dsn)
        netloc = f"{role}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        monkeypatch.setenv("PAYMENTS_DSN", urlunsplit(parts._replace(netloc=netloc)))
        with pytest.raises(StorageError, match=r"permission denied for table transactions; grant"):
            tables.stage(con, loaded)
    finally:
        stores.administer(dsn, "select format('drop owned by %I', $1)", role)
        stores.administer(dsn, "select format('drop role %I', $1)", role)


def test_a_server_that_cannot_be_reached_is_an_input_error_that_keeps_the_secret(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PAYMENTS_DSN", "postgresql://credits:hunter2@127.0.0.1:1/payments")
    path = write_incident(tmp_path / "inc", lines=[failure("t1")])
    loaded = incident.load(with_sources(path, "pg.toml", **postgres_sources("public")))
    con = db.connect()
    logs.stage(con, loaded, tmp_path)
    with pytest.raises(InputError, match=r"cannot connect with \$PAYMENTS_DSN") as raised:
        tables.stage(con, loaded)
    assert "hunter2" not in str(raised.value)


def test_a_dsn_gets_a_connect_timeout_unless_it_sets_its_own():
    uri = postgres.named("postgresql://reader@db.internal/payments")
    assert "connect_timeout=10" in uri and "application_name=outage-credits" in uri
    own = postgres.named("postgresql://reader@db.internal/payments?connect_timeout=3")
    assert "connect_timeout=3" in own and "connect_timeout=10" not in own
    # key=value: libpq takes the last value of a keyword, so the DSN's own timeout must follow
    keywords = postgres.named("host=db.internal dbname=payments connect_timeout=3")
    assert keywords.index("connect_timeout=10") < keywords.index("connect_timeout=3")


def test_a_dsn_keeps_its_options_as_libpq_decodes_them():
    # libpq decodes %XX only: a space re-encoded as `+` reached the server as `-c+lock_timeout`
    uri = postgres.named("postgresql://reader@db.internal/payments?options=-c%20lock_timeout%3D5s")
    assert "options=-c%20lock_timeout%3D5s&" in uri and "+" not in uri


@pytest.mark.parametrize("infinity", ["infinity", "-infinity"])
def test_a_time_of_infinity_is_named_not_read_as_a_year_before_290000_bc(
    dsn, schema, tmp_path, infinity
):
    # ADBC wraps it round to -290278-12-22: a PostgreSQL warehouse's load then stopped on it
    # (exit 4, as if the machine refused), a notebook's frame could not show it
    con, loaded = small(tmp_path, dsn, schema)
    stores.execute(
        dsn,
        f"update {schema}.transactions set created_at = $1::timestamptz where txn_id = $2",
        parameters=(infinity, "t2"),
    )
    with pytest.raises(
        InputError,
        match=rf"^postgres:{schema}.transactions: column 'created_at' is -290278-12-22T19:59:05Z "
        r"\(how a database's 'infinity' is read\) for txn_id t2: outside the years 1 to 9999",
    ):
        tables.stage(con, loaded)
    wait_until_closed(dsn, schema)


@pytest.mark.parametrize(
    "ending",
    [
        ";",  # as psql wants it: 'syntax error at or near ";"'
        " ;\n",
        " -- every row",  # it commented out the closing parenthesis: 'syntax error at end of input'
        ";\n-- every row\n  -- by id\n",  # comment lines after the ';'
    ],
)
def test_a_query_source_may_end_as_a_query_pasted_from_psql_does(dsn, schema, tmp_path, ending):
    query = {"postgres": ENV, "query": f"select * from {schema}.transactions{ending}"}
    con, loaded = small(tmp_path, dsn, schema, transactions=query)
    assert [(t.name, t.rows) for t in tables.stage(con, loaded)] == [
        ("postgres:query", 3),
        (f"postgres:{schema}.customers", 2),
    ]


def test_a_log_id_holding_a_nul_is_not_sent_to_the_server(dsn, schema, tmp_path):
    # PostgreSQL's text cannot hold a NUL: the whole read was refused ("invalid byte sequence
    # for encoding UTF8: 0x00"), blaming the table for one log line; no row can have that id
    path = write_incident(
        tmp_path / "inc",
        lines=[
            failure("t1"),
            failure("t\x009", customer_id="c\x009", amount_minor=500, currency="USD"),
        ],
        transactions=[txn("t1")],
    )
    load(dsn, schema, path.parent)
    loaded = incident.load(with_sources(path, "pg.toml", **postgres_sources(schema)))
    con = db.connect()
    logs.stage(con, loaded, tmp_path)
    tables.stage(con, loaded)
    assert con.sql("select txn_id from stg_transactions").fetchall() == [("t1",)]
    assert con.sql("select customer_id from stg_customers").fetchall() == [("c1",)]


def _without_created_at(dsn, schema, status, error_code, txn_ids):
    """The rows `txn_ids` of the test's table given no created_at, `status` and `error_code`."""
    stores.execute(
        dsn,
        f"update {schema}.transactions set created_at = null, status = $1, error_code = $2"
        " where txn_id = any($3)",
        parameters=(status, error_code, list(txn_ids)),
    )


def test_a_row_without_created_at_is_read_for_the_gate_to_see(dsn, schema, tmp_path):
    # a failed row with no time could be a table-only failure of the window: read by neither
    # arm (no created_at in the slack, no candidate id), it was left out of the credits unseen
    con, loaded = small(tmp_path, dsn, schema)
    _without_created_at(dsn, schema, "failed", "DB_POOL_TIMEOUT", ["t3"])
    tables.stage(con, loaded)
    assert con.sql("select txn_id from stg_transactions order by 1").fetchall() == [
        ("t1",),
        ("t2",),
        ("t3",),
    ]


def test_a_succeeded_row_without_created_at_is_read_only_as_a_candidates(dsn, schema, tmp_path):
    # a succeeded row is never a table-only failure: read without a time, every old one would
    # have the gate reject every run; a candidate's (t2) is still read, once, by its id
    con, loaded = small(tmp_path, dsn, schema)
    _without_created_at(dsn, schema, "succeeded", None, ["t2", "t3"])
    tables.stage(con, loaded)
    assert con.sql("select txn_id from stg_transactions order by 1").fetchall() == [
        ("t1",),
        ("t2",),
    ]
