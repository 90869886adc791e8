"""`credits warehouse copy`: a DuckDB warehouse moved into an empty PostgreSQL store, chains and
all, verified before it commits; a non-empty or unreachable target, a source that does not
prove itself and a copy that does not match are refused, leaving the target as it was.

One DuckDB warehouse is made for the module (three flow runs under the session's Prefect test
server, two golden runs loaded without Prefect) and copied once into a database of its own;
both are read only. A test that writes copies into a database of its own, dropped afterwards.
The CLI tests are here too, to share that warehouse.

The server is the one `CREDITS_TEST_PG_DSN` names (default postgresql://postgres@127.0.0.1:5432/
test); these tests skip without one, except when CI=true: there they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from tests import golden_incident, quick_commands, stores
from tests.builders import customer, rewrite_with_keyed_schema
from tests.flows.desk import Desk
from tests.stores import fetch
from transforms import commands
from transforms.errors import ConfigError, ProofFailed
from transforms.finance import (
    journal,
    ledger,
    ledger_entries,
    pg_location,
    pg_store,
    store_copy,
    warehouse,
)

KEY = "a-long-enough-journal-key-0123456789"
LOW_USD_HIGH_EUR = {"flat_minor": {"USD": 500, "EUR": 1200}}
HIGH_USD = {"flat_minor": {"USD": 1500, "EUR": 900}}
WIDER = {"window_end": "2025-01-07T19:00:00"}  # 00:00Z: t2 (c2, 23:30Z) comes in
C2_CLOSED = [customer("c1"), customer("c2", status="closed"), customer("c3")]


@pytest.fixture(scope="module")
def server() -> str:
    return stores.server()


@pytest.fixture
def new_store(server):
    """Makes empty databases for the test (`new_store()` is one's URL); drops them after."""
    with ExitStack() as made:
        yield lambda: made.enter_context(stores.database(server))


@dataclass(frozen=True)
class Source:
    """The module's DuckDB warehouse, its outbox, and its runs by what happened to them."""

    path: Path
    outbox: Path
    superseded: str  # pending, started before the two published runs
    published: tuple[str, str]  # an initial batch, then a supplemental one
    declined: str
    rejected: str


@pytest.fixture(scope="module")
def source(prefect_harness, tmp_path_factory) -> Source:
    """Runs of every status, batches with every kind of line: initial (c1, c3), supplemental (c3
    raised: a second ledger entry; c1 lowered: a decrease; c2, closed: paid by hand)."""
    root = tmp_path_factory.mktemp("copy-source")
    desk = Desk(root, root / "wh.duckdb")  # the copy's source is always a DuckDB file
    superseded = desk.run(policy=HIGH_USD)
    first = desk.run()
    desk.approve(first)
    second = desk.run(policy=LOW_USD_HIGH_EUR, top=WIDER, customers=C2_CLOSED)
    desk.approve(second, accept_decreases=True)
    declined = golden_incident.load_run(desk.root / "golden-declined", desk.warehouse)
    ledger.decline(desk.warehouse, declined, by="bob", reason="the window is under review")
    rejected = golden_incident.load_run(
        desk.root / "golden-rejected", desk.warehouse, repeat_keys=True
    )
    return Source(desk.warehouse, desk.outbox, superseded, (first, second), declined, rejected)


@pytest.fixture(scope="module")
def copied(server, source) -> tuple[str, store_copy.Copied]:
    """The module's warehouse copied once into a database of its own (read only)."""
    with stores.database(server) as url:
        yield url, store_copy.copy(source.path, url, None)


def tables(location) -> dict[str, pa.Table]:
    """Every table of the warehouse at `location`, its rows sorted; of the journal, what a copy
    moves (the source's own `moving` and `moved` entries come after the copy's read)."""
    with warehouse.connect(location, read_only=True) as con:
        return {
            t.name: con.table(t.name)
            .filter("event not in ('moving', 'moved')" if t.name == "journal" else "true")
            .order("all")
            .to_arrow_table()
            for t in pg_store.TABLES
        }


def moved_entries(path: Path) -> list[journal.Entry]:
    with warehouse.connect(path, read_only=True) as con:
        return [e for e in journal.entries(con) if e.event == "moved"]


def cli(*args: str, env: dict[str, str] | None = None):
    from flows.cli import app

    return CliRunner().invoke(app, list(args), env=env)


# What the copy moves


def test_every_table_is_copied_row_for_row(source, copied):
    url, result = copied
    before, after = tables(source.path), tables(url)
    assert all(rows.num_rows for rows in before.values()), "the source leaves a table empty"
    for name, rows in before.items():
        assert after[name].equals(rows), name
    assert result.rows == {name: rows.num_rows for name, rows in before.items()}
    statuses = set(before["runs"]["status"].to_pylist())
    assert statuses == {"pending_approval", "published", "declined", "rejected"}


def test_the_copy_says_what_it_verified(source, copied):
    _, result = copied
    with warehouse.connect(source.path, read_only=True) as con:
        journal_entries = len(
            [e for e in journal.entries(con) if e.event not in ("moving", "moved")]
        )
        ledger_rows = len(ledger_entries.entries(con))
    assert result.chains.journal_entries == journal_entries > 0
    assert result.chains.ledger_entries == ledger_rows == 3  # c1, c3; then c3 raised
    assert (result.chains.ledger_chains, result.chains.keyed) == (1, False)
    assert result.chains.tampered == result.chains.unverified == ()


def test_audit_verify_passes_on_the_copy_and_prints_the_same_journal(source, copied):
    url, _ = copied
    on_file = cli(
        "audit", "--verify", "--warehouse", str(source.path), "--outbox", str(source.outbox)
    )
    on_server = cli("audit", "--verify", "--warehouse", url, "--outbox", str(source.outbox))
    assert on_server.exit_code == 0, on_server.output
    assert (
        "verified: journal of" in on_server.stdout and "2 published batch(es)" in on_server.stdout
    )
    # the file's journal has two more entries: the copy's record that it was moved there
    (moved,) = [e for e in moved_entries(source.path) if e.detail["to"] == url]
    assert moved.actor == "pipeline"
    lines = on_file.stdout.splitlines(True)
    moved_lines = [line for line in lines if "  moved  " in line or "  moving  " in line]
    assert any(f"to={url}" in line for line in moved_lines)
    counted = int(re.search(r"journal of (\d+) entries", on_file.stdout).group(1))
    on_file_as_copied = "".join(line for line in lines if line not in moved_lines).replace(
        f"journal of {counted} entries", f"journal of {counted - len(moved_lines)} entries"
    )
    assert on_server.stdout == on_file_as_copied


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "--wide"],
        ["lookup", "c1"],  # paid, then a decrease reported
        ["lookup", "c2"],  # closed: paid by hand
        ["customers", "INC-T"],
        ["diff", "SUPERSEDED"],  # the pending run against what the two batches paid
    ],
)
def test_support_and_finance_read_the_same_on_both(source, copied, args):
    url, _ = copied
    args = [source.superseded if arg == "SUPERSEDED" else arg for arg in args]
    on_file = cli(*args, "--warehouse", str(source.path))
    on_server = cli(*args, "--warehouse", url)
    assert on_file.exit_code == 0, on_file.output
    assert (on_server.exit_code, on_server.stdout) == (0, on_file.stdout)


def test_a_supplemental_approval_on_the_copy_continues_both_chains(source, new_store, tmp_path):
    url = new_store()
    store_copy.copy(source.path, url, None)
    with warehouse.connect(url, read_only=True) as con:
        head = journal.head(con)
        (*_, newest) = ledger_entries.entries(con, "INC-T")
    outbox = tmp_path / "outbox"
    decision = ledger.approve(
        url,
        source.superseded,
        by="carol",
        note=None,
        outbox=outbox,
        force_superseded=True,
        accept_decreases=True,  # it pays c3 less than the second batch did
    )
    assert (decision.status, decision.rows) == ("published", 1)  # c1 raised to 15.00
    with warehouse.connect(url, read_only=True) as con:
        added = [e for e in ledger_entries.entries(con, "INC-T") if e.seq > newest.seq]
        approved = next(e for e in journal.entries(con) if e.prev_hash == head)
        assert ledger_entries.verify(ledger_entries.entries(con), None).tampered == []
        assert journal.verify(con).tampered == []
    assert [(e.seq, e.prev_hash, e.customer_id, e.amount_minor) for e in added] == [
        (newest.seq + 1, newest.hash, "c1", 500)
    ]
    assert (approved.event, approved.run_id) == ("approved", source.superseded)
    # the old batches' trailers are where they were written, the new one in this outbox
    audit = cli("audit", "--verify", "--warehouse", url, "--outbox", str(outbox))
    assert audit.exit_code == 0, audit.output
    assert "3 published batch(es)" in audit.stdout


def test_a_moved_file_refuses_runs_and_approvals_and_stays_readable(
    golden_warehouse, new_store, tmp_path
):
    """After the copy, runs and approvals on the DuckDB file as well would pay the same
    credits twice (two ledgers): a writer there is refused; readers still read it."""
    url = new_store()
    store_copy.copy(golden_warehouse, url, None)
    (moved,) = moved_entries(golden_warehouse)
    assert moved.detail == {"to": url}
    with (
        pytest.raises(ConfigError, match="this warehouse was moved to postgresql://") as refused,
        warehouse.writer(golden_warehouse),
    ):
        pytest.fail("written")
    assert "could pay the same credits twice" in str(refused.value)
    with pytest.raises(ConfigError, match="this warehouse was moved to"):  # `credits run` asks
        warehouse.require_not_moved_file(golden_warehouse)  # before it starts Prefect
    warehouse.require_not_moved_file(url)  # the store itself, and a new file, pass
    warehouse.require_not_moved_file(tmp_path / "new.duckdb")
    approved = cli(
        "approve", "any-run", "--by", "alice", "--warehouse", str(golden_warehouse),
        "--outbox", str(tmp_path / "outbox"),
    )  # fmt: skip
    assert approved.exit_code == 2 and "was moved to" in approved.stderr, approved.output
    listed = cli("runs", "--warehouse", str(golden_warehouse))
    assert listed.exit_code == 0, listed.output
    with warehouse.connect(url, read_only=True) as con:  # the store has no such entry
        assert [e.event for e in journal.entries(con)] == ["validated"]


def test_a_moved_file_refuses_a_dry_run_as_approval_does_and_its_diff_says_it_moved(source, copied):
    # The dry run previewed a batch and exited 0 where the approval exits 2; the diff read the
    # file as if it were the warehouse, unsaid.
    url = moved_entries(source.path)[-1].detail["to"]  # `copied`, or a later test's copy
    run_id = source.superseded  # pending: approvable with these two decisions
    given = ["--force-superseded", "--accept-decreases", "--warehouse", str(source.path)]
    given += ["--outbox", str(source.outbox)]
    approved = cli("approve", run_id, "--by", "alice", *given)
    rehearsed = cli("approve", run_id, "--dry-run", *given)
    assert approved.exit_code == rehearsed.exit_code == 2, rehearsed.output
    assert rehearsed.stderr == approved.stderr
    assert "this warehouse was moved to postgresql://" in rehearsed.stderr
    assert rehearsed.stdout == "" and "Traceback" not in rehearsed.output
    shown = cli("diff", run_id, "--warehouse", str(source.path))
    assert shown.exit_code == 0, shown.output
    note = " ".join(shown.stderr.split())
    assert f"note: {source.path}: this warehouse was moved to {url} on " in note
    assert f"runs and approvals since are in the store: give --warehouse {url}" in note
    store, _ = copied
    assert "note" not in cli("diff", run_id, "--warehouse", store).stderr  # a store itself


WRITER = """
import sys
from transforms.errors import ConfigError
from transforms.finance import warehouse
try:
    with warehouse.writer(sys.argv[1], wait_seconds=60):
        print("written")
except ConfigError as error:
    print(error)
"""


def test_a_writer_that_waited_for_the_copy_then_finds_the_file_moved(
    golden_warehouse, new_store, monkeypatch
):
    """A run or an approval that starts while the copy reads the file, even through a hard
    link to it (another lock file), waits for the copy's connection, held until the move is
    recorded: it never writes what the store will also pay."""
    url = new_store()
    link = golden_warehouse.with_name("linked.duckdb")
    os.link(golden_warehouse, link)
    reading, go = threading.Event(), threading.Event()
    fingerprints = store_copy._fingerprints

    def slow(con, columns):
        reading.set()
        assert go.wait(30)
        return fingerprints(con, columns)

    monkeypatch.setattr(store_copy, "_fingerprints", slow)
    copying = threading.Thread(target=store_copy.copy, args=(golden_warehouse, url, None))
    copying.start()
    assert reading.wait(30)
    writer = subprocess.Popen(  # another process, as a run or an approval is
        [sys.executable, "-c", WRITER, str(link)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(3)  # time to import and reach the file while the copy holds it
    assert writer.poll() is None  # waiting for the copy
    go.set()
    copying.join(60)
    outcome = writer.communicate(timeout=60)[0]
    assert "this warehouse was moved to" in outcome, outcome


# What the copy refuses


def test_a_second_copy_into_the_now_non_empty_store_exits_2_and_changes_nothing(source, copied):
    url, result = copied
    again = cli("warehouse", "copy", "--from", str(source.path), "--to", url)
    assert again.exit_code == 2, again.output
    assert f"warehouse {url}: not empty" in again.stderr
    assert "Traceback" not in again.output
    with warehouse.connect(url, read_only=True) as con:
        counts = {t.name: con.table(t.name).count("*").fetchall()[0][0] for t in pg_store.TABLES}
    assert counts == result.rows


def test_an_unreachable_store_exits_4_naming_it_with_its_password_masked(tmp_path):
    path = tmp_path / "wh.duckdb"
    warehouse.connect(path).close()
    url = "postgresql://credits:s3cret-pw@127.0.0.1:1/credits"  # nothing listens on port 1
    result = cli("warehouse", "copy", "--from", str(path), "--to", url)
    assert result.exit_code == 4, result.output
    assert "postgresql://credits:***@127.0.0.1:1/credits: cannot connect" in result.stderr
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", "data/other.duckdb"],
            "--to data/other.duckdb: the copy's target is a PostgreSQL",
        ),
        (["--to", "postgresql://u@h/d", "--from", "postgresql://u@h/e"], "source is a DuckDB"),
    ],
)
def test_a_copy_between_the_wrong_kinds_of_warehouse_exits_2(tmp_path, args, message):
    arguments = ["--from", str(tmp_path / "wh.duckdb"), *args]
    result = cli("warehouse", "copy", *arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_a_store_written_after_the_first_look_is_refused_under_the_lock(
    golden_warehouse, new_store, monkeypatch
):
    url = new_store()
    store_copy.copy(golden_warehouse, url, None)
    before = fetch(url, "select count(*) from journal")
    monkeypatch.setattr(pg_store, "empty", lambda _: True)  # a run wrote since the first look
    with pytest.raises(store_copy.TargetNotEmpty, match="not empty"):
        store_copy.copy(golden_warehouse, url, None)
    assert fetch(url, "select count(*) from journal") == before


@pytest.fixture
def golden_warehouse(tmp_path) -> Path:
    """A small warehouse made without Prefect: one golden run, pending approval."""
    path = tmp_path / "wh.duckdb"
    golden_incident.load_run(tmp_path / "golden", path)
    return path


def _tables_made(url: str) -> bool:
    return fetch(url, "select to_regclass('runs') is not null")[0][0]


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda rows: rows.slice(1), "evidence: 11 row(s) in the source, 10 in the target"),
        (
            lambda rows: rows.set_column(
                rows.schema.get_field_index("amount_minor"),
                "amount_minor",
                pc.add(rows["amount_minor"], 1),
            ),
            "evidence: 11 row(s) on each side, but their content differs",
        ),
    ],
    ids=["a row lost", "a value changed"],
)
def test_a_copy_that_does_not_match_exits_3_and_leaves_the_store_empty(
    golden_warehouse, new_store, monkeypatch, change, finding
):
    url = new_store()
    append = pg_store.Store.append

    def damaged(store, name, rows, insert="store_insert"):
        if name == "evidence":  # what a faulty load would send
            rows = change(rows.read_all())
        append(store, name, rows, insert)

    monkeypatch.setattr(pg_store.Store, "append", damaged)
    result = cli("warehouse", "copy", "--from", str(golden_warehouse), "--to", url)
    assert result.exit_code == 3, result.output
    assert "does not match its source; it was rolled back" in result.stderr
    assert finding in result.stderr
    assert pg_store.empty(url) and not _tables_made(url)  # the tables went with the rollback


def test_a_source_whose_journal_was_edited_is_not_copied(golden_warehouse, new_store):
    url = new_store()
    with warehouse.connect(golden_warehouse) as con:
        con.execute("update journal set actor = 'mallory'")
    with pytest.raises(ProofFailed, match="does not prove itself, so it is not copied") as raised:
        store_copy.copy(golden_warehouse, url, None)
    assert "journal entry 1" in str(raised.value)
    assert not _tables_made(url)


def test_a_warehouse_missing_one_of_its_tables_exits_3_naming_it(golden_warehouse, new_store):
    with warehouse.connect(golden_warehouse) as con:
        con.execute("drop table batch_pay_by_hand")
    url = new_store()
    for args in (["audit", "--verify"], ["warehouse", "copy", "--to", url, "--from"]):
        if args[0] == "audit":
            args += ["--warehouse"]
        result = cli(*args, str(golden_warehouse))
        assert result.exit_code == 3, result.output
        assert "the warehouse has no table batch_pay_by_hand: it was dropped" in result.stderr
    assert not _tables_made(url)


def test_a_keyed_source_is_copied_only_with_its_key(golden_warehouse, new_store):
    url = new_store()
    with warehouse.writer(golden_warehouse) as con:
        journal.append(con, "declined", actor="bob", key=KEY.encode(), detail={"why": "keyed"})
    with pytest.raises(ConfigError, match="set CREDITS_JOURNAL_KEY so that the copy can verify"):
        store_copy.copy(golden_warehouse, url, None)
    assert not _tables_made(url)
    result = store_copy.copy(golden_warehouse, url, KEY.encode())
    assert result.chains.keyed and result.chains.journal_entries == 2


def test_a_store_whose_tables_are_made_but_empty_takes_the_copy(golden_warehouse, new_store):
    url = new_store()
    with warehouse.writer(url):  # a writer that wrote nothing: the tables and version 3 only
        pass
    made_at = fetch(url, "select upgraded_at from schema_versions")
    assert pg_store.empty(url) and len(made_at) == 1
    result = store_copy.copy(golden_warehouse, url, None)
    assert result.rows["runs"] == 1 and result.rows["schema_versions"] == 1
    assert fetch(url, "select upgraded_at from schema_versions") == made_at  # kept its own row


def test_a_warehouse_an_earlier_version_made_is_upgraded_then_copied(golden_warehouse, new_store):
    rewrite_with_keyed_schema(golden_warehouse)  # schema version 2: keyed run tables, one amount
    url = new_store()
    store_copy.copy(golden_warehouse, url, None)
    with warehouse.connect(golden_warehouse, read_only=True) as con:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION  # upgraded in place
        events = [e.event for e in journal.entries(con)]
    assert events == ["validated", "upgraded", "moving", "moved"]
    before, after = tables(golden_warehouse), tables(url)
    for name, rows in before.items():
        assert after[name].equals(rows), name
    assert after["run_exceptions"].column_names == before["run_exceptions"].column_names
    assert "credit_owed_minor" in after["run_exceptions"].column_names


def test_the_copy_command_never_imports_prefect(golden_warehouse, new_store):
    url = new_store()
    result = quick_commands.without_prefect(
        [["warehouse", "copy", "--from", str(golden_warehouse), "--to", url]],
        cwd=Path(__file__).parents[3],
    )
    assert result.returncode == 0, result.stderr
    assert not pg_store.empty(url)


def test_the_summary_lists_every_table_and_the_chains(golden_warehouse, new_store):
    url = new_store()
    result = cli("warehouse", "copy", "--from", str(golden_warehouse), "--to", url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"copied {golden_warehouse} into {url}, in one transaction:"
    assert [line.split()[0] for line in lines[1:-2]] == [t.name for t in pg_store.TABLES]
    assert lines[-2].startswith("verified on the target: every table's rows equal the source's")
    assert lines[-1] == (
        f"{golden_warehouse} now refuses runs and approvals (its journal records the move); "
        "point CREDITS_WAREHOUSE at the store"
    )


@pytest.mark.parametrize("stopped_at", ["moved", "moving"])
def test_a_copy_killed_around_the_store_s_commit_never_leaves_two_writable_warehouses(
    golden_warehouse, new_store, monkeypatch, stopped_at
):
    # Killed after the store committed, before the file recorded the move, the file stayed
    # writable: approvals on each paid the same credits twice. Killed just before the commit,
    # the store rolled back: the file must still refuse (the outcome is unknown to it) and a
    # second copy must go through.
    url = new_store()
    record = store_copy._record

    def killed(con, path, target, key, event):
        if event == stopped_at:
            if event == "moving":
                record(con, path, target, key, event)
            raise KeyboardInterrupt  # as a kill: nothing after it runs
        record(con, path, target, key, event)

    monkeypatch.setattr(store_copy, "_record", killed)
    with pytest.raises(KeyboardInterrupt):
        store_copy.copy(golden_warehouse, url, None)
    monkeypatch.setattr(store_copy, "_record", record)
    assert pg_store.empty(url) is (stopped_at == "moving")
    for refused in (
        lambda: warehouse.writer(golden_warehouse).__enter__(),
        lambda: warehouse.require_not_moved_file(golden_warehouse),
    ):
        with pytest.raises(ConfigError, match="was stopped before it recorded its end"):
            refused()
    if stopped_at == "moving":  # the store rolled back: the copy runs again, and ends
        store_copy.copy(golden_warehouse, url, None)
        with pytest.raises(ConfigError, match="this warehouse was moved to"):
            warehouse.require_not_moved_file(golden_warehouse)


def test_a_copy_whose_connection_is_lost_at_the_commit_says_how_to_tell_and_what_then(
    golden_warehouse, new_store, server, monkeypatch
):
    # The outcome is unknown (the server may have committed before its answer was lost): the
    # copy said to run it again, that it "does nothing twice", where a copy into the store that
    # holds it is refused as not empty, and its advice is to copy into a new database.
    import adbc_driver_manager.dbapi

    from tests.transforms.finance.test_pg_store import terminate_writers

    url = new_store()
    record, commit, moving = store_copy._record, adbc_driver_manager.dbapi.Connection.commit, []

    def recorded(con, path, target, key, event):
        moving.append(event == "moving")
        record(con, path, target, key, event)

    def committing(connection):
        if moving == [True]:  # the store's commit, right after the file recorded `moving`
            moving.append(terminate_writers(server, url))
        commit(connection)

    monkeypatch.setattr(store_copy, "_record", recorded)
    monkeypatch.setattr(adbc_driver_manager.dbapi.Connection, "commit", committing)
    result = cli("warehouse", "copy", "--from", str(golden_warehouse), "--to", url)
    monkeypatch.undo()
    assert result.exit_code == 4, result.output
    said = " ".join(result.stderr.split())
    assert "whether the server committed it is unknown" in said
    assert "does nothing twice" not in said
    verify = commands.credits(commands.verify_at(pg_location.shown(url)))
    assert f"`{verify}` shows whether the store holds the copy" in said, said
    assert "if it does, run and approve there; if it is empty, run the copy again" in said
    assert pg_store.empty(url)  # here the server had not committed: the copy runs again
    assert cli("warehouse", "copy", "--from", str(golden_warehouse), "--to", url).exit_code == 0
