"""The PostgreSQL store under settings its administrator gives the database or the role: a
read-only database (`default_transaction_read_only`, as a hot standby is) and the server's
session timeouts. Each test works on a database of its own (`tests.stores`), dropped after it.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tests import stores
from tests.stores import administer, fetch
from transforms.errors import StorageError
from transforms.finance import journal, warehouse


@pytest.fixture
def store() -> str:
    """A store holding one journal entry, on a database of its own."""
    with stores.database(stores.server()) as url:
        with warehouse.writer(url) as con:
            journal.append(con, "started", actor="pipeline", key=None)
        yield url


def set_on_database(url: str, setting: str, value: str) -> None:
    """`alter database ... set SETTING = VALUE`: every new session of it starts so."""
    name = urlsplit(url).path.lstrip("/")
    statement = f"select format('alter database %I set {setting} = %L', $1, $2)"
    administer(stores.server(), statement, name, value)


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("access", [warehouse.Access.RUN, warehouse.Access.DECIDE])
def test_a_read_only_database_is_named_read_only_before_a_writer_starts(store, access):
    # It was told "committing: ... cannot execute UPDATE in a read-only transaction ... run the
    # command again to finish", after showing the whole approval: again and again.
    set_on_database(store, "default_transaction_read_only", "on")
    with pytest.raises(StorageError) as refused:
        warehouse.reachable(store, access)
    message = one_line(str(refused.value))
    assert "the database is read-only" in message and "Nothing was read or written" in message
    warehouse.reachable(store, warehouse.Access.READ)  # readers read it


def test_a_writer_on_a_read_only_database_says_so_instead_of_run_again(store):
    # a writer that did not check first (or the database made read-only since its check)
    set_on_database(store, "default_transaction_read_only", "on")
    with pytest.raises(StorageError) as refused, warehouse.writer(store) as con:
        journal.append(con, "declined", actor="alice", key=None)
    message = one_line(str(refused.value))
    assert "the database is read-only" in message
    assert "run the command again to finish" not in message
    assert fetch(store, "select count(*) from journal") == [(1,)]


def test_a_writer_idle_past_the_server_s_idle_session_timeout_keeps_its_session(store):
    # The writer's session holds the store's lock while the command works on its mirror, the
    # server idle: an `idle_session_timeout` shorter than that work cut it, every time (exit 4,
    # "run the command again to finish", which failed the same way).
    set_on_database(store, "idle_session_timeout", "100ms")
    with warehouse.writer(store) as con:
        time.sleep(0.5)  # the work on the mirror
        journal.append(con, "declined", actor="alice", key=None)
    assert fetch(store, "select count(*) from journal") == [(2,)]


def test_a_client_encoding_set_on_the_database_neither_stops_nor_garbles_the_store(store):
    # ADBC reads and sends UTF-8 whatever the session's client_encoding: LATIN1 set on the
    # database (or the role) stopped every command on a name LATIN1 cannot hold (exit 4, "run
    # the command again to finish", forever), and a name it can hold went to the server twice
    # encoded (José as JosÃ©), where the journal's hash no longer matched it.
    with warehouse.writer(store) as con:
        journal.append(con, "declined", actor="渡辺", key=None)
    set_on_database(store, "client_encoding", "LATIN1")
    with warehouse.writer(store) as con:
        journal.append(con, "declined", actor="José", key=None)
    on_server = fetch(store, "select convert_to(actor, 'UTF8') from journal order by seq")
    assert [actor.decode() for (actor,) in on_server] == ["pipeline", "渡辺", "José"]
    with warehouse.connect_current(store) as con:
        assert [entry.actor for entry in journal.entries(con)] == ["pipeline", "渡辺", "José"]
