"""ADBC connections made from a driver database kept per URL (`transforms/pg_connections.py`):
the type catalog read once, a session of its own for each connection, nothing left open."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import adbc_driver_postgresql
import pytest

from tests import stores
from transforms import pg_connections


@pytest.fixture
def url() -> Iterator[str]:
    """A URL of the test server whose sessions the test can count by their application name."""
    name = f"credits_t_{uuid.uuid4().hex[:12]}"
    yield f"{stores.server()}?application_name={name}"


def sessions(url: str) -> int:
    name = url.rpartition("application_name=")[2]
    return stores.fetch(
        stores.server(), "select count(*) from pg_stat_activity where application_name = $1", name
    )[0][0]


def test_a_url_reads_the_type_catalog_once_and_each_connection_is_a_session_of_its_own(
    url, monkeypatch
):
    made = []
    driver_connect = adbc_driver_postgresql.connect
    monkeypatch.setattr(
        adbc_driver_postgresql, "connect", lambda uri: made.append(uri) or driver_connect(uri)
    )
    with (
        pg_connections.connect(url, autocommit=True) as one,
        pg_connections.connect(url) as two,
        one.cursor() as first,
        two.cursor() as second,
    ):
        first.execute("select pg_backend_pid()")
        second.execute("select pg_backend_pid()")
        assert first.fetchall() != second.fetchall()
        assert sessions(url) == 2
    assert made.count(url) == 1  # the second connection reused the first one's database object
    assert sessions(url) == 0  # no session is kept between connections


def test_a_url_let_go_closes_after_its_last_connection_and_is_read_again(url, monkeypatch):
    monkeypatch.setattr(pg_connections, "KEPT", 1)
    made = []
    driver_connect = adbc_driver_postgresql.connect
    monkeypatch.setattr(
        adbc_driver_postgresql, "connect", lambda uri: made.append(uri) or driver_connect(uri)
    )
    other = f"{url}_other"
    with pg_connections.connect(url) as kept, kept.cursor() as cursor:
        pg_connections.connect(other).close()  # `url` is let go, its connection still open
        cursor.execute("select 1")
        assert cursor.fetchall() == [(1,)]
    pg_connections.connect(url).close()
    assert [uri for uri in made if uri in (url, other)] == [url, other, url]
    assert sessions(url) == sessions(other) == 0


def test_connections_made_at_once_from_many_threads_each_work(url):
    answers, errors = [], []

    def connect() -> None:
        try:
            with pg_connections.connect(url) as connection, connection.cursor() as cursor:
                cursor.execute("select 1")
                answers.append(cursor.fetchall())
        except Exception as error:  # noqa: BLE001 (reported below, with the others)
            errors.append(error)

    threads = [threading.Thread(target=connect) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answers == [[(1,)]] * 8
    assert sessions(url) == 0


def test_an_unreachable_server_raises_adbc_s_error_and_keeps_nothing(monkeypatch):
    import adbc_driver_manager

    url = "postgresql://postgres@127.0.0.1:9/none?connect_timeout=2"
    with pytest.raises(adbc_driver_manager.Error):
        pg_connections.connect(url)
    assert url not in pg_connections._KEPT
