"""ADBC connections that know PostgreSQL's built-in types only (`transforms/pg_connections.py`):
a session each, the built-in types read as values, and a warehouse store made of them only."""

from __future__ import annotations

import signal
import uuid

import adbc_driver_manager
import adbc_driver_manager.dbapi
import adbc_driver_postgresql.dbapi
import pytest

from tests import stores
from tests.waiting import until
from transforms import pg_connections
from transforms.finance import pg_store


def test_each_connection_is_a_session_of_its_own_and_none_stays_after_it():
    name = f"credits_t_{uuid.uuid4().hex[:12]}"
    url = f"{stores.server()}?application_name={name}"

    def sessions() -> int:
        query = "select count(*) from pg_stat_activity where application_name = $1"
        return stores.fetch(stores.server(), query, name)[0][0]

    with (
        pg_connections.connect(url, autocommit=True) as one,
        pg_connections.connect(url) as two,
        one.cursor() as first,
        two.cursor() as second,
    ):
        first.execute("select pg_backend_pid()")
        second.execute("select pg_backend_pid()")
        assert first.fetchall() != second.fetchall()
        assert sessions() == 2
    assert until(lambda: sessions() == 0, seconds=10)  # a backend leaves soon after its client


QUERY = """
select 'ok'::mood as made, 12::int8 as count, 'x'::text as text, 1.50::numeric(10, 2) as amount,
       true as flag, '2025-01-07 10:00:00+00'::timestamptz as at, array[1, 2] as list
"""


def test_built_in_types_are_values_and_a_type_the_server_made_is_its_bytes():
    # What `builtin` gives up, and why a table source reads the catalog: the enum made on the
    # server is not known (its bytes), every built-in type is read as with the catalog.
    with stores.database(stores.server()) as url:
        stores.execute(url, "create type mood as enum ('ok')")
        with pg_connections.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(QUERY)
            builtin = cursor.fetchall()[0]
        with (
            adbc_driver_postgresql.dbapi.connect(url) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(QUERY)
            catalog = cursor.fetchall()[0]
    assert builtin[0] == b"ok"
    assert catalog[0] == "ok"
    assert builtin[1:] == catalog[1:]


def test_the_warehouse_store_is_made_of_built_in_types_only():
    with stores.database(stores.server()) as url:
        with pg_store.writer(url, 10, RuntimeError):
            pass  # makes the store's tables at the newest version
        columns = stores.fetch(
            url,
            "select table_name, column_name, udt_schema, udt_name"
            " from information_schema.columns where table_schema = 'public'",
        )
    assert columns  # the tables are there
    assert [c for c in columns if c[2] != "pg_catalog"] == []


def test_an_unreachable_server_raises_adbc_s_error():
    with pytest.raises(adbc_driver_manager.Error, match="Failed to connect"):
        pg_connections.connect("postgresql://postgres@127.0.0.1:9/none?connect_timeout=2")


def test_adbc_s_ctrl_c_hook_is_patched_while_it_has_the_parameters_we_know(monkeypatch):
    # an upgrade of adbc_driver_manager that changes its private hook fails here, not in use
    assert adbc_driver_manager.dbapi._blocking_call is pg_connections._blocking_call
    assert pg_connections._hook_is_known()
    for other in (None, lambda func, args, kwargs: None):
        monkeypatch.setattr(pg_connections, "_adbc_blocking_call", other)
        assert not pg_connections._hook_is_known()


def test_an_ignored_ctrl_c_stays_ignored_during_a_statement(monkeypatch):
    # ADBC put its own SIGINT handler in place even where SIGINT was ignored (a background job
    # of a script, `nohup`): a SIGINT then cancelled the statement, and a reader ended as a
    # lost store (exit 4)
    def adbc_s_own(func, args, kwargs, cancel):
        raise AssertionError("ADBC's handler was put in place")

    monkeypatch.setattr(pg_connections, "_adbc_blocking_call", adbc_s_own)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert pg_connections._blocking_call(lambda x: x + 1, (1,), {}, lambda: None) == 2
    finally:
        signal.signal(signal.SIGINT, previous)
    with pytest.raises(AssertionError, match="ADBC's handler"):
        pg_connections._blocking_call(lambda x: x + 1, (1,), {}, lambda: None)
