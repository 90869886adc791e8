"""Support's list and lookup on a small warehouse of inline rows; safe exports; no Prefect."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from transforms.errors import ConfigError, InputError
from transforms.finance import warehouse
from transforms.serving import exports, support

HOSTILE = {
    "c7": '=HYPERLINK("http://x","click")',
    "c8": "+cmd|' /C calc'!A0",
    "c9": "@SUM(1+1)",
    "c10": "-2+3",
    "c11": "\t=1+1",
    "c12": "\r=1+1",
}


def insert(con, table: str, **row) -> None:
    columns = ", ".join(row)
    con.execute(
        f"insert into {table} ({columns}) values ({', '.join('?' * len(row))})", list(row.values())
    )


def add_run(con, run_id, status, started, incident="INC-A", timezone="America/New_York"):
    insert(
        con,
        "runs",
        run_id=run_id,
        incident_id=incident,
        incident_title=f"{incident} outage",
        timezone=timezone,
        window_start_utc="2025-01-07T19:15:00Z",
        window_end_utc="2025-01-07T23:15:00Z",
        status=status,
        policy_version="p1",
        policy_sha256="0" * 64,
        run_folder=f"/runs/{run_id}",
        started_at=started,
        finished_at=started,
        manifest="{}",
    )


def add_candidate(
    con,
    run_id,
    txn_id,
    customer_id,
    *,
    cls="failed",
    credited=True,
    reason=None,
    currency="USD",
    at="2025-01-07T19:20:00Z",
    incident="INC-A",
):
    insert(
        con,
        "evidence",
        run_id=run_id,
        incident_id=incident,
        txn_id=txn_id,
        **{"class": cls},
        credited=credited,
        reason=reason or cls,
        customer_id=customer_id,
        amount_minor=2500,
        currency=currency,
        error_codes="DB_POOL_TIMEOUT",
        first_failure_at=at,
        last_failure_at=at,
        failure_lines=1,
        source_files="logs/pod-a.jsonl",
    )


def add_credit(con, run_id, customer_id, amount, currency="USD", incident="INC-A"):
    insert(
        con,
        "run_credits",
        run_id=run_id,
        credit_id=f"{incident}-{customer_id}-{currency}",
        incident_id=incident,
        customer_id=customer_id,
        currency=currency,
        credit_amount=f"{amount / 100:.2f}",
        credit_amount_minor=amount,
        credited_txn_count=1,
        failed_amount_minor=2500,
        reason_code="outage_credit",
        description="Credit",
        policy_version="p1",
    )


def add_payment(con, customer_id, amount, currency="USD", incident="INC-A", batch="INC-A-B001"):
    credit_id = f"{incident}-{customer_id}-{currency}"
    insert(
        con,
        "ledger",
        entry_id=f"{credit_id}-{batch}",
        credit_id=credit_id,
        incident_id=incident,
        customer_id=customer_id,
        currency=currency,
        amount_minor=amount,
        batch_id=batch,
        run_id="r1",
        published_at="2025-01-08T15:00:00Z",
    )


def add_customer(con, run_id, customer_id, segment="consumer", status="active", name=None):
    insert(
        con,
        "run_customers",
        run_id=run_id,
        customer_id=customer_id,
        name=name or f"Name {customer_id}",
        email=f"{customer_id}@example.com",
        country="US",
        segment=segment,
        status=status,
    )


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory) -> Path:
    """INC-A: r1 published and paid c1; r2 pending (the answer); r3 newer but rejected.
    INC-B (Tokyo): c1 again, pending; an unattributable payment t90."""
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    with warehouse.connect(path) as con:
        add_run(con, "r1", "published", "2025-01-08T01:00:00Z")
        add_credit(con, "r1", "c1", 1000)
        add_payment(con, "c1", 1000)
        add_payment(con, "c3", 500, currency="EUR")
        add_run(con, "r2", "pending_approval", "2025-01-08T02:00:00Z")
        # c1 paid in full by r1; c2 new; c3 partly paid; c4..c6 excluded, each for its reason
        add_candidate(con, "r2", "t1", "c1")
        add_candidate(con, "r2", "t2", "c2", at="2025-01-07T19:20:00Z")
        add_candidate(con, "r2", "t3", "c2", at="2025-01-07T21:05:30Z")
        add_candidate(con, "r2", "t4", "c3", currency="EUR")
        add_candidate(con, "r2", "t5", "c4", credited=False, reason="excluded_segment")
        add_candidate(con, "r2", "t6", "c5", credited=False, reason="closed_account")
        add_candidate(con, "r2", "t7", "c6", cls="declined", credited=False)
        for customer_id in HOSTILE:
            add_candidate(con, "r2", f"t-{customer_id}", customer_id)
            add_credit(con, "r2", customer_id, 1000)
            add_customer(con, "r2", customer_id, name=HOSTILE[customer_id])
        add_credit(con, "r2", "c1", 1000)
        add_credit(con, "r2", "c2", 1000)
        add_credit(con, "r2", "c3", 900, currency="EUR")
        for customer_id in ("c1", "c2", "c3", "c6"):
            add_customer(con, "r2", customer_id)
        add_customer(con, "r2", "c4", segment="internal")
        add_customer(con, "r2", "c5", status="closed")
        insert(
            con,
            "run_exceptions",
            run_id="r2",
            incident_id="INC-A",
            exception="closed_account",
            customer_id="c5",
            currency="USD",
            txn_count=1,
            credit_owed_minor=1000,
            detail="account is closed: pay by hand",
        )
        add_run(con, "r3", "rejected", "2025-01-08T03:00:00Z")
        add_candidate(con, "r3", "t1", "c1", cls="declined", credited=False)
        add_run(
            con,
            "b1",
            "pending_approval",
            "2025-01-09T00:00:00Z",
            incident="INC-B",
            timezone="Asia/Tokyo",
        )
        add_candidate(con, "b1", "t80", "c1", incident="INC-B")
        add_credit(con, "b1", "c1", 1000, incident="INC-B")
        add_customer(con, "b1", "c1")
        add_candidate(
            con, "b1", "t90", None, cls="unattributable", credited=False, incident="INC-B"
        )
        insert(
            con,
            "run_exceptions",
            run_id="b1",
            incident_id="INC-B",
            exception="unattributable",
            txn_id="t90",
            txn_count=1,
            failed_amount_minor=2500,
            currency="USD",
            detail="not attributable",
        )
        add_run(con, "x1", "rejected", "2025-01-09T00:00:00Z", incident="INC-X")
        add_run(con, "d1", "pending_approval", "2025-01-09T00:00:00Z", incident="INC-D")
        add_run(con, "d2", "declined", "2025-01-09T01:00:00Z", incident="INC-D")
    return path


@pytest.fixture
def con(warehouse_path):
    with support.connect(warehouse_path) as connection:
        yield connection


def by_customer(rows):
    return {(row["customer_id"], row["currency"]): row for row in rows}


def test_the_answer_comes_from_the_newest_passing_run_and_says_so(con):
    found = support.customers(con, "INC-A")
    assert found.run.run_id == "r2"
    assert "newest run r3 was rejected by the quality gate" in found.run.note
    assert {row["run_id"] for row in found.rows} == {"r2"}


def test_a_run_declined_by_finance_never_answers_either(con):
    found = support.customers(con, "INC-D")
    assert found.run.run_id == "d1"
    assert "newest run d2 was declined by finance" in found.run.note


@pytest.mark.parametrize(
    ("key", "status", "credit", "paid", "why"),
    [
        # paid in full by an earlier run's batch
        (("c1", "USD"), "published", "10.00", "10.00", "paid 10.00 USD in batch INC-A-B001"),
        # a new credit of the run waiting for approval
        (("c2", "USD"), "pending", "10.00", None, "waiting for finance's approval of run r2"),
        # partly paid: the rest waits
        (("c3", "EUR"), "pending", "9.00", "5.00", "5.00 EUR already paid"),
        # excluded, each saying why
        (("c4", "USD"), "excluded", None, None, "segment 'internal' is not credited"),
        (("c5", "USD"), "excluded", None, None, "the account is closed"),
        (("c6", "USD"), "excluded", None, None, "declined by the card issuer"),
    ],
)
def test_each_customer_gets_a_status_and_the_reason(con, key, status, credit, paid, why):
    row = by_customer(support.customers(con, "INC-A").rows)[key]
    assert (row["status"], row["credit_amount"], row["paid_amount"]) == (status, credit, paid)
    assert why in row["detail"]


def test_failed_payments_are_counted_with_times_in_the_incident_zone(con):
    row = by_customer(support.customers(con, "INC-A").rows)[("c2", "USD")]
    assert row["failed_txn_count"] == 2
    assert row["first_failure_local"] == "2025-01-07T14:20:00-05:00"
    assert row["last_failure_local"] == "2025-01-07T16:05:30-05:00"
    assert list(row) == list(support.COLUMNS)


@pytest.mark.parametrize(
    ("timezone", "shown"),
    [
        ("America/New_York", "2025-01-07T14:20:00-05:00"),  # winter: UTC-5
        ("Asia/Tokyo", "2025-01-08T04:20:00+09:00"),  # the next day
        ("UTC", "2025-01-07T19:20:00+00:00"),
    ],
)
def test_local_time_is_the_incident_zone_to_the_second(timezone, shown):
    from datetime import UTC, datetime

    instant = datetime(2025, 1, 7, 19, 20, 0, 999_999, tzinfo=UTC)  # truncated, never rounded
    assert support.local_time(instant, timezone) == shown


@pytest.mark.parametrize(
    ("segment", "status", "expected"),
    [
        (None, "all", {"c1", "c2", "c3", "c4", "c5", "c6", *HOSTILE}),
        (None, "pending", {"c2", "c3", *HOSTILE}),
        (None, "published", {"c1"}),
        (None, "excluded", {"c4", "c5", "c6"}),
        ("internal", "all", {"c4"}),
        ("internal", "pending", set()),  # filters combine
    ],
)
def test_filters_by_segment_and_status(con, segment, status, expected):
    rows = support.customers(con, "INC-A", segment=segment, status=status).rows
    assert {row["customer_id"] for row in rows} == expected


@pytest.mark.parametrize(
    ("incident_id", "error", "message"),
    [
        ("INC-NOPE", InputError, "incident INC-NOPE: not in the warehouse (incidents: INC-A"),
        ("INC-X", InputError, "no run passed the quality gate"),  # only a rejected run
    ],
)
def test_an_incident_without_an_answer_is_named(con, incident_id, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        support.customers(con, incident_id)


def test_a_bad_status_filter_is_a_usage_error(con):
    with pytest.raises(ConfigError, match="--status: 'pendin'"):
        support.customers(con, "INC-A", status="pendin")


def test_lookup_tells_a_customers_story_across_incidents(con):
    found = support.lookup(con, "c1")
    assert found.customer == {
        "name": "Name c1",
        "email": "c1@example.com",
        "country": "US",
        "segment": "consumer",
    }
    stories = {story.run.incident_id: story for story in found.incidents}
    assert set(stories) == {"INC-A", "INC-B"}
    assert [c["status"] for c in stories["INC-A"].credits] == ["published"]
    assert [c["status"] for c in stories["INC-B"].credits] == ["pending"]
    assert stories["INC-B"].transactions[0]["first_failure_local"] == "2025-01-08T04:20:00+09:00"


def test_lookup_shows_the_exceptions_for_finance(con):
    story = support.lookup(con, "c5").incidents[0]
    assert [e["exception"] for e in story.exceptions] == ["closed_account"]
    assert (story.exceptions[0]["credit_owed"], story.exceptions[0]["failed_amount"]) == (
        "10.00",
        None,
    )


def test_lookup_by_transaction_finds_its_customer(con):
    found = support.lookup(con, txn_id="t3")
    assert found.customer_id == "c2"
    assert [t["txn_id"] for t in found.incidents[0].transactions] == ["t2", "t3"]


def test_lookup_of_an_unattributable_transaction_has_no_customer(con):
    found = support.lookup(con, txn_id="t90")
    assert found.customer_id is None and found.customer is None
    story = found.incidents[0]
    assert [t["class"] for t in story.transactions] == ["unattributable"]
    assert [e["exception"] for e in story.exceptions] == ["unattributable"]


@pytest.mark.parametrize(
    ("customer_id", "txn_id", "error", "message"),
    [
        ("nobody", None, InputError, "customer nobody: no failed payment, credit or exception"),
        (None, "t-none", InputError, "transaction t-none: not a candidate failure"),
        (None, None, ConfigError, "give a CUSTOMER_ID or --txn"),
        ("c1", "t1", ConfigError, "give a CUSTOMER_ID or --txn"),
    ],
)
def test_an_unknown_or_missing_id_gets_a_clear_message(con, customer_id, txn_id, error, message):
    with pytest.raises(error, match=message):
        support.lookup(con, customer_id, txn_id)


def test_a_missing_warehouse_is_named(tmp_path):
    with pytest.raises(InputError, match="no warehouse yet"):
        support.connect(tmp_path / "none.duckdb")


# Safe exports


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # harmless text, numbers and empty cells stay as they are
        ("Zoë Müller", "Zoë Müller"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_a_cell_starting_like_a_formula_is_neutralised(value, shown):
    assert exports.spreadsheet_safe(value) == shown


def test_csv_text_neutralises_every_cell_and_round_trips():
    rows = [{"name": name, "n": 1, "empty": None} for name in HOSTILE.values()]
    text = exports.csv_text(("name", "n", "empty"), rows)
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["name"] for r in read] == [f"'{name}" for name in HOSTILE.values()]
    assert {r["empty"] for r in read} == {""}


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_an_export_is_readable_by_its_owner_only(tmp_path, umask):
    path = tmp_path / "customers.csv"
    path.write_text("old")
    path.chmod(0o644)  # an older, readable file is replaced, not reused
    previous = os.umask(umask)
    try:
        exports.write_private(path, "ä\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == "ä\n".encode()


def test_an_export_into_a_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        exports.write_private(tmp_path / "no" / "x.csv", "")


# The commands


runner = CliRunner()


def test_customers_csv_is_owner_only_spreadsheet_safe_utf8(warehouse_path, tmp_path):
    out = tmp_path / "notice.csv"
    result = runner.invoke(
        app,
        [
            "customers",
            "INC-A",
            "--format",
            "csv",
            "--out",
            str(out),
            "--warehouse",
            str(warehouse_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    names = {row["customer_id"]: row["name"] for row in rows}
    assert all(names[c] == f"'{name}" for c, name in HOSTILE.items())
    assert list(rows[0]) == list(support.COLUMNS)


def test_customers_json_carries_the_answering_run(warehouse_path):
    result = runner.invoke(
        app,
        [
            "customers",
            "INC-A",
            "--format",
            "json",
            "--status",
            "published",
            "--warehouse",
            str(warehouse_path),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["run_id"], document["timezone"]) == ("r2", "America/New_York")
    assert [row["customer_id"] for row in document["customers"]] == ["c1"]


def test_customers_table_shows_names_as_text(warehouse_path):
    result = runner.invoke(app, ["customers", "INC-A", "--warehouse", str(warehouse_path)])
    assert result.exit_code == 0, result.output
    assert "from run r2 (pending_approval)" in result.stdout
    assert '=HYPERLINK("http://x","click")' in result.stdout
    assert (
        "\r" not in result.stdout and "\t=1" not in result.stdout
    )  # control characters shown as ?


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customers", "INC-NOPE"], "incident INC-NOPE: not in the warehouse"),
        (["customers", "INC-A", "--out", "x.txt"], "--out: choose --format csv or json"),
        (["customers", "INC-A", "--format", "xlsx"], "--format: 'xlsx'"),
        (["lookup", "nobody"], "customer nobody: no failed payment"),
        (["lookup"], "give a CUSTOMER_ID or --txn"),
    ],
)
def test_command_errors_exit_2_with_a_message(warehouse_path, args, message):
    result = runner.invoke(app, [*args, "--warehouse", str(warehouse_path)])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_lookup_prints_credits_payments_and_exceptions(warehouse_path):
    result = runner.invoke(app, ["lookup", "c5", "--warehouse", str(warehouse_path)])
    assert result.exit_code == 0, result.output
    for text in (
        "customer c5: Name c5 <c5@example.com>",
        "excluded",
        "the account is closed",
        "t6",
        "closed_account",
    ):
        assert text in result.stdout


def test_support_commands_never_import_prefect(warehouse_path):
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from flows.cli import app\n"
        f"wh = {str(warehouse_path)!r}\n"
        "for args in (['customers', 'INC-A'], ['lookup', 'c1'], ['lookup', '--txn', 't90']):\n"
        "    result = CliRunner().invoke(app, [*args, '--warehouse', wh])\n"
        "    assert result.exit_code == 0, result.output\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[3],
    )
    assert result.returncode == 0, result.stderr


def test_a_busy_warehouse_is_waited_for_then_named(tmp_path, monkeypatch):
    path = tmp_path / "wh.duckdb"
    warehouse.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(path)!r})\nprint('ready', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"  # a writer holds the file
        monkeypatch.setattr(support, "BUSY_WAIT_SECONDS", 0.3)
        with pytest.raises(warehouse.WarehouseBusy, match="try again in a moment"):
            support.connect(path)
    finally:
        holder.kill()
        holder.wait()
