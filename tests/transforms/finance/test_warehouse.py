"""The warehouse: a new one is at the current version and its per-run tables take a rejected
run's rows (on each store); a DuckDB file made by an earlier version is upgraded in place, once;
its write lock is shared through a symlinked path; a reader and a writer of the file wait for
each other."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests import golden_incident, stores
from tests.builders import rewrite_with_keyed_schema
from tests.support_warehouse import add_run, insert
from transforms import db
from transforms.errors import ConfigError, InputError, ProofFailed
from transforms.finance import (
    journal,
    ledger,
    ledger_entries,
    run_start,
    warehouse,
    warehouse_schema,
)
from transforms.runfolder.runs import Run

# The tables version 2 changes, as version 1 (the code before it) created them.
VERSION_1 = """
create table batches (
    batch_id varchar primary key, incident_id varchar not null, run_id varchar not null,
    kind varchar not null, row_count bigint not null, totals_minor json not null,
    entry_hash varchar not null, policy_version varchar not null, folder varchar not null,
    state varchar not null, approved_by varchar not null, created_at timestamptz not null,
    published_at timestamptz
);
create table ledger (
    entry_id varchar primary key, credit_id varchar not null, incident_id varchar not null,
    customer_id varchar not null, currency varchar not null,
    amount_minor bigint not null check (amount_minor > 0), batch_id varchar not null,
    run_id varchar not null, published_at timestamptz not null
);
create table journal (
    seq bigint primary key, recorded_at timestamptz not null, incident_id varchar,
    run_id varchar, event varchar not null, actor varchar not null, detail json not null,
    prev_hash varchar not null, hash varchar not null
);
"""
AT = datetime(2025, 1, 8, 12, tzinfo=UTC)


def version_1_warehouse(path) -> None:
    """A warehouse as version 1 left it: two journal entries (its sha256 chain), a published
    batch of two ledger entries."""
    con = duckdb.connect(str(path))
    con.execute(VERSION_1)
    prev = journal.GENESIS
    for seq, event in enumerate(["approved", "published"], start=1):
        body = {
            "seq": seq,
            "at": AT.isoformat(),
            "incident_id": "INC-1",
            "run_id": "r1",
            "event": event,
            "actor": "alice",
            "detail": {},
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + text).encode()).hexdigest()
        con.execute(
            "insert into journal values (?, ?, 'INC-1', 'r1', ?, 'alice', '{}', ?, ?)",
            [seq, AT, event, prev, digest],
        )
        prev = digest
    for customer, amount in (("c2", 500), ("c1", 1000)):
        con.execute(
            "insert into ledger values (?, ?, 'INC-1', ?, 'USD', ?, 'INC-1-B001', 'r1', ?)",
            [f"k{customer}-01", f"k{customer}", customer, amount, AT],
        )
    con.execute(
        "insert into batches values ('INC-1-B001', 'INC-1', 'r1', 'initial', 2, '{}', 'h', "
        "'v1', '/nowhere', 'published', 'alice', ?, ?)",
        [AT, AT],
    )
    con.close()


@stores.duckdb_only  # the file version 1 left, upgraded on disk
def test_a_version_1_warehouse_is_upgraded_in_place_and_its_ledger_chained(warehouse_location):
    path = warehouse_location
    version_1_warehouse(path)
    with warehouse.connect(path) as con:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        entries = ledger_entries.entries(con)
        assert [(e.customer_id, e.seq, e.link) for e in entries] == [
            ("c1", 1, "sha256"),  # chained in the order published, then by customer
            ("c2", 2, "sha256"),
        ]
        assert ledger_entries.verify(entries, None).tampered == []
        assert journal.verify(con).tampered == []  # the old entries' hashes still hold
        upgraded = journal.entries(con)[-1]
        assert (upgraded.event, upgraded.detail["ledger_entries_chained"]) == ("upgraded", 2)
        columns = {r[0] for r in con.execute("describe batches").fetchall()}
        assert {"journal_head", "ledger_head"} <= columns


@stores.duckdb_only  # the file version 1 left, upgraded on disk
def test_the_upgrade_happens_once(warehouse_location):
    path = warehouse_location
    version_1_warehouse(path)
    warehouse.connect(path).close()
    with warehouse.connect(path) as con:
        # An entry whose links were removed afterwards is not chained again: it is tampering.
        con.execute("update ledger set hash = null where customer_id = 'c2'")
    with warehouse.connect(path) as con:
        assert [e.event for e in journal.entries(con)].count("upgraded") == 1
        (problem,) = ledger_entries.verify(ledger_entries.entries(con), None).tampered
        assert "has no valid seq, hash or link" in problem


@stores.duckdb_only  # a PostgreSQL store's mirror is made anew each time
def test_a_writer_upgrades_again_only_a_catalog_changed_since_this_process_upgraded_it(
    warehouse_location, monkeypatch
):
    # The schema's statements cost about 20 ms a writer's connection, each run two, each
    # approval one; the catalog this process left is not upgraded again.
    path = warehouse_location
    warehouse.connect(path).close()  # made, at this build's schema
    run = []
    statement = db.statement
    monkeypatch.setattr(db, "statement", lambda name: run.append(name) or statement(name))
    warehouse.connect(path).close()
    assert "warehouse_schema" not in run
    with duckdb.connect(str(path)) as con:  # another process (an earlier build) changed it
        con.execute("drop view paid_customers")
        con.execute("alter table evidence drop column table_status")
    warehouse.connect(path).close()
    assert run.count("warehouse_schema") == 1
    with warehouse.connect(path, read_only=True) as con:
        con.execute("select table_status from evidence join paid_customers using (incident_id)")


def test_a_new_warehouse_is_at_the_current_version_without_an_upgrade_entry(warehouse_location):
    with warehouse.writer(warehouse_location) as con:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        assert journal.entries(con) == []
    with warehouse.connect(warehouse_location, read_only=True) as con:  # as it was stored
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        assert journal.entries(con) == []


# Text as input data may hold it: a NUL (which PostgreSQL's text cannot hold), the DLE a store
# may escape it with, what an escaped NUL or DLE would look like, a backslash.
ODD_TEXT = ["a\x00b", "\x00", "\x10", "\x100", "\x101\x00", "\x10\x10", "\\0", "plain"]


def test_any_text_is_kept_exactly(warehouse_location):
    with warehouse.writer(warehouse_location) as con:
        add_run(con, "r1", "pending_approval", "2025-01-08T01:00:00Z")
        for i, name in enumerate(ODD_TEXT):
            insert(con, "run_customers", run_id="r1", customer_id=f"c{i}", name=name)
    with warehouse.writer(warehouse_location) as con, db.transaction(con):
        con.execute("update runs set status = 'declined', decision_note = ?", [ODD_TEXT[0]])
    with warehouse.connect(warehouse_location, read_only=True) as con:
        names = con.execute("select name from run_customers order by customer_id").fetchall()
        note = con.execute("select decision_note from runs").fetchall()
    assert [name for (name,) in names] == ODD_TEXT
    assert note == [(ODD_TEXT[0],)]


@stores.duckdb_only  # the file version 1 left, upgraded on disk
def test_a_reader_of_a_version_1_warehouse_gets_it_upgraded(warehouse_location):
    path = warehouse_location
    version_1_warehouse(path)
    with warehouse.connect_current(path) as con:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        assert len(ledger_entries.entries(con)) == 2


@stores.duckdb_only  # the file lock beside the DuckDB file
def test_a_symlinked_path_shares_the_write_lock(warehouse_location, tmp_path):
    real = warehouse_location
    warehouse.connect(real).close()
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    busy = pytest.raises(warehouse.WarehouseBusy, match="another run or approval is writing")
    with warehouse.write_lock(real), busy, warehouse.write_lock(link, 0.3):
        pass


def holder(path, *, read_only: bool, seconds: float) -> subprocess.Popen:
    """Another process holding the warehouse file open for `seconds`."""
    code = (
        "import duckdb, sys, time\n"
        f"c = duckdb.connect({str(path)!r}, read_only={read_only})\n"
        f"print('ready', flush=True)\ntime.sleep({seconds})\nc.close()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


@stores.duckdb_only  # DuckDB's file lock: a PostgreSQL reader reads a snapshot, never waits
@pytest.mark.parametrize(
    ("holder_reads", "we_read"),
    [
        (False, True),  # a reader (the audit, support) waits for a writer to close the file
        (True, False),  # a writer (an approval) waits for a reader to close it
    ],
)
def test_a_reader_and_a_writer_wait_for_each_other(warehouse_location, holder_reads, we_read):
    path = warehouse_location
    warehouse.connect(path).close()
    other = holder(path, read_only=holder_reads, seconds=1.5)
    try:
        with warehouse.connect(path, read_only=we_read, wait_seconds=30) as con:
            assert db.run(con, "schema_version").fetchall() == [(warehouse.SCHEMA_VERSION,)]
    finally:
        other.kill()
        other.wait()


PER_RUN_TABLES = (
    "evidence",
    "run_credits",
    "run_exceptions",
    "run_customers",
    "run_failure_minutes",
    "run_edge_transactions",
)


def contents(path) -> dict[str, list[tuple]]:
    """Every row of the per-run tables; an exception's amount as version 3 splits it."""
    with warehouse.connect(path, read_only=True) as con:
        found = {t: con.table(t).order("all").fetchall() for t in PER_RUN_TABLES}
        exceptions = con.table("run_exceptions")
        if "amount_minor" in exceptions.columns:  # version 2: one column, two meanings
            owed = "exception in ('unknown_customer', 'closed_account', 'zero_credit')"
            exceptions = exceptions.select(
                "* exclude (amount_minor, detail), "
                f"case when {owed} then amount_minor end as credit_owed_minor, "
                f"case when not {owed} then amount_minor end as failed_amount_minor, detail"
            )
        found["run_exceptions"] = exceptions.order("all").fetchall()
    return found


def keyed_constraints(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return db.run(con, "warehouse_keyed_run_tables").fetchall()


def test_a_rejected_run_that_repeats_its_keys_is_loaded_row_for_row(tmp_path, warehouse_location):
    run_id = golden_incident.load_run(tmp_path / "a", warehouse_location, repeat_keys=True)
    with warehouse.connect(warehouse_location, read_only=True) as con:
        evidence = con.execute(
            "select count(*), count(distinct txn_id) from evidence where run_id = $r",
            {"r": run_id},
        ).fetchone()
        status = con.execute("select status from runs").fetchall()
    assert evidence[0] == 2 * evidence[1] > 0
    assert status == [("rejected",)]


@stores.duckdb_only  # the rule is the seal's, whatever the store
def test_a_manifest_changed_between_load_and_seal_is_refused_not_journaled(
    tmp_path, warehouse_location, monkeypatch
):
    # the seal hashed the copy read back from the store: an edit in between was journaled as
    # the run's own manifest, and `audit --verify` then vouched for it
    location = warehouse_location
    load = warehouse.load_run

    def load_then_edit(con, run, content):
        text = load(con, run, content)
        con.execute("update runs set manifest = '{\"edited\": true}'")
        return text

    monkeypatch.setattr(warehouse, "load_run", load_then_edit)
    with pytest.raises(ProofFailed, match="not sealed: the manifest the warehouse holds") as no:
        golden_incident.load_run(tmp_path / "a", location)
    assert no.value.exit_code == 3
    with warehouse.connect(location, read_only=True) as con:
        assert con.execute("select status from runs").fetchall() == [("sealing",)]
        assert [e.event for e in journal.entries(con)] == []


@pytest.fixture
def keyed_warehouse(tmp_path, warehouse_location):
    """A warehouse file made with the old, keyed schema, holding one run (its tests are
    `duckdb_only`: the old schema was only ever a DuckDB file's)."""
    path = warehouse_location
    golden_incident.load_run(tmp_path / "a", path)
    rewrite_with_keyed_schema(path)
    assert {row[0] for row in keyed_constraints(path)} == {
        "evidence",
        "run_credits",
        "run_customers",
        "run_edge_transactions",
        "run_exceptions",
        "run_failure_minutes",
    }
    return path


@stores.duckdb_only  # a file an earlier version made
def test_a_keyed_warehouse_is_read_as_it_is(keyed_warehouse):
    before = contents(keyed_warehouse)  # a reader never migrates: it reads either form
    assert before["evidence"] and before["run_credits"]
    assert keyed_constraints(keyed_warehouse)


@stores.duckdb_only  # a file an earlier version made, upgraded on disk
def test_a_writer_rebuilds_the_keyed_tables_once_keeping_every_row(keyed_warehouse, tmp_path):
    before = contents(keyed_warehouse)
    warehouse.connect(keyed_warehouse).close()
    assert keyed_constraints(keyed_warehouse) == []
    assert contents(keyed_warehouse) == before
    warehouse.connect(keyed_warehouse).close()  # the second time there is nothing to do
    assert contents(keyed_warehouse) == before
    golden_incident.load_run(
        tmp_path / "b", keyed_warehouse, repeat_keys=True
    )  # and the keys no longer refuse
    after = contents(keyed_warehouse)
    assert len(after["evidence"]) == 3 * len(before["evidence"])


@stores.duckdb_only  # a file an earlier version made, upgraded on disk
def test_an_earlier_warehouse_gets_its_exception_amounts_split(keyed_warehouse):
    with warehouse.connect(keyed_warehouse, read_only=True) as con:
        assert warehouse.schema_version(con) < warehouse.SCHEMA_VERSION
        old = dict(con.execute("select exception, amount_minor from run_exceptions").fetchall())
    assert old["closed_account"] == 1000 and old["unknown_error_code"] == 50
    warehouse.connect(keyed_warehouse).close()
    with warehouse.connect(keyed_warehouse, read_only=True) as con:
        assert warehouse.schema_version(con) == 3
        new = con.execute(
            "select exception, credit_owed_minor, failed_amount_minor from run_exceptions "
            "order by exception"
        ).fetchall()
    assert new == [
        ("closed_account", 1000, None),
        ("customer_mismatch", None, 500),
        ("unattributable", None, 10),
        ("unknown_customer", 1000, None),
        ("unknown_error_code", None, 50),
    ]


@stores.duckdb_only  # a file an earlier version made, upgraded on disk
def test_support_reading_an_earlier_warehouse_upgrades_it_once(keyed_warehouse):
    from transforms.serving import support

    with support.connect(keyed_warehouse) as con:
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
        found = support.lookup(con, "c6")
    (story,) = found.incidents
    assert [(e["exception"], e["credit_owed"], e["failed_amount"]) for e in story.exceptions] == [
        ("closed_account", "10.00", None)
    ]


def test_edge_transactions_are_those_with_a_log_or_table_failure_within_the_margin(tmp_path):
    """`wh_load_edge_transactions` keeps a transaction whose first or last failure line, or
    whose first table row has an error code and lies within the margin of either edge (bounds
    included), and only those; both clocks are listed for each (window 19:15-23:15 UTC)."""
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    add_run(con, "r1", "sealing", "2025-01-08T00:00:00Z")
    con.execute("attach ':memory:' as work")
    con.execute(
        "create table work.int_failure_lines (txn_id varchar, ts_utc timestamptz, "
        "error_code varchar, source_file varchar)"
    )
    con.execute(
        "create table work.stg_transactions (txn_id varchar, created_at timestamptz, "
        "status varchar, error_code varchar)"
    )
    con.execute("create table work.evidence (txn_id varchar, class varchar)")
    lines = [
        ("at_margin", "2025-01-07T18:45:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("past_margin", "2025-01-07T18:44:59.999999Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("last_near_end", "2025-01-07T21:00:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("last_near_end", "2025-01-07T23:45:00Z", None, "b.jsonl"),
        ("middle", "2025-01-07T21:00:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("table_near", "2025-01-07T21:00:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("first_near_end", "2025-01-07T23:00:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("first_near_end", "2025-01-07T23:50:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
        ("later_row_near", "2025-01-07T21:00:00Z", "DB_POOL_EXHAUSTED", "a.jsonl"),
    ]
    con.executemany("insert into work.int_failure_lines values (?, ?, ?, ?)", lines)
    rows = [
        ("middle", "2025-01-07T21:00:00Z", "failed", "DB_POOL_EXHAUSTED"),
        ("table_near", "2025-01-07T23:40:00Z", "failed", "DB_POOL_EXHAUSTED"),
        ("table_only", "2025-01-07T19:15:00Z", "failed", "DB_POOL_EXHAUSTED"),
        ("no_error_near", "2025-01-07T19:15:00Z", "succeeded", None),
        # the table's time is its first row's: a later row with an error code near an edge
        # does not make the transaction near
        ("later_row_near", "2025-01-07T18:00:00Z", "pending", None),
        ("later_row_near", "2025-01-07T19:10:00Z", "failed", "DB_POOL_EXHAUSTED"),
    ]
    con.executemany("insert into work.stg_transactions values (?, ?, ?, ?)", rows)
    con.execute("insert into work.evidence values ('middle', 'failed'), ('at_margin', 'failed')")
    db.run(con, "wh_load_edge_transactions", run_id="r1", incident_id="INC-A", margin_minutes=30)
    found = con.execute(
        "select txn_id, edge, log_error_codes, source_files, table_status, class "
        "from run_edge_transactions order by txn_id"
    ).fetchall()
    assert found == [
        ("at_margin", "start", "DB_POOL_EXHAUSTED", "a.jsonl", None, "failed"),
        ("first_near_end", "end", "DB_POOL_EXHAUSTED", "a.jsonl", None, None),
        ("last_near_end", "end", "DB_POOL_EXHAUSTED", "a.jsonl,b.jsonl", None, None),
        ("table_near", "end", "DB_POOL_EXHAUSTED", "a.jsonl", "failed", None),
        ("table_only", "start", None, None, "failed", None),
    ]
    con.close()


@pytest.mark.parametrize("kind", ["folder", "other file", "empty file"])
def test_a_path_that_is_no_duckdb_warehouse_is_refused_without_a_lock_file(tmp_path, kind):
    from transforms.errors import InputError

    path = tmp_path / "wh.duckdb"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty file":
        path.touch()  # DuckDB's own error for it was an internal error (exit 1)
    else:
        path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    for open_it in (
        lambda: warehouse.connect(path, read_only=True),
        lambda: warehouse.writer(path),
    ):
        refused = {
            "folder": "a folder, not a warehouse",
            "other file": "not a DuckDB warehouse",
            "empty file": "an empty file, not a warehouse",
        }[kind]
        with pytest.raises(InputError, match=refused), open_it():
            pass
    assert not path.with_suffix(".lock").exists()


def test_a_reader_never_writes_the_schema_into_a_duckdb_file_of_something_else(tmp_path):
    from transforms.errors import InputError
    from transforms.serving import support

    path = tmp_path / "payments.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table payments (a int)")
    before = path.read_bytes()
    for read in (support.connect, warehouse.connect_current):
        with pytest.raises(InputError, match="without the warehouse's tables"):
            read(path)
    assert path.read_bytes() == before and not path.with_suffix(".lock").exists()


def test_approve_and_decline_on_a_path_without_a_warehouse_make_none(tmp_path):
    from transforms.errors import InputError

    path = tmp_path / "typo" / "wh.duckdb"
    with pytest.raises(InputError, match="no warehouse yet"):
        ledger.decline(path, "r1", by="alice", reason="x")
    assert not path.parent.exists()


def test_a_postgresql_url_whose_port_is_no_number_is_a_configuration_error():
    from transforms.errors import ConfigError

    with pytest.raises(ConfigError, match="not a PostgreSQL URL .*'notaport'"):
        warehouse.connect("postgresql://finance@127.0.0.1:notaport/credits", read_only=True)


@pytest.mark.parametrize(
    "url",
    ["postgresql://finance:s3cret@[::1:5432/credits", "postgresql://finance:s3cret@h:x/credits"],
)
def test_a_postgresql_url_that_does_not_parse_is_a_usage_error_of_any_command(url):
    from typer.testing import CliRunner

    from flows.cli import app

    for command in (["runs"], ["customers", "INC-A"], ["audit", "--verify"]):
        result = CliRunner().invoke(app, [*command, "--warehouse", url])
        assert result.exit_code == 2, (command, result.output)
        assert "not a PostgreSQL URL" in result.output and "s3cret" not in result.output
        assert "Traceback" not in result.output


def test_a_warehouse_kept_busy_past_the_wait_exits_4_not_as_a_bug(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    path = tmp_path / "wh.duckdb"
    warehouse.connect(path).close()
    monkeypatch.setattr(warehouse, "LOCK_WAIT_SECONDS", 0.2)
    with warehouse.write_lock(path):
        result = CliRunner().invoke(
            app, ["decline", "r1", "--by", "bob", "--reason", "x", "--warehouse", str(path)]
        )
    assert result.exit_code == 4, result.output
    assert "another run or approval is writing" in result.output


@pytest.mark.parametrize("view", ["runs_ordered", "paid_customers", "listed_by_hand"])
def test_a_reader_of_a_warehouse_made_before_a_view_gets_it(tmp_path, view):
    # Made by an earlier build (schema version 3, without the view): `credits runs`, lookups,
    # the page and `credits diff` were a bug's exit 1 (CatalogException) until some writer
    # opened the file.
    from tests.support_warehouse import add_run
    from transforms.serving import run_listing, support

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "r1", "pending_approval", "2025-01-08T01:00:00Z")
        con.execute(
            "create or replace view latest_runs as select * from runs where status <> 'sealing' "
            "qualify row_number() over (partition by incident_id order by started_at desc) = 1"
        )
        con.execute(f"drop view {view}")
    with support.connect(path) as con:
        assert [r.run_id for r in run_listing.runs(con)] == ["r1"]
    with warehouse.connect_current(path) as con:
        assert warehouse.is_current(con)
        con.execute(f"select * from {view}")


def test_what_each_customer_was_paid_and_listed_to_pay_by_hand_is_summed_per_incident(
    tmp_path,
):
    # The one model the batch's difference, its pay-by-hand lines and the diff read (key:
    # incident_id, customer_id, currency).
    with warehouse.writer(tmp_path / "wh.duckdb") as con:
        for entry_id, credit_id, incident, customer, currency, amount in [
            ("e1", "k1", "INC-A", "c1", "USD", 100),  # two credits of one customer: summed
            ("e2", "k2", "INC-A", "c1", "USD", 250),
            ("e3", "k2", "INC-A", "c1", "USD", 50),  # a credit's second entry: summed
            ("e4", "k3", "INC-A", "c1", "EUR", 70),  # another currency: its own row
            ("e5", "k4", "INC-B", "c1", "USD", 9),  # another incident: its own row
        ]:
            insert(
                con, "ledger", entry_id=entry_id, credit_id=credit_id, incident_id=incident,
                customer_id=customer, currency=currency, amount_minor=amount, batch_id="b1",
                run_id="r1", published_at="2025-01-08T00:00:00Z",
            )  # fmt: skip
        for batch, incident, customer, currency, to_pay in [
            ("b1", "INC-A", "c5", "USD", 300),  # listed by two batches: summed
            ("b2", "INC-A", "c5", "USD", 20),
            ("b2", "INC-B", "c5", "USD", 4),  # another incident: its own row
        ]:
            insert(
                con, "batch_pay_by_hand", batch_id=batch, incident_id=incident, run_id="r1",
                customer_id=customer, currency=currency, credit_owed_minor=to_pay, paid_minor=0,
                listed_before_minor=0, to_pay_minor=to_pay,
            )  # fmt: skip
        paid = con.sql("select * from paid_customers order by all").fetchall()
        listed = con.sql("select * from listed_by_hand order by all").fetchall()
    assert paid == [
        ("INC-A", "c1", "EUR", 70),
        ("INC-A", "c1", "USD", 400),
        ("INC-B", "c1", "USD", 9),
    ]
    assert listed == [("INC-A", "c5", "USD", 320), ("INC-B", "c5", "USD", 4)]


def _started(location, incident_id: str, run_id: str) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    run = Run(run_id, incident_id, Path(f"/runs/incident={incident_id}/run={run_id}"), at)
    warehouse.record_start(location, run, None)


def test_a_run_of_an_incident_held_in_another_case_is_refused(warehouse_location):
    # `inc-t` beside INC-T was a second incident: on a case-insensitive file system (macOS, a
    # Windows share) both are the folder incident=INC-T, and finance reads them as one
    _started(warehouse_location, "INC-T", "r1")  # a run only started, in the journal
    with warehouse.writer(warehouse_location) as writer:
        add_run(writer, "r0", "published", "2025-01-08T01:00:00Z", incident="INC-L")  # loaded
    _started(warehouse_location, "INC-T", "r2")  # the same id again is the same incident
    run_start.require_one_spelling_at(warehouse_location, "INC-T")
    for typed, held in [("inc-t", "INC-T"), ("Inc-L", "INC-L")]:
        # before the run's folder is made, and again as its start is journaled (a race)
        for check in (
            lambda typed=typed: run_start.require_one_spelling_at(warehouse_location, typed),
            lambda typed=typed: _started(warehouse_location, typed, "r3"),
        ):
            with pytest.raises(InputError) as refused:
                check()
            assert str(refused.value).startswith(
                f"incident {typed}: the warehouse holds {held}, an id that differs only in case"
            )
            assert refused.value.exit_code == 2
    with warehouse.connect(warehouse_location, read_only=True) as con:
        started = db.run(con, "runs_incident_ids").fetchall()
    assert started == [("INC-L",), ("INC-T",)]


@stores.duckdb_only  # a file opened by a tool itself
def test_a_view_re_created_in_the_file_is_named_for_whoever_opens_the_file_itself(
    warehouse_location,
):
    # Every command reads its own views, but a notebook opening the file with duckdb reads the
    # file's: a forged `paid_credits` (every credit unpaid) passed `audit --verify` unnamed.
    with warehouse.writer(warehouse_location):
        pass
    with warehouse.connect(warehouse_location, read_only=True) as con:
        assert warehouse_schema.views_not_this_build(con) == []
    with duckdb.connect(str(warehouse_location)) as con:
        con.execute("create or replace view paid_credits as select * from ledger where false")
    with warehouse.connect(warehouse_location, read_only=True) as con:
        (note,) = warehouse_schema.views_not_this_build(con)
    assert note.startswith("view paid_credits in the DuckDB file is not this version's")


@pytest.mark.parametrize("kind", ["named .lock", "beside", "link"])
def test_a_file_where_the_write_lock_goes_is_never_overwritten(tmp_path, kind):
    # The writer wrote its pid over whatever was at <name>.lock, following a link: a warehouse
    # named wh.lock (its own lock file) was cut to six bytes by the first decline, its data lost.
    precious = tmp_path / "precious.duckdb"
    warehouse.connect(precious).close()
    kept = precious.read_bytes()
    path, target = tmp_path / "wh.duckdb", precious
    if kind == "named .lock":
        path = target = precious.rename(tmp_path / "wh.lock")
    elif kind == "beside":
        target = precious.rename(tmp_path / "wh.lock")
    else:
        (tmp_path / "wh.lock").symlink_to(precious)
    with pytest.raises(ConfigError, match=r"wh\.lock"), warehouse.write_lock(path):
        pass
    assert target.read_bytes() == kept
