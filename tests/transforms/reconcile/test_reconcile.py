"""Reconciliation rules 1-5 (docs/rules.md): candidate failures, candidate transactions and classes.

Each case is a few inline log lines and table rows; the window is 19:15Z to 23:15Z.
"""

from __future__ import annotations

import json

import pytest

from tests.builders import customer, failure, reconcile_incident, rows, txn, write_incident
from transforms import db
from transforms.ingest import incident
from transforms.ingest.incident.values import ASCII_SPACE, HIDDEN_CHARACTER

GOOD_LINE = json.dumps(failure("t1")).encode()


def classes(tmp_path, lines, transactions=(), **settings) -> dict[str, str]:
    path = write_incident(tmp_path / "inc", lines=lines, transactions=transactions, **settings)
    con = reconcile_incident(path, tmp_path)
    return dict(rows(con, "evidence", "txn_id", "class"))


@pytest.mark.parametrize(
    ("ts", "inside"),
    [
        ("2025-01-07T19:15:00Z", True),  # the start is inclusive
        ("2025-01-07T19:14:59.999999Z", False),  # a microsecond before the start
        ("2025-01-07T23:14:59.999999Z", True),  # the last microsecond inside
        ("2025-01-07T23:15:00Z", False),  # the end is exclusive
        ("2025-01-07T14:15:00-05:00", True),  # an offset: the same instant as the start
        ("2025-01-07T18:15:00-05:00", False),  # an offset: the same instant as the end
        ("2025-01-08T00:15:00+01:00", False),  # 23:15Z written in another zone
        ("2025-01-07t19:15:00z", True),  # RFC 3339 allows a lowercase t and z
        ("2025-01-07t19:14:59.999999z", False),  # lowercase, a microsecond before the start
        ("2025-01-08t04:44:59+05:30", True),  # lowercase t with an offset: 23:14:59Z
        ("2025-01-07 19:15:00z", True),  # a space instead of the t
    ],
)
def test_candidate_failure_is_a_failure_event_inside_the_window(tmp_path, ts, inside):
    found = classes(tmp_path, [failure("t1", ts=ts)], [txn("t1", status="succeeded")])
    assert ("t1" in found) is inside


@pytest.mark.parametrize(
    ("logs_timezone", "ts", "inside"),
    [
        ("UTC", "2025-01-07T19:15:00", True),  # naive, read in UTC: the start
        ("UTC", "2025-01-07T14:15:00", False),  # naive UTC: hours before the window
        ("America/New_York", "2025-01-07T14:15:00", True),  # naive, read in New York: the start
        ("America/New_York", "2025-01-07T18:15:00", False),  # naive New York: the end
        ("America/New_York", "2025-01-07t14:15:00", True),  # naive with a lowercase t
    ],
)
def test_a_timestamp_without_offset_is_read_in_the_logs_time_zone(
    tmp_path, logs_timezone, ts, inside
):
    found = classes(
        tmp_path,
        [failure("t1", ts=ts)],
        [txn("t1", status="succeeded")],
        sources={"logs_timezone": logs_timezone},
    )
    assert ("t1" in found) is inside


FOLD = ("2025-11-02T05:00:00Z", "2025-11-02T06:00:00Z")  # New York's 01:00-02:00 EDT
GAP = ("2025-03-09T07:00:00Z", "2025-03-09T08:00:00Z")  # 02:00 EST (never shown) to 04:00 EDT


@pytest.mark.parametrize(
    ("window", "ts", "inside"),
    [
        (FOLD, "2025-11-02T01:00:00", True),  # New York falls back: 01:00 is first 05:00Z (EDT)...
        (FOLD, "2025-11-02T01:59:59", True),  # ... and its fold's last second is 05:59:59Z
        (FOLD, "2025-11-02T00:59:59", False),  # before the fold: 04:59:59Z
        (FOLD, "2025-11-02T02:00:00", False),  # after it: 07:00Z (EST)
        (GAP, "2025-03-09T02:30:00", True),  # New York skips 02:00-03:00: the offset before, 07:30Z
        (GAP, "2025-03-09T02:00:00", True),  # the gap's first instant: 07:00Z, the window's start
        (GAP, "2025-03-09T01:59:59", False),  # before the gap: 06:59:59Z (EST)
        (GAP, "2025-03-09T03:00:00", True),  # after it: 07:00Z (EDT), as 02:00 is
        (GAP, "2025-03-09T04:00:00", False),  # 08:00Z, the window's end
    ],
)
def test_a_naive_time_in_a_dst_fold_is_its_first_occurrence_in_a_gap_the_offset_before(
    tmp_path, window, ts, inside
):
    found = classes(
        tmp_path,
        [failure("t1", ts=ts)],
        [txn("t1", status="succeeded")],
        top={"window_start": window[0], "window_end": window[1]},
        sources={"logs_timezone": "America/New_York"},
    )
    assert ("t1" in found) is inside


def test_the_window_and_the_logs_local_times_are_read_by_one_time_zone_database(tmp_path):
    # British Columbia keeps -07:00 from 2026 (tzdata 2026a): a window of 09:00-10:00 in
    # Vancouver read with the machine's older files (-08:00, 17:00Z-18:00Z) missed a failure
    # logged at 09:30 there, which DuckDB reads as 16:30Z
    found = classes(
        tmp_path,
        [failure("t1", ts="2026-11-05T09:30:00")],
        [txn("t1", status="succeeded", created_at="2026-11-05T16:30:00+00:00")],
        top={
            "timezone": "America/Vancouver",
            "window_start": "2026-11-05T09:00:00",
            "window_end": "2026-11-05T10:00:00",
        },
        sources={"logs_timezone": "America/Vancouver"},
    )
    assert found == {"t1": "recovered"}


def test_only_events_in_failure_events_are_candidates(tmp_path):
    lines = [
        failure("t1"),
        {**failure("t2"), "event": "payment.retry"},  # not a failure event
        {**failure("t3"), "event": "charge.error"},  # a failure event by policy
    ]
    found = classes(
        tmp_path,
        lines,
        [txn("t1"), txn("t2", status="succeeded"), txn("t3")],
        policy={"failure_events": ["payment.failed", "charge.error"]},
    )
    assert set(found) == {"t1", "t3"}


def test_duplicate_lines_count_once_and_txn_ids_are_trimmed_not_folded(tmp_path):
    line = failure(" t1\t")
    path = write_incident(
        tmp_path / "inc",
        lines=[line, line, failure("t1"), failure("T1")],  # T1 is another transaction
        transactions=[txn("t1"), txn("T1", customer_id="c2")],
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "failure_lines") == [("T1", 1), ("t1", 2)]
    buckets = dict(
        con.table("int_log_lines_bucketed").aggregate("bucket, count(*)", "bucket").fetchall()
    )
    assert buckets == {"relevant": 3, "duplicate": 1}


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["CARD_DECLINED", "DB_POOL_TIMEOUT"], "failed"),  # any outage code makes it outage-caused
        (["CARD_DECLINED", "EXPIRED_CARD"], "declined"),  # all codes are declines
        (["CARD_DECLINED", "RISK_REVIEW"], "unknown_error_code"),  # a code in neither list
        ([None], "unknown_error_code"),  # a failure line without a code
        (["CARD_DECLINED", None], "unknown_error_code"),  # a decline and a line without a code
    ],
)
def test_codes_decide_outage_declined_or_unknown(tmp_path, codes, expected):
    lines = [failure("t1", code=code) for code in codes]
    assert classes(tmp_path, lines, [txn("t1")]) == {"t1": expected}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("succeeded", "recovered"),  # a retry later succeeded
        ("failed", "failed"),
        ("pending", "failed"),  # any other status than succeeded
        ("refunded", "failed"),
    ],
)
def test_outage_candidates_are_classed_by_the_table_status(tmp_path, status, expected):
    assert classes(tmp_path, [failure("t1")], [txn("t1", status=status)]) == {"t1": expected}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"customer_id": "c1", "amount_minor": 500, "currency": "USD"}, "log_only"),
        ({"customer_id": "c1", "amount_minor": 500}, "unattributable"),  # no currency
        ({"amount_minor": 500, "currency": "USD"}, "unattributable"),  # no customer
        ({"customer_id": "c1", "currency": "USD"}, "unattributable"),  # no amount
        # a blank customer_id names nobody: not a customer "" owed a credit
        ({"customer_id": "", "amount_minor": 500, "currency": "USD"}, "unattributable"),
        ({"customer_id": " \t", "amount_minor": 500, "currency": "USD"}, "unattributable"),
        # VT and FF are ASCII white space too (D6): it was a customer "\v" owed a credit
        ({"customer_id": "\v\f", "amount_minor": 500, "currency": "USD"}, "unattributable"),
        # a no-break space is no ASCII white space: an id read as written (unknown_customer)
        ({"customer_id": "\u00a0", "amount_minor": 500, "currency": "USD"}, "log_only"),
    ],
)
def test_outage_candidates_missing_from_the_table(tmp_path, extra, expected):
    assert classes(tmp_path, [failure("t1", **extra)]) == {"t1": expected}


@pytest.mark.parametrize(
    ("extra", "lacking"),
    [
        ({"customer_id": "c1", "amount_minor": 500}, "currency"),
        ({"customer_id": " ", "amount_minor": 500, "currency": "USD"}, "customer_id"),
        ({"customer_id": "c1", "currency": "USD"}, "amount_minor"),
        ({"amount_minor": 500}, "customer_id, currency"),
        ({}, "customer_id, amount_minor, currency"),
    ],
)
def test_an_unattributable_payment_s_detail_names_what_its_lines_lack(tmp_path, extra, lacking):
    # the detail said "lack customer_id, amount_minor or currency" whatever was missing:
    # finance had to find in the evidence which of the three to look for
    path = write_incident(tmp_path / "inc", lines=[failure("t1", **extra)], transactions=[])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "exception", "detail") == [
        (
            "unattributable",
            f"outage failure not in the transaction table and its log lines lack {lacking}",
        )
    ]


def test_log_only_is_credited_with_the_log_values(tmp_path):
    line = failure("t1", customer_id="c2", amount_minor=777, currency="EUR")
    path = write_incident(tmp_path / "inc", lines=[line], transactions=[])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "customer_id", "amount_minor", "currency") == [
        ("t1", "c2", 777, "EUR")
    ]
    assert rows(con, "credits", "customer_id", "currency", "credit_amount_minor") == [
        ("c2", "EUR", 900)
    ]


def test_only_the_table_says_a_payment_recovered_never_a_success_line(tmp_path):
    # decided (docs/rules.md, "Recovered is the table's word"): a payment not in the table whose
    # log shows a later `payment.succeeded` stays log_only, credited even with credit_recovered
    # off; the retry that went through is finance's to see in the evidence, not the run's guess
    lines = [
        failure("t1", customer_id="c2", amount_minor=777, currency="EUR"),
        {"ts": "2025-01-07T20:01:00Z", "event": "payment.succeeded", "txn_id": "t1"},
    ]
    path = write_incident(
        tmp_path / "inc", lines=lines, transactions=[], policy={"credit_recovered": False}
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "class", "credited") == [("t1", "log_only", True)]


def test_a_blank_customer_id_in_the_log_is_no_mismatch_and_takes_a_later_line_s(tmp_path):
    # earliest non-null: a blank one is null, so the later line's customer is the log's
    lines = [
        failure("t1", ts="2025-01-07T20:00:00Z", customer_id="", amount_minor=5, currency="USD"),
        failure("t1", ts="2025-01-07T20:01:00Z", customer_id="c2"),
        failure("t2", customer_id=" "),
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[txn("t2")])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "customer_id") == [("t1", "c2"), ("t2", "c1")]
    assert rows(con, "exceptions", "exception") == []


def test_the_table_wins_a_customer_mismatch_and_it_is_an_exception(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1", customer_id="c9"), failure("t2", customer_id="c2")],
        transactions=[txn("t1", customer_id="c1"), txn("t2", customer_id="c2")],
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "customer_id") == [("t1", "c1"), ("t2", "c2")]
    assert rows(con, "exceptions", "exception", "txn_id", "customer_id") == [
        ("customer_mismatch", "t1", "c1")
    ]


@pytest.mark.parametrize(
    ("row", "is_table_only"),
    [
        (txn("t9"), True),  # failed, outage code, inside the window, no failure line
        (txn("t9", status="succeeded", error_code=None), False),
        (txn("t9", error_code="CARD_DECLINED"), False),  # not an outage code
        (txn("t9", created_at="2025-01-07T19:14:59Z"), False),  # before the window
        (txn("t9", created_at="2025-01-07T23:15:00Z"), False),  # the end is exclusive
        (txn("t9", created_at="2025-01-07T19:15:00Z"), True),  # the start is inclusive
    ],
)
def test_table_only_failures(tmp_path, row, is_table_only):
    found = classes(tmp_path, [failure("t1")], [txn("t1"), row])
    assert (found.get("t9") == "table_only") is is_table_only


def test_a_transaction_with_a_candidate_failure_is_never_table_only(tmp_path):
    # the log says declined, the table says an outage code: the log line makes it a candidate
    found = classes(tmp_path, [failure("t1", code="CARD_DECLINED")], [txn("t1")])
    assert found == {"t1": "declined"}


def test_every_candidate_is_in_exactly_one_class(tmp_path):
    lines = [
        failure("t1"),
        failure("t2", code="CARD_DECLINED"),
        failure("t3", code="WHO_KNOWS"),
        failure("t4", customer_id="c1", amount_minor=5, currency="USD"),
        failure("t5"),
        failure("t6"),
    ]
    table = [txn("t1"), txn("t2"), txn("t3"), txn("t6", status="succeeded"), txn("t7")]
    found = classes(tmp_path, lines, table, customers=[customer("c1")])
    assert found == {
        "t1": "failed",
        "t2": "declined",
        "t3": "unknown_error_code",
        "t4": "log_only",
        "t5": "unattributable",
        "t6": "recovered",
        "t7": "table_only",
    }


# The open points of the rules, decided (docs/rules.md: "Decided where the rules were open").
def test_a_mismatch_is_recorded_whatever_the_table_customer_and_the_credit(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1", customer_id="c9"), failure("t2", customer_id="c9")],
        transactions=[
            txn("t1", customer_id="c1"),  # an excluded segment
            txn("t2", customer_id="c2", status="succeeded"),  # recovered, not credited
        ],
        customers=[customer("c1", segment="internal"), customer("c2", status="closed")],
        policy={"credit_recovered": False},
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "txn_id", "exception") == [
        ("t1", "customer_mismatch"),
        ("t2", "customer_mismatch"),
    ]
    assert rows(con, "evidence", "txn_id", "reason") == [
        ("t1", "excluded_segment"),
        ("t2", "recovered_not_credited"),
    ]


def test_a_mismatch_is_recorded_for_a_declined_or_unknown_code_too(tmp_path):
    # An unknown code is paid by hand from exceptions.csv: its row named the table's customer
    # with no hint that the log named another.
    path = write_incident(
        tmp_path / "inc",
        lines=[
            failure("t1", customer_id="c9", code="CARD_DECLINED"),
            failure("t2", customer_id="c8", code="WEIRD"),
        ],
        transactions=[
            txn("t1", customer_id="c1", error_code="CARD_DECLINED"),
            txn("t2", customer_id="c2", error_code="WEIRD"),
        ],
    )
    con = reconcile_incident(path, tmp_path)
    assert sorted(rows(con, "exceptions", "txn_id", "exception", "customer_id")) == [
        ("t1", "customer_mismatch", "c1"),
        ("t2", "customer_mismatch", "c2"),
        ("t2", "unknown_error_code", "c2"),
    ]


@pytest.mark.parametrize(
    ("log_customers", "mismatch"),
    [
        (["c1", "c1"], None),  # every line names the table's customer
        (["c1", None], None),  # a line without a customer says nothing
        (["c1", "c2"], "log says customer c1,c2, the table says c1; the table wins"),
        (["c2", "c1"], "log says customer c1,c2, the table says c1; the table wins"),  # any order
        (["c3", "c2"], "log says customer c2,c3, the table says c1; the table wins"),
    ],
)
def test_the_log_says_every_customer_its_lines_name(tmp_path, log_customers, mismatch):
    lines = [
        failure("t1", ts=f"2025-01-07T20:0{i}:00Z", **({"customer_id": c} if c else {}))
        for i, c in enumerate(log_customers)
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[txn("t1")])
    con = reconcile_incident(path, tmp_path)
    found = rows(con, "exceptions", "detail")
    assert found == ([(mismatch,)] if mismatch else [])
    assert rows(con, "evidence", "txn_id", "customer_id") == [("t1", "c1")]  # the table wins


@pytest.mark.parametrize(
    ("log_customers", "table_has", "detail"),
    [
        # written plainly, the two ids looked the same: 'log says customer c1​, the table says c1'
        (
            ["c1\u200b"],
            True,
            "log says customer 'c1\u200b' (holds U+200B), the table says c1; the table wins",
        ),
        (["c1 "], True, "log says customer 'c1 ', the table says c1; the table wins"),
        (
            ["c2", "c2\u00a0"],
            False,
            "outage failure not in the transaction table and its log lines disagree on "
            "customer_id c2,'c2\u00a0' (holds U+00A0): finance finds the payment",
        ),
    ],
)
def test_a_log_customer_id_whose_difference_does_not_show_is_quoted_naming_it(
    tmp_path, log_customers, table_has, detail
):
    lines = [
        failure(
            "t1", ts=f"2025-01-07T20:0{i}:00Z", customer_id=c, amount_minor=1000, currency="USD"
        )
        for i, c in enumerate(log_customers)
    ]
    path = write_incident(
        tmp_path / "inc", lines=lines, transactions=[txn("t1")] if table_has else [txn("t9")]
    )
    con = reconcile_incident(path, tmp_path)
    found = con.sql("select detail from exceptions where txn_id = 't1'").fetchall()
    assert found == [(detail,)]


@pytest.mark.parametrize(
    ("log_says", "mismatch"),
    [
        ({"amount_minor": 1000, "currency": "USD"}, None),  # the table's own values
        ({}, None),  # a line without amount or currency says nothing
        (
            {"amount_minor": 999999},
            "log says amount_minor 999999, the table says amount_minor 1000 currency USD; "
            "the table wins",
        ),
        (
            {"amount_minor": 1000, "currency": "EUR"},
            "log says amount_minor 1000 currency EUR, the table says amount_minor 1000 "
            "currency USD; the table wins",
        ),
    ],
)
def test_the_table_wins_an_amount_the_log_states_otherwise_and_it_is_an_exception(
    tmp_path, log_says, mismatch
):
    # The table's amount was credited and the log's other amount went unseen: a percent
    # credit priced on a figure nobody checked
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1", customer_id="c1", **log_says)],
        transactions=[txn("t1", amount_minor=1000)],
        policy={"basis": "percent_of_failed_amount", "percent": 10},
    )
    con = reconcile_incident(path, tmp_path)
    found = rows(con, "exceptions", "exception", "txn_id", "failed_amount_minor", "detail")
    assert found == ([("amount_mismatch", "t1", 1000, mismatch)] if mismatch else [])
    assert rows(con, "credits", "customer_id", "credit_amount_minor") == [("c1", 100)]


def test_an_amount_mismatch_is_recorded_whatever_the_class(tmp_path):
    # a declined and a recovered payment: nothing credited, the disagreement still shown
    path = write_incident(
        tmp_path / "inc",
        lines=[
            failure("t1", code="CARD_DECLINED", amount_minor=5),
            failure("t2", amount_minor=5),
            failure("t3", customer_id="c1", amount_minor=5, currency="USD"),  # log_only
        ],
        transactions=[txn("t1", error_code="CARD_DECLINED"), txn("t2", status="succeeded")],
        policy={"credit_recovered": False},
    )
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "txn_id", "exception") == [
        ("t1", "amount_mismatch"),
        ("t2", "amount_mismatch"),
    ]


@pytest.mark.parametrize(
    ("log_codes", "table_code", "status", "found"),
    [
        # the table's failed row says the outage, the log only a decline: without the log line
        # it was a credited table_only; with it, declined and not credited, unseen
        (
            ["CARD_DECLINED"],
            "DB_POOL_TIMEOUT",
            "failed",
            [
                (
                    "declined",
                    "code_mismatch",
                    "log says CARD_DECLINED, the table says DB_POOL_TIMEOUT, an outage code; the "
                    "log's codes decide: declined, not credited; finance checks whether the "
                    "outage caused it",
                )
            ],
        ),
        # a code in neither list beside the table's outage code: its own exception and this one
        (
            ["RISK_REVIEW"],
            "UPSTREAM_TIMEOUT",
            "failed",
            [
                (
                    "unknown_error_code",
                    "code_mismatch",
                    "log says RISK_REVIEW, the table says UPSTREAM_TIMEOUT, an outage code; the "
                    "log's codes decide: unknown_error_code, not credited; finance checks whether "
                    "the outage caused it",
                ),
                (
                    "unknown_error_code",
                    "unknown_error_code",
                    "error codes not in either policy list: RISK_REVIEW",
                ),
            ],
        ),
        # a failure line without a code: no code is the log's word
        (
            [None],
            "DB_POOL_TIMEOUT",
            "failed",
            [
                (
                    "unknown_error_code",
                    "code_mismatch",
                    "log says no code, the table says DB_POOL_TIMEOUT, an outage code; the log's "
                    "codes decide: unknown_error_code, not credited; finance checks whether the "
                    "outage caused it",
                ),
                (
                    "unknown_error_code",
                    "unknown_error_code",
                    "error codes not in either policy list: (none); 1 failure line(s) without an "
                    "error code",
                ),
            ],
        ),
        # an empty code: the log says one, and it is shown as such (it read "no code")
        (
            [""],
            "DB_POOL_TIMEOUT",
            "failed",
            [
                (
                    "unknown_error_code",
                    "code_mismatch",
                    "log says '', the table says DB_POOL_TIMEOUT, an outage code; the log's "
                    "codes decide: unknown_error_code, not credited; finance checks whether the "
                    "outage caused it",
                ),
                (
                    "unknown_error_code",
                    "unknown_error_code",
                    "error codes not in either policy list: ''",
                ),
            ],
        ),
        (["CARD_DECLINED"], "CARD_DECLINED", "failed", []),  # the two agree
        (["CARD_DECLINED"], None, "succeeded", []),  # the table names no code
        # a succeeded retry whose row keeps an earlier attempt's outage code: nobody is owed
        (["CARD_DECLINED"], "DB_POOL_TIMEOUT", "succeeded", []),
        # an outage attempt, then a declined retry (the table keeps the last code): credited as
        # the log says, the usual retry, no exception
        (["DB_POOL_TIMEOUT", "CARD_DECLINED"], "CARD_DECLINED", "failed", []),
    ],
)
def test_a_table_outage_code_the_log_does_not_state_is_a_code_mismatch(
    tmp_path, log_codes, table_code, status, found
):
    lines = [failure("t1", ts=f"2025-01-07T20:0{i}:00Z", code=c) for i, c in enumerate(log_codes)]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        transactions=[txn("t1", error_code=table_code, status=status)],
    )
    con = reconcile_incident(path, tmp_path)
    (klass,) = [row[1] for row in rows(con, "evidence", "txn_id", "class")]
    shown = rows(con, "exceptions", "exception", "txn_id", "failed_amount_minor", "detail")
    assert [(klass, e, d) for e, _, _, d in shown] == found
    assert all(row[1:3] == ("t1", 1000) for row in shown)


def test_log_only_takes_the_earliest_value_of_each_field_its_lines_complete(tmp_path):
    lines = [
        failure("t1", ts="2025-01-07T20:05:00Z", customer_id="c2", amount_minor=5, currency="USD"),
        failure("t1", ts="2025-01-07T20:01:00Z", customer_id="c2"),
        failure("t1", ts="2025-01-07T20:02:00Z", amount_minor=5),
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "class", "customer_id") == [("t1", "log_only", "c2")]


AT = ("2025-01-07T20:01:00Z", "2025-01-07T20:05:00Z")


@pytest.mark.parametrize(
    ("first", "then", "disagree", "shown"),
    [
        # two customers: crediting the earlier one was a guess, and the other went unnamed
        ({"customer_id": "c3"}, {"customer_id": "c2"}, "customer_id c2,c3", (None, 9000, "USD")),
        # the amount of one line with the currency of another: USD 90.00 paid as EUR 90.00
        (
            {"currency": "EUR", "amount_minor": None},
            {"currency": "USD"},
            "currency EUR,USD",
            ("c2", 9000, None),
        ),
        ({"amount_minor": 700}, {}, "amount_minor 700,9000", ("c2", None, "USD")),
    ],
)
def test_log_only_lines_that_disagree_are_unattributable_not_credited_on_a_guess(
    tmp_path, first, then, disagree, shown
):
    payment = {"customer_id": "c2", "amount_minor": 9000, "currency": "USD"}
    lines = [
        failure("t1", ts=AT[0], **{k: v for k, v in {**payment, **first}.items() if v}),
        failure("t1", ts=AT[1], **{**payment, **then}),
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "evidence", "txn_id", "class", "credited") == [("t1", "unattributable", False)]
    assert rows(con, "exceptions", "exception", "txn_id", "detail") == [
        (
            "unattributable",
            "t1",
            "outage failure not in the transaction table and its log lines disagree on "
            f"{disagree}: finance finds the payment",
        )
    ]
    assert rows(con, "credits", "customer_id") == []
    # the exception carries no value the lines disagree on (EUR with the USD line's amount)
    found = rows(con, "exceptions", "customer_id", "failed_amount_minor", "currency")
    assert found == [shown]
    # nor does the evidence's log_customer_id (the earlier of two customers was shown there)
    assert rows(con, "evidence", "log_customer_id") == [(shown[0],)]


def test_log_only_lines_of_an_unknown_code_that_disagree_say_so_in_the_detail(tmp_path):
    # the values are left out, as for unattributable: the detail said only the codes, and
    # finance got a row with no customer, amount or currency and no reason why
    lines = [
        failure("t1", ts=AT[0], code="RISK_REVIEW", customer_id="c3", amount_minor=9000),
        failure("t1", ts=AT[1], code="RISK_REVIEW", customer_id="c2", amount_minor=9000),
    ]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "exception", "customer_id", "detail") == [
        (
            "unknown_error_code",
            None,
            "error codes not in either policy list: RISK_REVIEW; its log lines disagree on "
            "customer_id c2,c3: finance finds the payment",
        )
    ]


@pytest.mark.parametrize(
    "copy",
    [
        GOOD_LINE + b"\r\n",  # CRLF: the line end is not part of the line
        b"\xef\xbb\xbf" + GOOD_LINE + b"\n",  # a byte-order mark before a file's first line
    ],
)
def test_crlf_and_a_bom_do_not_make_a_line_different(tmp_path, copy):
    folder = tmp_path / "inc"
    path = write_incident(folder, lines=[GOOD_LINE + b"\n"], transactions=[txn("t1")])
    (folder / "logs" / "pod-b.jsonl").write_bytes(copy)
    con = reconcile_incident(path, tmp_path)
    buckets = con.sql("select bucket, count(*) from int_log_lines_bucketed group by all order by 1")
    assert buckets.fetchall() == [("duplicate", 1), ("relevant", 1)]


@pytest.mark.parametrize(
    ("log_txn", "table_txn", "matched"),
    [
        (" t1\t", "t1", True),  # ASCII white space is trimmed, in the log
        ("t1", "\tt1 \r", True),  # and in the table
        ("t1\u00a0", "t1", False),  # a no-break space is not trimmed (the line is quarantined)
        ("t1", "\u2003t1", False),  # nor is an em space (the gate refuses the table's id)
        ("t1\u00a0", "t1\u00a0", False),  # not even the same id on both sides: quarantined
    ],
)
def test_only_ascii_white_space_is_trimmed_from_txn_ids(tmp_path, log_txn, table_txn, matched):
    found = classes(tmp_path, [failure(log_txn)], [txn(table_txn)])
    assert ("failed" in found.values()) is matched


def test_classing_reads_the_transaction_table_in_place_without_copying_it(tmp_path):
    # Two references to an import CTE make DuckDB materialize it: for stg_transactions, a copy
    # of the whole table (5 M rows at 10 M lines), more memory than the join it feeds.
    path = write_incident(tmp_path / "inc", lines=[failure("t1")], transactions=[txn("t1")])
    con = reconcile_incident(path, tmp_path)
    loaded = incident.load(path)
    policy = loaded.policy
    sql, bound = db._bound(
        "int_candidates_classified",
        {
            "outage_codes": list(policy.outage_error_codes),
            "decline_codes": list(policy.decline_error_codes),
            "window_start": loaded.window_start,
            "window_end": loaded.window_end,
            "credit_recovered": policy.credit_recovered,
            "credit_table_only": policy.credit_table_only,
            "hidden": HIDDEN_CHARACTER,
            "ascii_space": ASCII_SPACE,
        },
    )
    plan = con.execute("explain " + sql, bound).fetchall()[0][1]
    assert "stg_transactions" in plan
    assert "CTE Name: transactions" not in plan


@pytest.mark.parametrize(
    ("codes", "detail"),
    [
        # a decline code beside a line without one: the detail named CARD_DECLINED as a code in
        # neither list, and not the line without a code that made the payment unknown
        (
            ["CARD_DECLINED", None],
            "error codes not in either policy list: (none); 1 failure line(s) without an "
            "error code",
        ),
        # a decline code beside an unlisted one: only the unlisted one is in neither list
        (["CARD_DECLINED", "RISK_REVIEW"], "error codes not in either policy list: RISK_REVIEW"),
        # lines without a code only
        (
            [None, None],
            "error codes not in either policy list: (none); 2 failure line(s) without an "
            "error code",
        ),
        # an unlisted code alone: as before
        (["RISK_REVIEW"], "error codes not in either policy list: RISK_REVIEW"),
        # an empty code is a code in neither list, not a line without one: the detail said
        # "(none)" and nothing else, so finance could not see why the payment was unknown
        ([""], "error codes not in either policy list: ''"),
        (
            ["", None],
            "error codes not in either policy list: ''; 1 failure line(s) without an error code",
        ),
        # an outage code with blanks around it is quoted, so the blanks show: written plainly it
        # read as though an outage code were in neither list
        (
            [" UPSTREAM_TIMEOUT", "RISK_REVIEW"],
            "error codes not in either policy list: ' UPSTREAM_TIMEOUT',RISK_REVIEW",
        ),
        (["\tCARD_DECLINED"], "error codes not in either policy list: '\tCARD_DECLINED'"),
        # a hidden character in a code (U+200B, U+FEFF) is quoted and named, as it would not
        # show: the detail read as though an outage code were in neither list
        (
            ["UPSTREAM_TIMEOUT\u200b", "RISK_REVIEW"],
            "error codes not in either policy list: RISK_REVIEW,'UPSTREAM_TIMEOUT\u200b' "
            "(holds U+200B)",
        ),
        (
            ["\ufeffDB_POOL_TIMEOUT "],
            "error codes not in either policy list: '\ufeffDB_POOL_TIMEOUT ' (holds U+FEFF)",
        ),
    ],
)
def test_an_unknown_error_code_detail_names_what_made_it_unknown(tmp_path, codes, detail):
    lines = [failure("t1", ts=AT[i % 2], code=code) for i, code in enumerate(codes)]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[txn("t1", error_code=None)])
    con = reconcile_incident(path, tmp_path)
    assert rows(con, "exceptions", "exception", "txn_id", "detail") == [
        ("unknown_error_code", "t1", detail)
    ]
