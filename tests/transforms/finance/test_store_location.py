"""Which store a location names, and a URL's password: masked in messages, kept out of what
Prefect records of a run (moved to PGPASSWORD for the process)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flows import settings
from tests import stores
from transforms.errors import ConfigError
from transforms.finance import pg_location, warehouse


@pytest.mark.parametrize(
    ("location", "postgres"),
    [
        ("postgresql://u@h:5432/db", True),
        ("postgres://u@h/db", True),
        ("data/warehouse.duckdb", False),
        (Path("postgresql:/looks/like/a/url"), False),  # a Path is always a file
    ],
)
def test_a_location_names_a_postgresql_store_only_by_its_scheme(location, postgres):
    assert pg_location.is_url(location) is postgres
    assert isinstance(warehouse.locate(location), str if postgres else Path)


def test_a_password_is_masked_in_what_is_shown():
    assert (
        pg_location.shown("postgresql://fin:pw%40x@db:5432/c") == "postgresql://fin:***@db:5432/c"
    )
    assert pg_location.shown("postgresql://fin@db/c") == "postgresql://fin@db/c"
    assert warehouse.shown(Path("wh.duckdb")) == "wh.duckdb"


def test_a_run_parameter_holds_no_password_and_libpq_gets_it(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    given = "postgresql://fin:pw@db:5432/c?sslmode=require"
    assert settings.warehouse_parameter(given) == "postgresql://fin@db:5432/c?sslmode=require"
    assert os.environ["PGPASSWORD"] == "pw"
    assert settings.warehouse_parameter("wh.duckdb") == "wh.duckdb"


def test_the_environment_chooses_the_store_unless_a_command_says(monkeypatch):
    monkeypatch.delenv(settings.WAREHOUSE_VARIABLE, raising=False)
    assert settings.warehouse_default() == "data/warehouse.duckdb"
    monkeypatch.setenv(settings.WAREHOUSE_VARIABLE, "postgresql://fin@db/c")
    assert settings.warehouse_default() == "postgresql://fin@db/c"


def test_a_password_in_the_query_is_masked_and_kept_out_of_the_run(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    given = "postgresql://fin@db:5432/c?sslmode=require&password=top%26secret"
    assert pg_location.shown(given) == "postgresql://fin@db:5432/c?sslmode=require&password=***"
    assert settings.warehouse_parameter(given) == "postgresql://fin@db:5432/c?sslmode=require"
    assert os.environ["PGPASSWORD"] == "top&secret"  # decoded, as libpq decodes it


def test_libpq_gets_the_password_decoded(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert settings.warehouse_parameter("postgresql://fin:pw%40x@db/c") == "postgresql://fin@db/c"
    assert os.environ["PGPASSWORD"] == "pw@x"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://fin:top/secret@db:5432/c",  # libpq: no user, host "fin", port "top"
        "postgresql://fin:p@ssword@db:5432/c",  # libpq: password "p", host "ssword@db"
        "postgresql://fin:p@ss:w/rd#x@db:5432/c",
        "postgresql://fin:pa?ss@db/c",
        "postgresql://fin:pass#word@db/c",
    ],
)
def test_a_url_libpq_would_read_otherwise_is_refused_without_showing_it(url):
    with pytest.raises(ConfigError) as refused:
        pg_location.server_of(url)
    message = str(refused.value)
    assert "percent-encoded" in message
    assert "ss" not in message.replace("password", "")
    assert "secret" not in message and "db" not in message
    assert pg_location.shown(url) == "postgresql://..."


def test_the_server_named_is_the_one_libpq_connects_to():
    assert pg_location.server_of("postgresql://u@h:5999/c?port=5432") == "h:5432"
    assert pg_location.server_of("postgresql://u@h/c?host=other") == "other:5432"
    assert pg_location.server_of("postgresql:///c") == "the local socket (port 5432)"


def test_a_url_without_a_host_keeps_its_slashes_for_libpq():
    from transforms.ingest.postgres import named

    assert named("postgresql:///c").startswith("postgresql:///c?connect_timeout=")
    assert pg_location.without_password("postgresql://:pw@/c") == ("postgresql://@/c", "pw")


def test_the_servers_words_leave_out_the_statement_the_driver_quotes():
    error = RuntimeError(
        "IO: [libpq] Failed to execute query 'insert into run_credits (run_id)\n"
        "select run_id from staged_1 where x = 'y'': server closed the connection "
        "unexpectedly\n\tThis probably means the server terminated abnormally"
    )
    said = pg_location.said(error, "postgresql://fin:pw@db/c")
    assert said == "IO: [libpq] server closed the connection unexpectedly"


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("postgresql://u@h1:5432,h2:5433/c", "h1:5432,h2:5433"),  # libpq's list of hosts
        ("postgresql://u@[::1]:5433/c", "[::1]:5433"),
        ("postgresql://u@/c?host=/var/run/postgresql", "the local socket (port 5432)"),
        (
            "postgresql://u@/c?host=%2Fvar%2Frun%2Fpostgresql&port=5433",
            "the local socket (port 5433)",
        ),
        ("postgresql://u@h/my#db", "h:5432"),  # a `#` past the host is the database's
    ],
)
def test_urls_libpq_reads_are_named_by_their_servers(url, server):
    assert pg_location.server_of(url) == server


def test_an_ssl_key_passphrase_is_masked_and_kept_for_the_connection_only(monkeypatch):
    from transforms import pg_url

    monkeypatch.delenv(pg_url.PASSPHRASE_VARIABLE, raising=False)
    given = "postgresql://fin@db/c?sslkey=k.pem&sslpassword=s3%26cret"
    assert pg_location.shown(given) == "postgresql://fin@db/c?sslkey=k.pem&sslpassword=***"
    assert settings.warehouse_parameter(given) == "postgresql://fin@db/c?sslkey=k.pem"
    passphrase = os.environ[pg_url.PASSPHRASE_VARIABLE]
    assert passphrase == "s3&cret"
    again = pg_url.parse("postgresql://fin@db/c?sslkey=k.pem").with_passphrase(passphrase)
    assert again == "postgresql://fin@db/c?sslkey=k.pem&sslpassword=s3%26cret"


def test_a_password_with_a_slash_then_a_question_mark_is_refused_unshown():
    url = "postgresql://alice:ab/cd?ef@127.0.0.1/c"  # libpq: host "alice", port "ab"
    with pytest.raises(ConfigError) as refused:
        pg_location.server_of(url)
    assert "cd?ef" not in str(refused.value) and "percent-encoded" in str(refused.value)


@pytest.mark.parametrize(
    "given", ["Postgresql://u:SEKRIT@h/c", "POSTGRESQL://u:SEKRIT@h/c", "mysql://u:SEKRIT@h/c"]
)
def test_a_url_of_another_scheme_is_refused_unshown_not_taken_for_a_file(given):
    from typer.testing import CliRunner

    from flows.cli import app

    with pytest.raises(ConfigError) as refused:
        pg_location.require_location(given)
    assert "SEKRIT" not in str(refused.value) and "lower case" in str(refused.value)
    result = CliRunner().invoke(app, ["runs", "--warehouse", given])
    assert result.exit_code == 2 and "SEKRIT" not in result.output, result.output


def test_a_password_keyword_in_another_case_is_masked_too():
    given = "postgresql://fin@db/c?PASSWORD=SEKRIT&Sslpassword=K"
    assert pg_location.shown(given) == "postgresql://fin@db/c?PASSWORD=***&Sslpassword=***"


@pytest.mark.parametrize(
    ("refusal", "advice"),
    [
        # every connection the database allows is taken (ten approvals at once, a pool)
        (
            "select format('alter database %I connection limit 0', $1)",
            "every connection it allows",
        ),
        # the login lost CONNECT on the database: the server is up, starting it does nothing
        (
            "select format('revoke connect on database %I from public', $1)",
            "grant connect on database",
        ),
        # the URL names a database the server does not hold
        (None, "fix the URL"),
    ],
)
def test_a_server_that_refuses_the_login_says_what_to_do_not_to_start_it(refusal, advice):
    server = stores.server()
    with stores.database(server) as url, stores.login(server) as role:
        name = urlsplit(url).path.lstrip("/")
        if refusal:
            stores.administer(server, refusal, name)
        gone = "" if refusal else "_gone"
        as_role = stores.with_path(url, name + gone, user=role)
        with pytest.raises(pg_location.Unreachable) as refused:
            pg_location.connect(as_role)
    message = str(refused.value)
    assert advice in message
    assert "start the server" not in message  # it answered: it is running
    assert "Nothing was read or written" in message


@pytest.mark.parametrize(
    ("why", "advice"),
    [
        # the server's own limit, not a database's: every connection taken
        ("FATAL:  sorry, too many clients already", "every connection it allows"),
        ("FATAL:  the database system is starting up", "run the command again once it accepts"),
        ('FATAL:  password authentication failed for user "fin"', "fix the URL's login"),
        # not reached: nothing answered, it may not be running
        ("Connection refused", "start the server or fix the URL"),
    ],
)
def test_what_to_do_follows_what_the_server_said(why, advice):
    refused = pg_location.Unreachable("postgresql://fin:***@db/c", "db:5432", why)
    assert advice in str(refused)
    assert advice in str(refused.given_as("`make notebooks NB_WAREHOUSE=URL`"))


@pytest.mark.parametrize(
    "given",
    [
        "host=127.0.0.1 dbname=credits password=SEKRIT",
        "dbname=credits user=fin password=SEKRIT",
        "  Host = db.internal port=5432 password='SEKRIT'",
        "postgresql:/u:SEKRIT@h/c",
        "postgres:u:SEKRIT@h/c",
    ],
)
def test_a_libpq_keyword_string_or_a_url_missing_a_slash_is_refused_unshown(given, tmp_path):
    """libpq's key/value connection string, or a URL with one slash, was taken for a DuckDB
    file's path: every message printed it, password and all, and `credits run` made a new
    warehouse file of that name in the current folder."""
    from typer.testing import CliRunner

    from flows.cli import app

    with pytest.raises(ConfigError) as refused:
        pg_location.require_location(given)
    assert "SEKRIT" not in str(refused.value) and "postgresql://" in str(refused.value)
    result = CliRunner().invoke(app, ["runs", "--warehouse", given])
    assert result.exit_code == 2 and "SEKRIT" not in result.output, result.output
    assert "postgresql://" in result.output, result.output
