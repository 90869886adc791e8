"""The warehouse in PostgreSQL under concurrency, least privilege, faults and tampering (issue 20).

Each test works on a database of its own on the server `CREDITS_TEST_PG_DSN` names (default
postgresql://postgres@127.0.0.1:5432/test), dropped after it; without a server these tests skip,
except when CI=true: there they fail. The runs come from the real flow, run twice for the module
(`source`) into a database that tests never write to: they copy it (`create database ... template`).

Approvals that must race run as `python -m flows.cli approve` processes; to start them at the
same moment the test holds the store's writer lock until both are connected and waiting for it.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import adbc_driver_manager
import adbc_driver_postgresql.dbapi
import duckdb
import pytest
from typer.testing import CliRunner

from tests import stores
from tests.builders import failure, txn, write_incident
from tests.flows import desk
from tests.stores import administer, execute, fetch, login, with_path
from tests.waiting import until
from transforms import commands, files
from transforms.errors import ConfigError, StorageError
from transforms.finance import (
    journal,
    ledger,
    outbox,
    outbox_head,
    pg_store,
    pg_writer_lock,
    proof,
    warehouse,
    witnesses,
)
from transforms.ingest.postgres import APPLICATION_NAME

ROOT = Path(__file__).resolve().parents[3]
LOCK_SQL = ROOT / "transforms" / "finance" / "sql" / "postgres" / "store_try_lock.sql"

# The desk's incident and 400 more customers, one failed USD payment each: enough that an
# approval writes more than 64 KiB (the full-disk test).
CUSTOMERS = [f"k{i:03d}" for i in range(400)]
LINES = [*desk.LINES, *(failure(f"x{c}") for c in CUSTOMERS)]
TABLE = [*desk.TABLE, *(txn(f"x{c}", customer_id=c) for c in CUSTOMERS)]
HIGHER = {"version": "t2", "flat_minor": {"USD": 1500, "EUR": 1200, "JPY": 1500}}


# The server, seen from the test side (ADBC, as the product)


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="module")
def server() -> str:
    return stores.server()


def database(server: str, template: str | None = None):
    """A new database (a copy of `template`), dropped after the block; yields its URL."""
    return stores.database(server, template)


@dataclass(frozen=True)
class Source:
    """The module's runs: A (policy t1, from folder A) and B (policy t2, higher, from folder
    B), each pending in the template databases that hold them. Read only: tests copy them."""

    run_a: str
    run_b: str
    only_a: str
    both: str
    folder_a: Path


def run_flow(folder: Path, url: str, **settings) -> str:
    """The real flow (threads, the session's Prefect test server) from a working folder."""
    from flows.credit_reconciliation import credit_reconciliation

    path = write_incident(folder / "inc", lines=LINES, transactions=TABLE, **settings)
    return credit_reconciliation(str(path), str(folder / "out"), url).run_id


@pytest.fixture(scope="module")
def source(prefect_harness, server, tmp_path_factory) -> Iterator[Source]:
    root = tmp_path_factory.mktemp("pg-store")
    with ExitStack() as stack:
        url = stack.enter_context(database(server))
        run_a = run_flow(root / "A", url)
        only_a = database_of(stack.enter_context(database(server, template=database_of(url))))
        run_b = run_flow(root / "B", url, policy=HIGHER)
        yield Source(run_a, run_b, only_a, database_of(url), root / "A")


@pytest.fixture(autouse=True)
def _run_folders_as_the_templates(tmp_path_factory) -> Iterator[None]:
    """Every test decides on its own copy of a template database, all on the same run folders:
    the decision a test's approval kept in a run folder (`outbox_head.RUN_FILE`) is removed after
    it, as no other copy holds it (and would be refused, as a restored backup is)."""
    yield
    root = tmp_path_factory.getbasetemp()
    for path in root.glob(f"pg-store*/*/out/incident=*/run=*/{outbox_head.RUN_FILE}"):
        path.unlink()


@pytest.fixture
def copy_of(server) -> Iterator[Callable[[str], str]]:
    """Makes the test's own copies of template databases; dropped after the test."""
    with ExitStack() as stack:
        yield lambda template: stack.enter_context(database(server, template=template))


@pytest.fixture(scope="module")
def published(source, server, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A template database where run A is approved, and its outbox. Read only."""
    folder = tmp_path_factory.mktemp("published")
    with database(server, template=source.only_a) as url:
        ledger.approve(url, source.run_a, by="alice", note=None, outbox=folder / "outbox")
        yield database_of(url), folder / "outbox"


# What the store holds


def credits_of(url: str, run_id: str) -> dict[tuple[str, str], int]:
    rows = fetch(
        url,
        "select customer_id, currency, credit_amount_minor from run_credits where run_id = $1",
        run_id,
    )
    return {(customer, currency): amount for customer, currency, amount in rows}


def paid(url: str) -> dict[tuple[str, str], int]:
    rows = fetch(
        url,
        "select customer_id, currency, sum(amount_minor)::bigint from ledger group by 1, 2",
    )
    return {(customer, currency): amount for customer, currency, amount in rows}


def batches(url: str) -> list[tuple]:
    return fetch(url, "select batch_id, run_id, kind, state from batches order by batch_id")


def events(url: str, run_id: str) -> list[str]:
    rows = fetch(url, "select event from journal where run_id = $1 order by seq", run_id)
    return [event for (event,) in rows]


def status(url: str, run_id: str) -> str:
    return fetch(url, "select status from runs where run_id = $1", run_id)[0][0]


def batch_folders(root: Path) -> list[Path]:
    return sorted(root.glob("incident=*/batch=*"))


def batch_lines(folder: Path) -> dict[tuple[str, str], int]:
    with open(folder / "credits.csv", newline="") as handle:
        rows = csv.DictReader(handle)
        return {(r["customer_id"], r["currency"]): int(r["amount_minor"]) for r in rows}


# Commands


def cli(*args: str):
    """`credits ARGS` in this process (quick commands only)."""
    from flows.cli import app

    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    return " ".join(text.split())


def audit(url: str, box: Path):
    return cli("audit", "--verify", "--warehouse", url, "--outbox", str(box))


def command(args: list[str], cwd: Path, home: Path) -> subprocess.Popen:
    """`credits ARGS` as a process of its own, from working folder `cwd` with its own Prefect
    home (this worktree first on its path)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "PREFECT_HOME": str(home)}
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass(frozen=True)
class Finished:
    args: list[str]
    code: int
    out: str
    err: str


def finish(process: subprocess.Popen) -> Finished:
    out, err = process.communicate(timeout=300)
    return Finished(process.args[3:], process.returncode, out, err)


def writers(url: str) -> int:
    """The product's connections to this database (each command holds one; the one holding
    the writer's lock names itself `outage-credits writer: pid N on HOST`)."""
    query = (
        "select count(*) from pg_stat_activity where datname = $1 "
        "and (application_name = $2 or application_name like $2 || ' writer: %')"
    )
    return fetch(url, query, database_of(url), APPLICATION_NAME)[0][0]


def all_connected(url: str, expected: int) -> bool:
    """Whether `expected` of the product's sessions are connected, seen three times 0.2 s apart:
    a session that has just closed lingers a moment in `pg_stat_activity`, so one look could
    count a process twice (or a closing session as a waiting one)."""
    for look in range(3):
        if writers(url) != expected:
            return False
        if look < 2:
            time.sleep(0.2)
    return True


def at_once(url: str, commands: list[tuple[list[str], Path, Path]]) -> list[Finished]:
    """Starts the commands, holding the store's writer lock until every one of them is connected
    (waiting for it), then lets them race for it; returns how each ended."""
    with adbc_driver_postgresql.dbapi.connect(url, autocommit=True) as holder:
        with holder.cursor() as cursor:
            cursor.execute(LOCK_SQL.read_text())
            assert cursor.fetchall() == [(True,)]
        processes = [command(*c) for c in commands]
        everyone = until(
            lambda: (
                all_connected(url, len(processes)) or any(p.poll() is not None for p in processes)
            ),
            seconds=120,
        )
        waiting = writers(url)
    # The lock goes with the holder's session.
    results = [finish(p) for p in processes]
    ended = [(r.code, r.err.strip()[-400:]) for r in results]  # what each said, if one ended
    assert everyone and waiting == len(processes), (waiting, ended)
    return results


def approve_args(url: str, run_id: str, box: Path, by: str = "alice") -> list[str]:
    return ["approve", run_id, "--by", by, "--warehouse", url, "--outbox", str(box)]


def terminate_writers(server: str, url: str) -> int:
    """Kills the product's connections to this database, waiting until they are gone."""
    rows = fetch(
        server,
        "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1 "
        "and (application_name = $2 or application_name like $2 || ' writer: %')",
        database_of(url),
        APPLICATION_NAME,
    )
    assert all(done for (done,) in rows), rows
    return len(rows)


def difference(after: dict, before: dict) -> dict:
    """What a supplemental batch pays: each credit's increase."""
    return {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}


FILES = ["batch.json", "credits.csv", "decreases.csv", "pay_by_hand.csv"]


# 1. Concurrency: approvals from separate processes, ordered by the store's writer lock


def test_two_approvals_of_one_run_at_once_publish_one_batch(source, copy_of, tmp_path):
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    results = at_once(
        url,
        [
            (approve_args(url, source.run_a, box, by), tmp_path / by, tmp_path / by / "prefect")
            for by in ("alice", "bob")
        ],
    )
    winners = [r for r in results if r.code == 0 and "already published" not in r.out]
    assert len(winners) == 1, results
    (loser,) = [r for r in results if r is not winners[0]]
    assert loser.code == 2 or (
        loser.code == 0
        and f"was already published: approved by {winners[0].args[3]} on" in loser.out
    )
    credits = credits_of(url, source.run_a)
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "published")]
    assert fetch(url, "select approved_by from batches") == [(winners[0].args[3],)]
    assert paid(url) == credits and len(credits) == 402
    assert events(url, source.run_a) == ["started", "validated", "approved", "published"]
    (folder,) = batch_folders(box)
    assert sorted(p.name for p in folder.iterdir()) == FILES  # nothing half-written beside it
    assert outbox.verify(folder) == [] and batch_lines(folder) == credits
    assert audit(url, box).exit_code == 0


def test_approvals_of_two_runs_of_one_incident_at_once_pay_each_credit_once(
    source, copy_of, tmp_path
):
    url, box = copy_of(source.both), tmp_path / "outbox"
    older, newer = at_once(
        url,
        [
            (approve_args(url, source.run_a, box, "alice"), tmp_path / "a", tmp_path / "home-a"),
            (approve_args(url, source.run_b, box, "bob"), tmp_path / "b", tmp_path / "home-b"),
        ],
    )
    assert newer.code == 0, newer
    a, b = credits_of(url, source.run_a), credits_of(url, source.run_b)
    if older.code == 2:  # the newer run won the lock: the older one is superseded, pays nothing
        assert "superseded" in one_line(older.err), older
        assert batches(url) == [("INC-T-B001", source.run_b, "initial", "published")]
        assert status(url, source.run_a) == "pending_approval"
    else:  # the older run won: the newer one's supplemental batch pays the difference
        assert older.code == 0, older
        assert batches(url) == [
            ("INC-T-B001", source.run_a, "initial", "published"),
            ("INC-T-B002", source.run_b, "supplemental", "published"),
        ]
        assert batch_lines(box / "incident=INC-T" / "batch=INC-T-B002") == difference(b, a)
    assert paid(url) == b  # whichever order: the newest run's credits, none twice
    folders = batch_folders(box)
    assert len(folders) == len(batches(url))
    assert all(outbox.verify(folder) == [] for folder in folders)
    assert audit(url, box).exit_code == 0


# 2. Least privilege: the role the pipeline and approvals log in as

REFUSED = [
    "update ledger set amount_minor = 1",
    "delete from ledger",
    "truncate ledger",
    "drop table ledger",
    "update journal set actor = 'mallory'",
    "delete from journal",
    "update batches set totals_minor = '{}'",
    "delete from batches",
    "update runs set manifest = '{}'",
    "delete from runs",
]
ALLOWED = [
    "insert into journal (seq, recorded_at, event, actor, detail, prev_hash, hash) "
    "values (1000000, now(), 'noted', 'x', '{}', 'x', 'x')",
    "update runs set status = status, batch_id = batch_id",
    "update batches set state = state, published_at = published_at",
]


def outcomes_as(server, role: str, statements: list[str]) -> dict[str, str]:
    """Each statement run as `role` on a new store: "allowed", "refused", or the error's text."""
    outcome = {}
    with database(server) as url:
        with warehouse.writer(url):  # makes the tables, and the roles
            pass
        with (
            adbc_driver_postgresql.dbapi.connect(url, autocommit=True) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("select set_config('role', $1, false)", parameters=(role,))
            for statement in statements:
                try:
                    cursor.execute(statement)
                    outcome[statement] = "allowed"
                except adbc_driver_manager.ProgrammingError as error:
                    text = str(error)
                    denied = "permission denied" in text or "must be owner" in text
                    outcome[statement] = "refused" if denied else text
    return outcome


def test_the_writer_role_appends_and_decides_but_never_edits_or_deletes(server):
    outcome = outcomes_as(server, "credits_writer", REFUSED + ALLOWED)
    assert outcome == {**dict.fromkeys(REFUSED, "refused"), **dict.fromkeys(ALLOWED, "allowed")}


# The pipeline's role may add a run and seal it, never pay; finance's may pay, never add a run.
PAYING = [
    "insert into ledger (entry_id, credit_id, incident_id, customer_id, currency, amount_minor, "
    "batch_id, run_id, published_at) values ('e1', 'INC|c9|USD', 'INC', 'c9', 'USD', 100000, "
    "'INC-B9', 'r1', now())",
    "insert into batches (batch_id, incident_id, run_id, kind, row_count, totals_minor, "
    "entry_hash, policy_version, folder, state, approved_by, created_at) values ('INC-B9', 'INC',"
    " 'r1', 'initial', 1, '{}', 'x', 'v', '/x', 'writing', 'Alice Finance', now())",
    "insert into batch_pay_by_hand (batch_id, incident_id, run_id, customer_id, currency, "
    "credit_owed_minor, paid_minor, listed_before_minor, to_pay_minor) values ('INC-B9', 'INC', "
    "'r1', 'c9', 'USD', 1, 0, 0, 100000)",
    "update batches set state = state, published_at = published_at",
]
RUNNING = [
    "insert into runs (run_id, incident_id, timezone, window_start_utc, window_end_utc, status, "
    "policy_version, policy_sha256, run_folder, started_at, finished_at, manifest) values ('r1', "
    "'INC', 'UTC', now(), now(), 'sealing', 'v', 'x', '/x', now(), now(), '{}')",
    "insert into run_credits (run_id, incident_id, credit_id) values ('r1', 'INC', 'INC|c9|USD')",
]


@pytest.mark.parametrize(
    ("role", "refused"),
    [("credits_runner", PAYING), ("credits_approver", RUNNING)],
)
def test_the_pipeline_s_role_never_pays_and_finance_s_never_adds_a_run(server, role, refused):
    # Every worker that runs `credits run` logged in as credits_writer, which may also INSERT
    # the ledger and a batch and decide a run: a worker's login could approve (any --by name)
    # or add a batch in `writing` that the next approval writes into the outbox, with no
    # review. Each side gets only what its commands do.
    allowed = [statement for statement in PAYING + RUNNING if statement not in refused]
    allowed += [ALLOWED[0], "update runs set status = status, batch_id = batch_id"]
    outcome = outcomes_as(server, role, REFUSED + refused + allowed)
    expected = {**dict.fromkeys(REFUSED + refused, "refused"), **dict.fromkeys(allowed, "allowed")}
    assert outcome == expected


def test_an_approval_logged_in_as_the_pipeline_s_role_pays_nothing(
    server, source, copy_of, tmp_path
):
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    with login(server, "credits_runner") as role:
        as_role = with_path(server, database_of(url), user=role)
        message = refused_cleanly(cli(*approve_args(as_role, source.run_a, box)))
        # refused before it reads anything (it was refused only at its commit)
        assert "an approval or a decline needs the role credits_approver" in message
        assert "Nothing was read or written" in message
        nothing_committed(url, source.run_a)
        assert batch_folders(box) == []


def test_a_run_under_finance_s_login_is_refused_before_it_starts(server, source, copy_of, tmp_path):
    # It computed everything, journaled `started`, left a run folder without a manifest, and
    # was refused only at its seal (exit 4); now it stops before Prefect starts.
    url = copy_of(source.only_a)
    journaled = fetch(url, "select count(*) from journal")
    incident = write_incident(tmp_path / "inc", lines=desk.LINES, transactions=desk.TABLE)
    with login(server, "credits_approver") as role:
        as_role = with_path(server, database_of(url), user=role)
        args = ["run", str(incident), "--output-dir", str(tmp_path / "out"), "--warehouse", as_role]
        ended = finish(command(args, tmp_path, tmp_path / "home"))
    assert ended.code == 4, ended.err
    said = one_line(ended.err)
    assert "a run needs the role credits_runner (or credits_writer)" in said
    assert "Nothing was read or written" in said and "Traceback" not in said
    assert fetch(url, "select count(*) from runs") == [(1,)]
    assert fetch(url, "select count(*) from journal") == journaled
    assert not (tmp_path / "out").exists()


def test_a_reader_without_a_role_is_told_it_needs_read_access_only(server):
    with database(server) as url, login(server) as role:
        with warehouse.writer(url):  # makes the tables and the roles
            pass
        with pytest.raises(StorageError) as refused:
            pg_store.reader(with_path(server, database_of(url), user=role))
    message = one_line(str(refused.value))
    assert "permission denied for table" in message
    assert "a reader (runs, lookup, diff, audit) needs only read access" in message
    assert "a run needs" not in message


def test_a_database_owner_without_createrole_is_told_a_fresh_store_needs_it(server):
    # PostgreSQL asks for CREATEROLE to make a role even where it exists: the owner was told
    # "a run needs the role credits_runner", which it did not lack.
    with login(server) as role, database(server) as url:
        administer(
            server, "select format('alter database %I owner to %I', $1, $2)", database_of(url), role
        )
        as_owner = with_path(server, database_of(url), user=role)
        with pytest.raises(StorageError) as making, warehouse.writer(as_owner):
            pass
        with pytest.raises(StorageError) as running:
            warehouse.reachable(as_owner, warehouse.Access.RUN)
        warehouse.reachable(as_owner, warehouse.Access.DECIDE)  # no tables: not its concern
    for refused in (making, running):
        message = one_line(str(refused.value))
        assert "needs CREATEROLE" in message and "alter role LOGIN createrole" in message
        assert "a run needs the role" not in message


def test_a_store_made_before_the_roles_is_granted_by_its_owner_s_next_writing_command(server):
    """A store made before credits_runner and credits_approver (here: their grants revoked in
    this database; the roles are the server's): a credits_writer login leaves it as it is and
    works; a credits_runner login is told that the owner has not granted its role here yet
    (not that it lacks it); the owner's next writing command grants them."""
    granted = "select has_table_privilege('credits_runner', 'runs', 'INSERT')"
    with database(server) as url:
        with warehouse.writer(url):
            pass
        execute(
            url,
            "revoke all on all tables in schema public from credits_runner, credits_approver",
            "revoke usage on schema public from credits_runner, credits_approver",
        )
        with login(server, "credits_writer") as writer, login(server, "credits_runner") as runner:
            as_writer = with_path(server, database_of(url), user=writer)
            as_runner = with_path(server, database_of(url), user=runner)
            for access in warehouse.Access:
                warehouse.reachable(as_writer, access)
            with warehouse.writer(as_writer):  # may not make roles: leaves the store as it is
                pass
            assert fetch(url, granted) == [(False,)]
            with pytest.raises(StorageError) as refused:
                warehouse.reachable(as_runner, warehouse.Access.RUN)
            message = one_line(str(refused.value))
            assert "the owner's next `credits run`, `approve` or `decline` does" in message
            assert "has not granted them on it yet" in message
            with warehouse.writer(url):  # the owner's
                pass
            assert fetch(url, granted) == [(True,)]
            warehouse.reachable(as_runner, warehouse.Access.RUN)
            with pytest.raises(StorageError):
                warehouse.reachable(as_runner, warehouse.Access.DECIDE)


def test_a_login_that_may_not_make_temporary_tables_is_told_so_before_it_writes(server):
    # `revoke temporary on database ... from public` (a hardening step) takes from every role
    # the temporary table each writer stages its rows in: `credits run` and `approve` passed the
    # privilege check, were refused at their first commit, and were told to get the role
    # credits_approver (or credits_runner), which the login held.
    with database(server) as url, login(server, "credits_runner", "credits_approver") as role:
        with warehouse.writer(url):  # the owner makes the tables and the roles
            pass
        administer(
            server,
            "select format('revoke temporary on database %I from public', $1)",
            database_of(url),
        )
        as_role = with_path(server, database_of(url), user=role)
        warehouse.reachable(as_role, warehouse.Access.READ)  # a reader stages nothing
        refusals = []
        for access in (warehouse.Access.RUN, warehouse.Access.DECIDE):
            with pytest.raises(StorageError) as refused:
                warehouse.reachable(as_role, access)
            refusals.append(refused.value)
        with pytest.raises(StorageError) as writing, warehouse.writer(as_role) as con:
            journal.append(con, "noted", actor="alice", key=None)  # refused at its commit
        refusals.append(writing.value)
    for refusal in refusals:
        message = one_line(str(refusal))
        assert "may not make temporary tables in the store's database" in message, message
        assert "grant temporary on database DATABASE to LOGIN" in message
        assert "needs the role" not in message


def test_a_login_whose_role_may_not_read_one_table_is_told_so_before_it_writes(server):
    # SELECT on one table revoked from finance's role (the customers' names and e-mails, say):
    # every command reads every table, so an approval passed its check, was refused reading,
    # and was told to get the role credits_approver, which it held.
    with login(server, "credits_approver") as role, database(server) as url:
        with warehouse.writer(url):
            pass
        execute(url, "revoke select on run_customers from credits_approver")
        as_role = with_path(server, database_of(url), user=role)
        with pytest.raises(StorageError) as refused:
            warehouse.reachable(as_role, warehouse.Access.DECIDE)
        with pytest.raises(StorageError) as reading, warehouse.writer(as_role):
            pass
    for refusal in (refused.value, reading.value):
        message = one_line(str(refusal))
        assert "may not read every table of the store" in message, message
        assert "needs the role" not in message


def test_a_store_made_by_a_login_with_a_schema_of_its_own_is_every_login_s(server):
    # PostgreSQL's secure schema pattern gives each login a schema of its own, first on its
    # search_path ("$user"): the owner's first writer made the store there, where every other
    # login found "no warehouse in this database yet" and a worker was told to get CREATEROLE;
    # a login that may make roles would have made a second warehouse, a second ledger.
    where = (
        "select distinct table_schema from information_schema.tables where table_name = 'ledger'"
    )
    with login(server) as owner, login(server, "credits_runner") as runner, database(server) as url:
        administer(server, "select format('alter role %I createrole', $1)", owner)
        administer(
            server,
            "select format('alter database %I owner to %I', $1, $2)",
            database_of(url),
            owner,
        )
        for role in (owner, runner):
            administer(url, "select format('create schema %I authorization %I', $1, $1)", role)
        with warehouse.writer(with_path(server, database_of(url), user=owner)) as con:
            journal.append(con, "noted", actor="owner", key=None)
        assert fetch(url, where) == [("public",)]
        as_runner = with_path(server, database_of(url), user=runner)
        warehouse.reachable(as_runner, warehouse.Access.RUN)
        with warehouse.connect_current(as_runner) as con:
            assert len(journal.entries(con)) == 1


def test_two_schemas_each_holding_a_warehouse_are_refused(server, tmp_path):
    # Each is a ledger of its own: which one a command used hung on the login's search_path.
    with database(server) as url:
        with warehouse.writer(url):
            pass
        execute(url, "create schema elsewhere")
        execute(url, *(f"create table elsewhere.{t} (x int)" for t in WAREHOUSE_MARKERS))
        for args in (["runs"], ["audit", "--verify", "--outbox", str(tmp_path)]):
            message = refused_cleanly(cli(*args, "--warehouse", url), exit_code=2)
            assert (
                f"warehouse {url}: schemas public, elsewhere of this database each hold a"
                in message
            )
            assert "would pay the same credits twice" in message
        with pytest.raises(ConfigError), warehouse.writer(url):
            pass


WAREHOUSE_MARKERS = ("runs", "ledger", "journal", "schema_versions")


@pytest.mark.parametrize("granted", ["credits_writer", "credits_approver"])
def test_an_approval_logged_in_as_a_member_of_the_writer_role_succeeds(
    server, source, copy_of, tmp_path, granted
):
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    with login(server, granted) as role:
        as_role = with_path(server, database_of(url), user=role)
        query = "select rolname, rolsuper, rolcreatedb from pg_roles where rolname = current_user"
        assert fetch(as_role, query) == [(role, False, False)]
        result = cli(*approve_args(as_role, source.run_a, box))
        assert result.exit_code == 0, result.output
        assert "batch INC-T-B001: 402 payment(s)" in result.stdout
        assert paid(url) == credits_of(url, source.run_a)
        assert batches(url) == [("INC-T-B001", source.run_a, "initial", "published")]
        assert audit(as_role, box).exit_code == 0


# 3. Faults: nothing is paid twice or lost, and the next command finishes the work


def refused_cleanly(result, exit_code: int = 4) -> str:
    """The command's one-line message, having checked that it exited as our errors do."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    for words in ("Traceback", "internal error"):
        assert words not in result.output
    return one_line(result.stderr)


def nothing_committed(url: str, run_id: str) -> None:
    assert status(url, run_id) == "pending_approval"
    assert batches(url) == [] and paid(url) == {}
    assert events(url, run_id) == ["started", "validated"]


def cut_at_the_ledger(monkeypatch, cut: Callable[[], int], commit: bool) -> list[int]:
    """`cut()` once, as the approval's commit sends the ledger's rows: before their statement,
    or (`commit`) as the server is then asked to commit them. What it returned lands in the
    list returned."""
    import adbc_driver_manager.dbapi

    execute_, commit_ = pg_store.Store.execute, adbc_driver_manager.dbapi.Connection.commit
    sending: list[str] = []
    killed: list[int] = []

    def executing(store, name, parameters=None, **identifiers):
        if name == "store_insert" and identifiers.get("table") == "ledger":
            sending.append(name)
            if not commit and not killed:
                killed.append(cut())
        execute_(store, name, parameters, **identifiers)

    def committing(connection):
        if commit and sending and not killed:
            killed.append(cut())
        commit_(connection)

    monkeypatch.setattr(pg_store.Store, "execute", executing)
    monkeypatch.setattr(adbc_driver_manager.dbapi.Connection, "commit", committing)
    return killed


@pytest.mark.parametrize(
    ("at_commit", "said", "not_said"),
    [
        # inside the transaction, after the run's decision and the batch went and before the
        # ledger's rows: the server rolls all of it back, and says so
        (
            False,
            (
                "committing: PostgreSQL said:",
                "rolled back what was not committed; run the command again to finish",
            ),
            (),
        ),
        # as the COMMIT was sent: the server may have committed it (its answer lost) or not, and
        # the command cannot tell; it said "the server rolled back what was not committed"
        (
            True,
            (
                "committing: the connection was lost",
                "whether the server committed it is unknown",
                "shows the journal's last entries",
            ),
            ("rolled back what was not committed",),
        ),
    ],
    ids=["between_two_statements", "at_the_commit"],
)
def test_an_approval_whose_connection_is_lost_says_what_is_known_and_the_next_finishes(
    server, source, copy_of, tmp_path, monkeypatch, at_commit, said, not_said
):
    """The writer's connection is terminated (pg_terminate_backend) in the server transaction
    that sends the approval's commit: the command exits 4 saying what is known (audit shows the
    journal's last entries), and the next approve pays every credit once."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    cut = cut_at_the_ledger(monkeypatch, lambda: terminate_writers(server, url), commit=at_commit)
    result = cli(*approve_args(url, source.run_a, box))
    monkeypatch.undo()
    assert cut == [1]
    message = refused_cleanly(result)
    assert f"warehouse {url}: committing: " in message, message
    for words in said:
        assert words in message, message
    for words in not_said:
        assert words not in message, message
    if at_commit:
        assert f"`{commands.credits('audit')}` shows the journal's last entries" in message
    nothing_committed(url, source.run_a)  # here the server had not; running again finishes
    assert batch_folders(box) == []
    again = cli(*approve_args(url, source.run_a, box))
    assert again.exit_code == 0 and "batch INC-T-B001: 402 payment(s)" in again.stdout
    assert paid(url) == credits_of(url, source.run_a)
    assert audit(url, box).exit_code == 0


def test_an_approval_cut_off_between_its_two_transactions_is_finished_by_the_next(
    server, source, copy_of, tmp_path, monkeypatch
):
    """A server restart between an approval's two transactions cannot be done here (other tests
    share the server); this simulates its effect on the client the same way: the writer's
    connection is terminated (pg_terminate_backend) after the first transaction (the ledger,
    the decision, the batch in state `writing`) is committed and the batch's files, trailer
    included, are written, before the batch is marked published. The command exits 4 saying
    what is committed; the next approve marks the batch without paying or writing anything
    twice."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    write = outbox.write
    killed = []

    def killing(con, batch_id, root):
        folder = write(con, batch_id, root)
        killed.append(terminate_writers(server, url))
        return folder

    monkeypatch.setattr(outbox, "write", killing)
    result = cli(*approve_args(url, source.run_a, box))
    monkeypatch.undo()
    assert killed == [1]
    message = refused_cleanly(result)
    assert f"warehouse {url}: committing: PostgreSQL said:" in message
    # what is committed and how to finish, as a full disk's message says
    assert f"Already committed: run {source.run_a}'s approval, its batch INC-T-B001's" in message
    assert "with their trailer in the outbox; not its state published" in message
    assert f"Run `{commands.credits('approve RUN_ID --by NAME')}` again" in message
    credits = credits_of(url, source.run_a)
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "writing")]
    assert paid(url) == credits and status(url, source.run_a) == "published"
    (folder,) = batch_folders(box)
    written = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(written) == FILES
    again = cli(*approve_args(url, source.run_a, box))
    assert again.exit_code == 0 and "was already published" in again.stdout, again.output
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "published")]
    assert paid(url) == credits
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == written
    assert outbox.verify(folder) == []
    assert audit(url, box).exit_code == 0


def cut_before_trailer(monkeypatch, cut: Callable[[], None]) -> list[None]:
    """Calls `cut` as the batch's trailer is made (its data files written), once."""
    trailer_of = outbox.trailer_of
    done: list[None] = []

    def cutting(*args):
        if not done:
            done.append(cut())
        return trailer_of(*args)

    monkeypatch.setattr(outbox, "trailer_of", cutting)
    return done


def test_a_writer_cut_off_before_its_batch_s_trailer_leaves_the_batch_unfinal(
    server, source, copy_of, tmp_path, monkeypatch
):
    """The writer's session is cut after the batch's data files are written: its lock went with
    it, and another machine's approval may be finishing the same batch into another outbox. It
    wrote the trailer all the same (a batch whole in two unshared outboxes, each picked up);
    now it stops before the trailer, says what is committed and how to finish, and the next
    approval finishes the batch."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    killed = cut_before_trailer(monkeypatch, lambda: terminate_writers(server, url))
    result = cli(*approve_args(url, source.run_a, box))
    monkeypatch.undo()
    assert killed == [1]
    message = refused_cleanly(result)
    assert "checking that it still holds the writer's lock" in message
    # what is committed and how to finish (it said only "run the command again to finish")
    assert f"Already committed: run {source.run_a}'s approval, its batch INC-T-B001's" in message
    assert "not final (no batch.json yet)" in message
    assert f"Run `{commands.credits('approve RUN_ID --by NAME')}` again" in message
    (folder,) = batch_folders(box)
    assert not (folder / outbox.TRAILER).exists()
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "writing")]
    again = cli(*approve_args(url, source.run_a, box))
    assert again.exit_code == 0 and "was already published" in again.stdout, again.output
    assert outbox.verify(folder) == [] and paid(url) == credits_of(url, source.run_a)
    assert audit(url, box).exit_code == 0


def test_a_writer_whose_lock_is_gone_but_session_lives_says_what_is_committed(
    source, copy_of, tmp_path, monkeypatch
):
    """The session lives but no longer holds the lock (the server shows none): the writer stops
    before the trailer, saying what is committed and how to finish."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    scalar = pg_store.Store.scalar

    def lock_gone(store, name, **identifiers):
        return False if name == "store_lock_held" else scalar(store, name, **identifiers)

    cut_before_trailer(
        monkeypatch, lambda: monkeypatch.setattr(pg_store.Store, "scalar", lock_gone)
    )
    message = refused_cleanly(cli(*approve_args(url, source.run_a, box)))
    monkeypatch.undo()
    assert f"warehouse {url}: this command no longer holds the writer's lock" in message
    assert f"Already committed: run {source.run_a}'s approval, its batch INC-T-B001's" in message
    assert f"Run `{commands.credits('approve RUN_ID --by NAME')}` again" in message
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "writing")]


def test_a_writer_at_work_on_its_mirror_leaves_no_server_transaction_open(server):
    # The mirror's read left its server transaction open while the command worked on the
    # mirror (an approval's checks, its batch's files): a server's idle_in_transaction_session_
    # timeout (a common setting) shorter than that work cut every such writer (exit 4, "run the
    # command again to finish", cut again the next time), and the read's table locks held off
    # any ALTER or VACUUM FULL meanwhile. The lock is the session's: nothing needs it open.
    query = (
        "select state from pg_stat_activity where datname = $1 and application_name like "
        "'outage-credits writer: %'"
    )
    with database(server) as url:
        with warehouse.writer(url):
            pass
        with warehouse.writer(url) as con:
            assert fetch(url, query, database_of(url)) == [("idle",)]
            journal.append(con, "noted", actor="alice", key=None)
            assert fetch(url, query, database_of(url)) == [("idle",)]
        assert fetch(url, "select event from journal") == [("noted",)]


def base_tables(mirror: duckdb.DuckDBPyConnection) -> list[str]:
    """The keys a mirror noted for its next send (`mirror_base.sql`)."""
    query = "select table_name from duckdb_tables() where table_name like 'base_%' order by 1"
    return [name for (name,) in mirror.execute(query).fetchall()]


def test_a_reader_s_mirror_notes_nothing_to_send(server):
    # A reader never sends: noting every table's keys for a send (13 tables copied again) was
    # a sixth of a reader's CPU, for every support answer and audit on a PostgreSQL store.
    with database(server) as url:
        with warehouse.writer(url) as con:
            journal.append(con, "noted", actor="alice", key=None)
            assert len(base_tables(con)) == len(pg_store.TABLES)  # a writer notes them
        mirror = pg_store.reader(url)
        assert base_tables(mirror) == []
        assert mirror.execute("select event from journal").fetchall() == [("noted",)]


def test_a_writer_whose_mirror_lost_a_row_sends_nothing_it_appended(server):
    # Nothing ever deletes: a mirror that lost a row the server holds is a fault of the code,
    # and the send stops before any table goes (the ledger's row is not sent though the
    # journal, the table that lost one, comes after it).
    with database(server) as url:
        with warehouse.writer(url) as con:
            journal.append(con, "noted", actor="alice", key=None)
        lost = pytest.raises(RuntimeError, match=r"lost 1 row\(s\) of journal")
        with lost, warehouse.writer(url) as con:
            con.execute("delete from journal")
            con.execute("insert into schema_versions values (99, now())")
        assert fetch(url, "select count(*) from journal") == [(1,)]
        assert fetch(url, "select max(version) from schema_versions") == [(3,)]


SECRET = "hunter2-not-for-logs"


@pytest.mark.parametrize("name", ["approve", "audit", "runs"])
def test_an_unreachable_server_is_named_and_its_password_masked(name, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://credits:{SECRET}@127.0.0.1:{port}/credits"
    args = {
        "approve": approve_args(url, "20250107T000000000000Z-00000000", tmp_path / "outbox"),
        "audit": ["audit", "--verify", "--warehouse", url, "--outbox", str(tmp_path / "outbox")],
        "runs": ["runs", "--warehouse", url],
    }[name]
    result = cli(*args)
    message = refused_cleanly(result)
    assert SECRET not in result.output
    assert f"warehouse postgresql://credits:***@127.0.0.1:{port}/credits" in message
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in message
    assert "Nothing was read or written" in message


@pytest.mark.parametrize(
    ("mode", "setting", "doing", "said"),
    [
        # the mirror's read of the ledger waits: the approval stops before it decides anything
        ("access exclusive", "statement_timeout", "reading", "statement timeout"),
        # reads go on, the ledger's insert waits: the approval's server transaction rolls back
        ("share", "lock_timeout", "committing", "lock timeout"),
    ],
)
def test_an_approval_timed_out_on_a_locked_ledger_commits_nothing(
    mode, setting, doing, said, source, copy_of, tmp_path
):
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    timed = f"{url}?options=-c%20{setting}%3D1000"
    with adbc_driver_postgresql.dbapi.connect(url) as holder:
        with holder.cursor() as cursor:
            cursor.execute(f"lock table ledger in {mode} mode")
        result = cli(*approve_args(timed, source.run_a, box))
        holder.rollback()
    message = refused_cleanly(result)
    assert f"warehouse {timed}: {doing}: PostgreSQL said:" in message
    assert f"canceling statement due to {said}" in message
    nothing_committed(url, source.run_a)
    again = cli(*approve_args(timed, source.run_a, box))  # the lock released
    assert again.exit_code == 0 and "batch INC-T-B001: 402 payment(s)" in again.stdout
    assert paid(url) == credits_of(url, source.run_a)
    assert audit(url, box).exit_code == 0


def test_a_full_outbox_on_a_postgresql_store_exits_4_and_the_next_approval_finishes(
    source, copy_of, tmp_path, monkeypatch
):
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    folder = box / "incident=INC-T" / "batch=INC-T-B001"
    folder.mkdir(parents=True)
    # the disk refuses (ENOSPC): credits.csv's temporary name, made fixed, leads to /dev/full
    monkeypatch.setattr(files, "_temporary", lambda final: final.with_name(f".{final.name}.tmp"))
    (folder / ".credits.csv.tmp").symlink_to("/dev/full")
    message = refused_cleanly(cli(*approve_args(url, source.run_a, box)))
    assert f"writing batch INC-T-B001 into {folder.resolve()}: No space left" in message
    assert "'s approval, its batch INC-T-B001's payments in the ledger;" in message
    credits = credits_of(url, source.run_a)
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "writing")]
    assert paid(url) == credits and not (folder / outbox.TRAILER).exists()
    again = cli(*approve_args(url, source.run_a, box))
    assert again.exit_code == 0 and "was already published" in again.stdout, again.output
    assert batches(url) == [("INC-T-B001", source.run_a, "initial", "published")]
    assert paid(url) == credits and outbox.verify(folder) == []
    assert audit(url, box).exit_code == 0


@contextmanager
def tiny_disk(folder: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes mounted on `folder` for the block (root only)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill(folder: Path, leaving: int) -> None:
    """Fills the file system of `folder` but for `leaving` bytes."""
    stats = os.statvfs(folder)
    (folder / "filler").write_bytes(bytes(stats.f_bavail * stats.f_frsize - leaving))
    stats = os.statvfs(folder)
    assert stats.f_bavail * stats.f_frsize == leaving


@pytest.mark.parametrize(
    "leaving",
    [
        pytest.param(64 << 10, id="64KiB"),  # the approval's commit cannot write its WAL
        pytest.param(0, id="0B"),  # nor the writer its pid into the lock file
    ],
)
def test_a_duckdb_store_on_a_full_disk_refuses_an_approval_with_exit_4(
    leaving, source, copy_of, tmp_path
):
    """A DuckDB warehouse on a disk with 64 KiB free (or none): `credits approve` exits 4 with
    the machine's words, never an internal error (a failed rollback hiding them); nothing is
    committed, and once space is freed the next approve pays each credit once. The warehouse is
    the module's store (run A pending) copied into a DuckDB file: the rows the flow writes."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    made = tmp_path / "made.duckdb"
    with warehouse.connect(url, read_only=True) as mirror:
        mirror.execute("attach $path as made", {"path": str(made)})
        mirror.execute("copy from database memory to made")
        mirror.execute("detach made")
    approving = approve_args(str(tmp_path / "disk" / "warehouse.duckdb"), source.run_a, box)
    with tiny_disk(tmp_path / "disk", made.stat().st_size + (1 << 20)) as disk:
        path = disk / "warehouse.duckdb"
        shutil.copy(made, path)
        fill(disk, leaving)
        refused = finish(command(approving, tmp_path, tmp_path))
        assert refused.code == 4, refused
        message = one_line(refused.err)
        assert "No space left on device" in message
        assert f"Nothing was committed by this command: the warehouse {path} is as" in message
        for words in ("internal error", "Traceback", "cannot rollback"):
            assert words not in refused.err
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select status from runs").fetchall() == [("pending_approval",)]
            assert con.execute("select count(*) from ledger").fetchall() == [(0,)]
        (disk / "filler").unlink()
        again = finish(command(approving, tmp_path, tmp_path))
        assert again.code == 0 and "batch INC-T-B001: 402 payment(s)" in again.out, again
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "select customer_id, currency, sum(amount_minor) from ledger group by all"
            ).fetchall()
    assert {(c, cur): int(v) for c, cur, v in rows} == credits_of(url, source.run_a)


# 4. Tamper evidence: what is changed on the server is named by the audit


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param(
            "update ledger set amount_minor = 1 where customer_id = 'c1'",
            "its content was changed after it was written",
            id="ledger-amount-edited",
        ),
        pytest.param(
            "delete from ledger where customer_id = 'c1'",
            "but the ledger has no such entry",
            id="ledger-row-deleted",
        ),
        pytest.param(
            "insert into ledger select entry_id || '-again', credit_id, incident_id, customer_id,"
            " currency, amount_minor, batch_id, run_id, published_at, seq + 1000, prev_hash, hash,"
            " link from ledger where customer_id = 'c1'",
            "whose credits.csv does not pay it (added or moved)",
            id="ledger-row-inserted",
        ),
        pytest.param(
            "update journal set actor = 'mallory' where event = 'approved'",
            "journal entry 3: its content was changed after it was written",
            id="journal-row-edited",
        ),
        pytest.param(
            "delete from journal where event = 'validated'",
            "journal entry 3: expected entry 2 here (deleted or reordered)",
            id="journal-row-deleted",
        ),
        pytest.param(
            "insert into journal select seq + 1000, recorded_at, incident_id, run_id, event, actor,"
            " detail, prev_hash, hash, link from journal where event = 'approved'",
            "journal entry 1003: expected entry 5 here",
            id="journal-row-inserted",
        ),
    ],
)
def test_a_store_changed_on_the_server_fails_the_audit(change, named, published, copy_of):
    template, box = published
    url = copy_of(template)
    assert audit(url, box).exit_code == 0  # as published: verified
    execute(url, change)
    result = audit(url, box)
    assert result.exit_code == 3, result.output
    assert named in one_line(result.stderr), result.stderr


def test_a_store_whose_version_rows_were_deleted_is_still_the_warehouse(server, tmp_path):
    # `delete from schema_versions` on the server made every reader say "no warehouse in this
    # database yet; `credits run` creates it" (exit 2), `audit --verify` among them, over a
    # store holding runs, a ledger and a journal. The tables are the warehouse: it is read,
    # and the next writer records the version again, as a DuckDB file's does.
    with database(server) as url:
        with warehouse.writer(url) as con:
            journal.append(con, "started", actor="pipeline", key=None)
        execute(url, "delete from schema_versions")
        with warehouse.connect_current(url) as con:
            assert len(journal.entries(con)) == 1
        assert fetch(url, "select version from schema_versions") == [(pg_store.SCHEMA_VERSION,)]
        execute(url, "delete from schema_versions")
        result = audit(url, tmp_path / "outbox")
        assert result.exit_code == 0 and "verified: journal of 1 entries" in result.output, (
            result.output
        )


@pytest.mark.parametrize(
    "detail",
    ["garbage", "[1, 2]", '{"batch_id": ["B1"], "files": {}}'],
    ids=["not-json", "not-an-object", "a-batch-id-list"],
)
def test_a_journal_detail_edited_on_the_server_into_no_object_is_named(server, tmp_path, detail):
    # The server keeps a detail as text: made no JSON, every command failed loading the mirror
    # (exit 1: "Malformed JSON"); made a list, or a batch id a list, the proof failed on it
    # ("'list' object has no attribute 'get'", "unhashable type"). It is an edited entry.
    with database(server) as url:
        with warehouse.writer(url) as con:
            journal.append(con, "published", actor="alice", key=None, detail={"batch_id": "B1"})
        execute(url, "update journal set detail = $1", parameters=(detail,))
        with warehouse.connect_current(url) as con:
            found = proof.check(proof.gather(con), None, witnesses.witnessed(tmp_path / "outbox"))
    assert found.tampered[0] == "journal entry 1: its content was changed after it was written"


# 5. Done when: two desks share one store and one outbox


def test_two_desks_sharing_one_store_and_outbox_pay_each_credit_once(source, copy_of, tmp_path):
    """Two working folders, each with its own output folder and Prefect home, share one
    PostgreSQL database and one outbox. Run A (folder A's: the module's flow ran it from there
    into this database's template) is approved from A and from B at once: one batch. The
    incident runs again from folder B with a higher policy; approving it from B publishes a
    supplemental batch of exactly the difference, and `audit --verify` passes from either."""
    url, box = copy_of(source.only_a), tmp_path / "outbox"
    folder_a, folder_b = source.folder_a, tmp_path / "B"
    home = {folder_a: tmp_path / "prefect-A", folder_b: tmp_path / "prefect-B"}
    first = at_once(
        url,
        [
            (approve_args(url, source.run_a, box, "alice"), folder_a, home[folder_a]),
            (approve_args(url, source.run_a, box, "bob"), folder_b, home[folder_b]),
        ],
    )
    assert [r.code for r in first] == [0, 0], first
    assert sum("already published" in r.out for r in first) == 1, first
    run_b = run_flow(folder_b, url, policy=HIGHER)
    second = finish(command(approve_args(url, run_b, box, "bob"), folder_b, home[folder_b]))
    assert second.code == 0 and "batch INC-T-B002: 402 payment(s)" in second.out, second
    assert batches(url) == [
        ("INC-T-B001", source.run_a, "initial", "published"),
        ("INC-T-B002", run_b, "supplemental", "published"),
    ]
    a, b = credits_of(url, source.run_a), credits_of(url, run_b)
    supplemental = box / "incident=INC-T" / "batch=INC-T-B002"
    assert batch_lines(supplemental) == difference(b, a) and len(difference(b, a)) == 402
    assert paid(url) == b
    audits = [
        command(["audit", "--verify", "--warehouse", url, "--outbox", str(box)], f, home[f])
        for f in (folder_a, folder_b)
    ]
    for done in map(finish, audits):
        assert done.code == 0 and "verified: journal of" in done.out, done


def test_a_writer_kept_waiting_is_told_who_holds_the_lock(server):
    # It said only "another run or approval is writing": on a shared server, from which
    # machine, and since when, is what the one waiting needs to know.
    with (
        database(server) as url,
        warehouse.writer(url),  # this process holds the lock
        pytest.raises(warehouse.WarehouseBusy) as busy,
        warehouse.writer(url, 0.2),
    ):
        pass
    message = str(busy.value)
    assert "another run or approval is writing to it (outage-credits writer: pid " in message
    assert f"pid {os.getpid()} on {socket.gethostname()}, from 127.0.0.1" in message
    assert ", connected since 20" in message and "waited 0 s" in message


def test_the_lock_holder_named_is_this_store_s_not_another_database_s(server):
    # Advisory locks are per database; the holder was looked up on the whole server, so a
    # writer of another store (or another test's database) on it could be named instead.
    from transforms import pg_connections

    lock = "select pg_advisory_lock(hashtextextended('outage-credits warehouse writer', 0))"
    with (
        database(server) as other,
        database(server) as url,
        pg_connections.connect(other, autocommit=True) as elsewhere,
    ):
        with elsewhere.cursor() as cursor:
            cursor.execute("set application_name = 'a writer of another store'")
            cursor.execute(lock)
        with (
            warehouse.writer(url),
            pytest.raises(warehouse.WarehouseBusy) as busy,
            warehouse.writer(url, 0.2),
        ):
            pass
    assert f"(outage-credits writer: pid {os.getpid()} on" in str(busy.value)
    assert "another store" not in str(busy.value)


def test_a_lock_holder_the_server_hides_is_named_by_what_it_shows():
    # A role that may not see another role's sessions gets their name, not address or start.
    class Hidden:
        def rows(self, name):
            assert name == "store_lock_holder"
            return [("outage-credits writer: pid 7 on box", None, None, 4321)]

        def commit(self):
            pass

    assert pg_writer_lock.holder(Hidden()) == " (outage-credits writer: pid 7 on box)"
