"""The PostgreSQL store under what its administrator gives the database or the login: a
read-only database (`default_transaction_read_only`, as a hot standby is), the server's session
timeouts, a client encoding, a login that may make roles but not tables. Each test works on a
database of its own (`tests.stores`), dropped after it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import stores
from tests.stores import administer, fetch
from transforms import pg_connections
from transforms.errors import ProofFailed, StorageError
from transforms.finance import journal, pg_session, warehouse


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
    statement = "select format('alter database %I set %I = %L', $1, $2, $3)"
    administer(stores.server(), statement, name, setting, value)


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


@contextmanager
def login_that_may_make_roles() -> Iterator[str]:
    """A login with CREATEROLE, no superuser and no database of its own; dropped after."""
    role = f"credits_login_{uuid.uuid4().hex[:8]}"
    administer(stores.server(), "select format('create role %I login createrole', $1)", role)
    try:
        yield role
    finally:
        administer(stores.server(), "select format('drop role if exists %I', $1)", role)


def test_a_login_that_may_make_roles_but_not_tables_is_told_before_a_run_starts():
    # PostgreSQL 15 takes CREATE on schema public from everyone but the database's owner: a
    # CREATEROLE login ran the whole flow (a run folder left behind), then was told at the
    # store's tables that "this login holds what the store's roles give, yet the server
    # refused it ... a grant taken from its role", which it never had.
    with login_that_may_make_roles() as role, stores.database(stores.server()) as url:
        stores.execute(url, "revoke create on schema public from public")  # as 15 makes it
        as_login = urlunsplit(
            urlsplit(url)._replace(netloc=f"{role}@{urlsplit(url).hostname}:{urlsplit(url).port}")
        )
        with pytest.raises(StorageError) as before:
            warehouse.reachable(as_login, warehouse.Access.RUN)
        with pytest.raises(StorageError) as making, warehouse.writer(as_login):
            pass
        warehouse.reachable(as_login, warehouse.Access.DECIDE)  # no tables: not its concern
    for refused in (before, making):
        message = one_line(str(refused.value))
        assert "needs CREATE on the schema public" in message, message
        assert "grant create on schema public to LOGIN" in message
        assert "a grant taken from its role" not in message


@pytest.mark.parametrize("setting", ["statement_timeout", "lock_timeout"])
def test_a_statement_timed_out_says_which_timeout_cut_it_and_how_to_raise_it(store, setting):
    # It said only "run the command again to finish": with the timeout set low on the database
    # or the role, shorter than the command's reads, that failed the same way every time.
    timed = f"{store}?options=-c%20{setting}%3D300"
    with pg_connections.connect(store) as holder:
        with holder.cursor() as cursor:
            cursor.execute("lock table journal in access exclusive mode")
        with pytest.raises(StorageError) as refused:
            warehouse.connect_current(timed)
        holder.rollback()
    message = one_line(str(refused.value))
    assert f"the server's {setting} (set on the database, the login or the URL) cut" in message
    assert f"?options=-c%20{setting}%3D" in message
    if setting == "lock_timeout":  # who may hold a lock that long: the store's sessions do not
        assert "look for a transaction left open" in message


@pytest.mark.parametrize(
    "change",
    [
        # a constraint the warehouse's schema holds, dropped on the server, then broken
        "alter table journal alter column actor drop not null; update journal set actor = null",
        "alter table journal drop constraint journal_pkey; "
        "insert into journal select * from journal",
    ],
    ids=["a-null-where-none-may-be", "a-duplicated-key"],
)
def test_a_row_the_warehouse_s_schema_refuses_is_named_not_an_internal_error(store, change):
    # Every command, `audit --verify` among them, stopped with "internal error:
    # ConstraintException" (exit 1) on the mirror's load.
    stores.execute(store, *change.split("; "))
    with pytest.raises(ProofFailed) as refused:
        warehouse.connect_current(store)
    message = one_line(str(refused.value))
    assert "its table journal holds rows the warehouse's schema refuses" in message, message
    assert "changed on the server" in message


def test_a_table_or_column_dropped_on_the_server_is_named_not_run_again(store):
    stores.execute(store, "alter table journal drop column link")
    with pytest.raises(StorageError) as refused:
        warehouse.connect_current(store)
    message = one_line(str(refused.value))
    assert 'column "link" does not exist' in message
    assert "the store's tables are not those this version made" in message
    assert "run the command again to finish" not in message


def test_a_store_session_commits_durably_whatever_the_database_sets(store):
    # With synchronous_commit off on the database, a server crash could lose an approval the
    # server had acknowledged after its batch was written to the outbox: the batch then in the
    # outbox but not in the store, which refuses every later approval of its incident (exit 3).
    set_on_database(store, "synchronous_commit", "off")
    connection = pg_session.connect(store)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select current_setting('synchronous_commit')")
            assert cursor.fetchall() == [("on",)]
    finally:
        connection.close()


def test_a_session_of_the_store_is_dropped_soon_after_its_machine_vanishes(store):
    # A writer's session is its lock. Its machine powered off or cut from the network mid-
    # approval answers nothing, and the server kept the session, and the lock, until the
    # system's TCP keepalive gave up: over two hours (7200 s idle, then 9 probes 75 s apart),
    # every other writer refused as busy meanwhile. The session now asks for its own probes,
    # and (keepalives probe only an idle connection) for a limit on data left unacknowledged.
    connection = pg_session.connect(store)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select name, setting::int from pg_settings "
                "where name like 'tcp_keepalives_%' or name = 'tcp_user_timeout'"
            )
            settings = dict(cursor.fetchall())
    finally:
        connection.close()
    given_up_after = settings["tcp_keepalives_idle"] + (
        settings["tcp_keepalives_interval"] * settings["tcp_keepalives_count"]
    )
    assert 0 < given_up_after <= 120, settings
    assert 0 < settings["tcp_user_timeout"] <= 120_000, settings  # in ms


def lock_timeout_ms(url: str) -> int:
    """The lock_timeout of a session of the store at `url`, in milliseconds."""
    connection = pg_session.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select setting::int from pg_settings where name = 'lock_timeout'")
            return cursor.fetchall()[0][0]
    finally:
        connection.close()


def test_a_store_session_waits_for_another_session_s_lock_a_bounded_time(store):
    # A table or a row locked by another session (a psql transaction left open on `runs`)
    # kept an approval waiting without end, silent, deaf to Ctrl-C and SIGTERM, holding the
    # store's writer lock (every other writer told it is busy). A lock_timeout set on the
    # URL, the database or the login is kept.
    assert lock_timeout_ms(store) == 60_000
    assert lock_timeout_ms(f"{store}?options=-c%20lock_timeout%3D600000") == 600_000
    set_on_database(store, "lock_timeout", "5s")
    assert lock_timeout_ms(store) == 5_000


def set_on_login_in_database(url: str, setting: str, value: str) -> None:
    """`alter role ... in database ... set SETTING = VALUE` for the login of `url` (the test
    server's): on this database only, dropped with it; the server's others are untouched."""
    name = urlsplit(url).path.lstrip("/")
    statement = "select format('alter role current_user in database %I set %I = %L', $1, $2, $3)"
    administer(stores.server(), statement, name, setting, value)


@pytest.mark.parametrize("where", ["URL", "database", "login"])
def test_a_lock_timeout_of_0_set_on_purpose_is_kept(store, where):
    # 0 (wait without end) set in the URL, on the database or on the login was replaced by
    # the store's 60 s: only the server's default 0 is, as docs/warehouse.md says
    url = store
    if where == "URL":
        url = f"{store}?options=-c%20lock_timeout%3D0"
    elif where == "database":
        set_on_database(store, "lock_timeout", "0")
    else:
        set_on_login_in_database(store, "lock_timeout", "0")
    assert lock_timeout_ms(url) == 0


CREDITS = (
    "import sys; sys.argv = ['credits', *sys.argv[1:]]; from flows.console import main; main()"
)


def waiting_for_a_lock(url: str, deadline_s: float = 30) -> None:
    """Returns once a session of the database at `url` waits for a lock."""
    name = urlsplit(url).path.lstrip("/")
    query = "select count(*) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'"
    deadline = time.monotonic() + deadline_s
    while fetch(stores.server(), query, name) == [(0,)]:
        assert time.monotonic() < deadline, "no session came to wait for the lock"
        time.sleep(0.1)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_writer_waiting_for_another_session_s_lock_stops_at_once_on_a_signal(
    store, tmp_path, signum, code
):
    # A psql transaction left open on `runs`: SIGTERM waited out the 60 s lock_timeout before
    # it stopped the approval, and Ctrl-C (taken by ADBC's own handler, which cancels the
    # statement) ended as a lost store, exit 4, "run the command again". Here the approval
    # would wait without end (lock_timeout 0 on the database): it ends while the lock is held,
    # or the hang guard fails the test.
    set_on_database(store, "lock_timeout", "0")
    command = [sys.executable, "-c", CREDITS, "approve", "r1", "--by", "a"]
    command += ["--warehouse", store, "--outbox", str(tmp_path / "outbox")]
    with pg_connections.connect(store) as holder:
        with holder.cursor() as cursor:
            cursor.execute("lock table runs in access exclusive mode")
        approval = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            waiting_for_a_lock(store)
            approval.send_signal(signum)
            _, said = approval.communicate(timeout=120)  # a hang guard, not a measure
        finally:
            approval.kill()
            holder.rollback()
    assert approval.returncode == code, said
    assert one_line(said).startswith("stopped: the approval of run r1 ("), said
