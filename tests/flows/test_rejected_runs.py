"""Data the gate rejects never breaks a later step: the run ends rejected (exit 3), recorded.

Each case runs the real flow (Prefect test harness) on a small incident whose tables or logs
break the contract in one way, and checks what finance and support rely on afterwards: the
failing expectation is named, no credit file, `report.html` and `validation.html` written,
the run in the warehouse as `rejected` with every evidence row, and its journal entry. What the
warehouse keeps and answers is checked on both stores (a DuckDB file, a PostgreSQL database).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests import stores
from tests.builders import customer, failure, rewrite_with_keyed_schema, txn, write_incident
from transforms.errors import ConfigError, ValidationRejected
from transforms.finance import journal, ledger, warehouse
from transforms.runfolder.summary import RunSummary
from transforms.serving import support

LINES = [
    failure("t1", customer_id="c1"),
    failure("t2"),
    failure("t3"),
    failure("t4", ts="2025-01-07T19:20:00Z"),  # 5 minutes into the window: an edge transaction
]
TABLE = [
    txn("t1", customer_id="c1"),
    txn("t2", customer_id="c2"),
    txn("t3", customer_id="c3", currency="EUR"),
    txn("t4", customer_id="c1", created_at="2025-01-07T19:20:00Z"),
]
CUSTOMERS = [customer("c1"), customer("c2"), customer("c3")]
PERCENT = {"basis": "percent_of_failed_amount", "percent": 10}
HOSTILE = "\x1b[2J=cmd|' /C calc'!A0\x00\u202e<b>"  # a terminal escape, a formula, a NUL, bidi


def with_rows(changes: dict[int, dict]) -> list[dict]:
    """TABLE with the rows at the given indexes changed."""
    return [{**row, **changes.get(i, {})} for i, row in enumerate(TABLE)]


# (case id, incident settings, what the gate must name)
CASES = [
    pytest.param(
        {"transactions": [*TABLE, txn("t1", customer_id="c2"), TABLE[3]]},
        ["transactions: expect_column_values_to_be_unique(txn_id)"],
        id="duplicated-txn_id",  # the evidence key, also near an edge
    ),
    pytest.param(
        {"transactions": [*TABLE, txn(None, customer_id="c2"), txn("  ", customer_id="c3")]},
        [
            "evidence: expect_column_values_to_not_be_null(txn_id)",  # a table_only, no id
            "transactions: expect_column_values_to_match_regex(txn_id)",
        ],
        id="null-and-blank-txn_id",
    ),
    pytest.param(
        {"transactions": with_rows({1: {"customer_id": None}, 2: {"customer_id": " "}})},
        [
            "transactions: expect_column_values_to_not_be_null(customer_id)",
            "transactions: expect_column_values_to_match_regex(customer_id)",
        ],
        id="null-and-blank-customer_id",
    ),
    pytest.param(
        {"transactions": with_rows({1: {"currency": None}, 2: {"currency": "XBT"}})},
        [
            "transactions: expect_column_values_to_not_be_null(currency)",
            "transactions: expect_column_values_to_be_in_set(currency)",
            "evidence: expect_column_values_to_not_be_in_set(reason)",  # no flat_minor for them
        ],
        id="null-and-non-iso-currency",
    ),
    pytest.param(
        {
            "transactions": [
                *with_rows({1: {"currency": None}, 2: {"currency": "usd"}}),
                txn("t5", customer_id="c4", amount_minor=None),  # a table_only
            ],
            "customers": [*CUSTOMERS, customer("c4")],
            "policy": PERCENT,
        },
        [
            # priced without policy amounts: once a null credit_id, a credit line in "usd" and,
            # for c4's null amount, nothing to take a percent of (silently unpaid)
            "transactions: expect_column_values_to_not_be_null(currency)",
            "credits: expect_column_values_to_be_in_set(currency)",
            "evidence: expect_column_values_to_not_be_in_set(reason)",
        ],
        id="percent-of-no-currency-or-amount",
    ),
    pytest.param(
        # the file's name dates it to 14:00-15:00 UTC, before the window (19:15Z): never opened
        {"log_name": "logs/pod-a.2025-01-07T14.jsonl"},
        ["inputs: no log line was read: every log file the globs matched"],
        id="every-log-file-pruned-by-its-hour",  # the run would read nothing and pay nothing
    ),
    pytest.param(
        {"transactions": [*with_rows({0: {"amount_minor": 0}}), txn("t5", amount_minor=-700)]},
        ["transactions: expect_column_values_to_be_between(amount_minor)"],
        id="zero-and-negative-amounts",
    ),
    pytest.param(
        {
            "transactions": [
                txn(t, customer_id=None, amount_minor=-1, currency=None, status="chargeback")
                for t in ("t1", "t1", "t2", "t4")
            ],
            "customers": [customer(None), customer(None)],
        },
        [
            "transactions: expect_column_values_to_be_unique(txn_id)",
            "transactions: expect_column_values_to_be_in_set(status)",
        ],
        id="every-table-row-bad",
    ),
    pytest.param(
        {"lines": ["{not json"] * 3, "transactions": [], "customers": []},
        ["file_profile: expect_column_sum_to_be_between(quarantined)"],
        id="empty-tables-and-no-good-line",  # zero rows in every table the gate reads
    ),
    pytest.param(
        {"customers": []},
        ["inputs: the customer table (customers.parquet) holds no row"],
        id="empty-customer-table",  # every credit line an unknown_customer, no one paid
    ),
    pytest.param(
        {
            "lines": [
                *LINES,
                *LINES,  # byte-identical copies
                b'{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","txn_id":"t2",'
                b'"error_code":"DB_POOL_TIMEOUT"}\r\n',  # CRLF
                b'{"txn_id":" t2 ","error_code":"DB_POOL_TIMEOUT","event":"payment.failed",'
                b'"ts":"2025-01-07T15:00:00-05:00"}\n',  # keys reordered, id padded, an offset
                b"\xef\xbb\xbf" + b'{"ts":"2025-01-07T20:00:00Z"}\n',  # a BOM mid-file
                "garbage",
                "garbage",
            ]
        },
        ["file_profile: expect_column_sum_to_be_between(quarantined)"],
        id="repeated-log-lines-in-odd-forms",
    ),
    pytest.param(
        {
            "transactions": with_rows({2: {"customer_id": HOSTILE}}),
            "customers": [customer("c1", name=HOSTILE, segment="vip"), *CUSTOMERS[1:]],
        },
        ["customers: expect_column_values_to_be_in_set(segment)"],
        id="control-characters-in-names-and-ids",
    ),
]


@pytest.fixture
def root(prefect_harness, gx_answers, tmp_path) -> Path:
    """The test's folder; GX answers the frames an earlier case had from memory (every case
    shares all the frames but those it breaks)."""
    return tmp_path


@pytest.fixture
def wh(root, warehouse_location) -> warehouse.Location:
    """The warehouse on each store: what a rejected run leaves there, whatever its data."""
    return warehouse_location


def in_file(root: Path) -> Path:
    """The warehouse of a test about the run's report or configuration rather than what the
    warehouse keeps: a DuckDB file (no flow run twice for nothing)."""
    return root / "wh.duckdb"


def run(root: Path, wh: warehouse.Location, **settings) -> RunSummary:
    """Runs the flow on an incident made of LINES, TABLE and CUSTOMERS changed by `settings`."""
    from flows.credit_reconciliation import credit_reconciliation

    settings = {"lines": LINES, "transactions": TABLE, "customers": CUSTOMERS, **settings}
    path = write_incident(root / "inc", **settings)
    return credit_reconciliation(str(path), str(root / "out"), str(wh))


def rejected_run(root: Path, wh: warehouse.Location, **settings) -> RunSummary:
    """The summary of a run the gate must reject."""
    with pytest.raises(ValidationRejected) as rejected:
        run(root, wh, **settings)
    return rejected.value.summary


def assert_recorded_as_rejected(
    wh: warehouse.Location, content: RunSummary, expectations: list[str]
) -> None:
    """What every rejected run leaves: named failures, its files, the warehouse and journal."""
    blocking = content.blocking
    for expected in expectations:
        assert any(line.startswith(expected) for line in blocking), (expected, blocking)
    folder = content.run_folder
    assert not (folder / "credits.csv").exists()
    for name in ("report.html", "validation.html", "manifest.json", "evidence.parquet"):
        assert (folder / name).exists(), name
    assert "Rejected by the quality gate" in (folder / "report.html").read_text()
    run_id = content.run_id
    with warehouse.connect(wh, read_only=True) as con:
        status = con.execute("select status from runs where run_id = $r", {"r": run_id}).fetchall()
        evidence = con.execute(
            "select count(*) from evidence where run_id = $r", {"r": run_id}
        ).fetchone()[0]
        events = [(e.run_id, e.event) for e in journal.entries(con)]
        check = journal.verify(con)
        assert (check.tampered, check.unverified) == ([], [])
    assert status == [("rejected",)]
    assert evidence == pq.read_metadata(folder / "evidence.parquet").num_rows  # every row
    assert events[-2:] == [(run_id, "started"), (run_id, "rejected")]


@pytest.mark.parametrize(("settings", "expectations"), CASES)
def test_a_rejected_run_is_recorded_whatever_its_data(root, wh, settings, expectations):
    assert_recorded_as_rejected(wh, rejected_run(root, wh, **settings), expectations)


def test_a_duplicated_customer_id_is_recorded_with_both_its_credit_lines(root, wh):
    # the customer twice fans out the credit lines: two lines for one credit_id
    customers = [*CUSTOMERS, customer("c1", segment="business", name="Other")]
    content = rejected_run(root, wh, customers=customers)
    assert_recorded_as_rejected(
        wh, content, ["customers: expect_column_values_to_be_unique(customer_id)"]
    )
    with warehouse.connect(wh, read_only=True) as con:
        lines = con.execute(
            "select credit_id from run_credits where run_id = $r and customer_id = 'c1'",
            {"r": content.run_id},
        ).fetchall()
        people = con.execute(
            "select name from run_customers where run_id = $r and customer_id = 'c1' order by 1",
            {"r": content.run_id},
        ).fetchall()
    assert len(lines) == 2 and lines[0] == lines[1]  # as the run computed them: nothing lost
    assert people == [("Name c1",), ("Other",)]


def test_a_credited_currency_without_flat_minor_stops_the_run_as_a_configuration_error(root):
    with pytest.raises(ConfigError, match="policy.flat_minor: no amount for GBP"):
        run(root, in_file(root), transactions=with_rows({1: {"currency": "GBP"}}))
    assert not list((root / "out").rglob("credits.csv"))


NOT_MONEY = "is not money on 2025-01-07 (UTC, the window's days): legal tender in no territory"


@pytest.mark.parametrize("policy", [PERCENT, None], ids=["percent", "flat"])
def test_a_currency_not_in_use_on_the_window_s_days_is_rejected_naming_it(root, policy):
    # DEM (withdrawn in 2002) and CNH (offshore yuan, no territory's tender) are codes Babel
    # knows: they passed as ISO 4217, and under the percent basis were credited and paid
    transactions = with_rows({1: {"currency": "DEM"}, 2: {"currency": "CNH"}})
    settings = {"policy": policy} if policy else {}
    content = rejected_run(root, in_file(root), transactions=transactions, **settings)
    expectations = [
        "transactions: expect_column_values_to_be_in_set(currency)",
        f"inputs: currency 'CNH' of 1 candidate transaction(s) (e.g. 't3') {NOT_MONEY}",
        f"inputs: currency 'DEM' of 1 candidate transaction(s) (e.g. 't2') {NOT_MONEY}",
        # percent: credit lines in them; flat: no flat_minor for a currency that is no money
        # (unpriced, not a configuration error: no amount would make it payable)
        "credits: expect_column_values_to_be_in_set(currency)"
        if policy
        else "evidence: expect_column_values_to_not_be_in_set(reason)",
    ]
    assert_recorded_as_rejected(in_file(root), content, expectations)


def test_a_failure_logged_in_a_currency_not_in_use_is_rejected_not_lost_in_the_quarantine(root):
    # the log line is quarantined (no money then), under the quarantine limits: the failure, a
    # payment the table does not hold, went uncredited and the run passed
    quiet = [failure(f"h{i}", event="heartbeat") for i in range(300)]
    lines = [*LINES, *quiet, failure("t5", customer_id="c2", currency="CNH", amount_minor=1000)]
    content = rejected_run(root, in_file(root), lines=lines)
    expected = "inputs: currency 'CNH' of 1 quarantined log line(s) (e.g. logs/"
    assert any(line.startswith(expected) for line in content.blocking), content.blocking
    assert any("a failure among them would go uncredited" in b for b in content.blocking)
    assert_recorded_as_rejected(in_file(root), content, [expected])


@pytest.mark.parametrize("currency", ["usd", " USD", "US$"])
def test_a_failure_logged_in_a_currency_that_is_no_iso_code_is_rejected_not_lost(root, currency):
    # quarantined as no ISO 4217 code, under the quarantine limits: the failure, a payment the
    # table does not hold, went uncredited and the run passed (DEM or CNH rejected it)
    quiet = [failure(f"h{i}", event="heartbeat") for i in range(300)]
    lines = [*LINES, *quiet, failure("t5", customer_id="c2", currency=currency, amount_minor=1000)]
    content = rejected_run(root, in_file(root), lines=lines)
    expected = "inputs: a currency of 1 quarantined log line(s) (e.g. logs/"
    assert any(line.startswith(expected) for line in content.blocking), content.blocking
    assert any("is not an ISO 4217 code as written" in b for b in content.blocking)
    assert_recorded_as_rejected(in_file(root), content, [expected])


def test_a_log_line_stamped_far_from_the_window_stays_off_the_report_chart(root):
    # a clock reset to 1970 is the real case; months keep the test cheap if the bound is lost
    far = [failure("t9", ts="2024-11-01T00:00:00Z"), failure("t8", ts="2025-03-01T00:00:00Z")]
    lines = [*LINES, *far, failure("t7")]
    # t7 failed in the window by the log; the table's clock says year 1 (the table wins)
    table = [*TABLE, txn("t7", customer_id="c2", created_at="0001-01-01T00:00:00+00:00")]
    content = run(root, in_file(root), lines=lines, transactions=table)
    page = (content.run_folder / "report.html").read_text()
    assert "2 failure line(s)</b> more than 1 day(s) from the window are not drawn" in page
    with warehouse.connect(in_file(root), read_only=True) as con:
        lines = con.execute("select sum(lines) from run_failure_minutes").fetchone()[0]
        credited = con.execute("select credited from evidence where txn_id = 't7'").fetchall()
    assert lines == 7  # the far ones stay in the warehouse: the notebooks leave them out
    assert credited == [(True,)]


def test_support_answers_from_passing_runs_when_rejected_ones_are_newer(root, wh):
    paid = run(root, wh)
    ledger.approve(wh, paid.run_id, by="alice", note=None, outbox=root / "out")
    # a newer passing run no longer sees c3 (paid above): support names c3 from an older run
    answering = run(root, wh, lines=LINES[:2] + LINES[3:], transactions=TABLE[:2] + TABLE[3:])
    # the newest run's table repeats t1 for another customer; its customer table renames c3
    rejected_run(
        root,
        wh,
        transactions=[*TABLE, txn("t1", customer_id="c0")],
        customers=[*CUSTOMERS[:2], customer("c3", name="Mallory"), customer("c0")],
    )
    with support.connect(wh) as con:
        found = support.lookup(con, txn_id="t1")
        listed = support.customers(con, "INC-T")
    assert found.customer_id == "c1"  # not c0, whom only the rejected run's table names
    assert listed.run.run_id == answering.run_id
    assert "rejected by the quality gate" in listed.run.note
    names = {row["customer_id"]: (row["name"], row["status"]) for row in listed.rows}
    assert names == {
        "c1": ("Name c1", "published"),
        "c2": ("Name c2", "published"),
        "c3": ("Name c3", "published"),  # as the paid run saw c3, not the rejected one
    }


@stores.duckdb_only  # the DuckDB file an earlier version made, upgraded on disk
def test_a_warehouse_made_with_keyed_tables_records_a_rejected_run_and_keeps_working(root, wh):
    passed = run(root, wh)
    rewrite_with_keyed_schema(wh)  # as if made before the keys were dropped
    with support.connect(wh) as con:  # read as it is
        assert support.lookup(con, txn_id="t1").customer_id == "c1"
    content = rejected_run(root, wh, transactions=[*TABLE, txn("t1", customer_id="c2")])
    assert_recorded_as_rejected(
        wh, content, ["transactions: expect_column_values_to_be_unique(txn_id)"]
    )
    decision = ledger.approve(wh, passed.run_id, by="alice", note=None, outbox=root / "outbox")
    assert (decision.status, decision.rows) == ("published", 3)
    with support.connect(wh) as con:
        assert [r["status"] for r in support.customers(con, "INC-T").rows] == ["published"] * 3
