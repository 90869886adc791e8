"""Every suite: its valid frame passes, and each expectation fails on its own corruption.

A case is (suite, target expectation id, cells to change as (row, column, value), the offending
keys the target must report, and any other expectation that must fail with it). A suite
expectation without a case fails ``test_every_expectation_has_a_corruption_case``.
"""

from __future__ import annotations

import pandas as pd
import pytest

NULL = "<null>"  # how a missing key shows among the offending keys
T = pd.Timestamp


def case(suite, target, cells, offending, also=(), name=""):
    return pytest.param(
        suite, target, cells, set(offending), set(also), id=f"{suite}-{target}{name}"
    )


CASES = [
    # -- stg_failures (key file:line) ---------------------------------------------------------
    case("stg_failures", "file_line_unique", [(1, "line", 3)], {"gw-a.log:3"}),
    case("stg_failures", "txn_id_not_null", [(2, "txn_id", None)], {"gw-b.log:5"}),
    case("stg_failures", "txn_id_not_blank", [(0, "txn_id", "  ")], {"gw-a.log:3"}),
    case("stg_failures", "txn_id_not_blank", [(1, "txn_id", "")], {"gw-a.log:17"}, name="-empty"),
    case("stg_failures", "ts_utc_not_null", [(1, "ts_utc", pd.NaT)], {"gw-a.log:17"}),
    case(
        "stg_failures",
        "ts_utc_in_window",
        [(2, "ts_utc", T("2025-01-07T14:00:00Z"))],
        {"gw-b.log:5"},
        name="-at-end",
    ),
    case(
        "stg_failures",
        "ts_utc_in_window",
        [(0, "ts_utc", T("2025-01-07T09:59:59.999999Z"))],
        {"gw-a.log:3"},
        name="-before-start",
    ),
    case("stg_failures", "event_not_null", [(0, "event", None)], {"gw-a.log:3"}),
    case(
        "stg_failures",
        "event_is_failure_event",
        [(0, "event", "payment_succeeded")],
        {"gw-a.log:3"},
    ),
    case("stg_failures", "amount_minor_positive", [(0, "amount_minor", 0)], {"gw-a.log:3"}),
    case(
        "stg_failures",
        "amount_minor_positive",
        [(2, "amount_minor", -5)],
        {"gw-b.log:5"},
        name="-negative",
    ),
    case("stg_failures", "currency_iso", [(0, "currency", "EURO")], {"gw-a.log:3"}),
    # -- file_profile (key file) ---------------------------------------------------------------
    case("file_profile", "file_unique", [(1, "file", "gw-a.log")], {"gw-a.log"}),
    case(
        "file_profile",
        "lines_positive",
        [
            (2, "lines", 0),
            (2, "parsed", 0),
            (2, "accounted", 0),
            (2, "min_ts_utc", pd.NaT),
            (2, "max_ts_utc", pd.NaT),
        ],
        {"gw-c.log"},
    ),
    case(
        "file_profile", "lines_accounted", [(0, "parsed", 989), (0, "accounted", 999)], {"gw-a.log"}
    ),
    case(
        "file_profile",
        "quarantined_share_within_limit",
        [
            (1, "parsed", 488),
            (1, "quarantined", 10),
            (1, "quarantined_share", 0.02),
            (1, "quarantined_at_least_min", True),
        ],
        {"gw-b.log"},
    ),
    case(
        "file_profile",
        "run_quarantined_share_within_limit",  # 16 + 5 of 1520 lines: above 0.01 in all
        [(1, "parsed", 482), (1, "quarantined", 16)],
        set(),
    ),
    case(
        "file_profile",
        "max_ts_near_window",
        [
            (1, "min_ts_utc", T("2025-01-05T00:00:00Z")),
            (1, "max_ts_utc", T("2025-01-06T09:59:59Z")),
        ],
        {"gw-b.log"},
    ),
    case(
        "file_profile",
        "min_ts_near_window",
        [
            (1, "min_ts_utc", T("2025-01-08T14:00:00Z")),
            (1, "max_ts_utc", T("2025-01-09T00:00:00Z")),
        ],
        {"gw-b.log"},
    ),
    # a failure line quarantined (an amount of 12.5): a warning, the run goes on
    case(
        "file_profile",
        "no_failure_line_quarantined",
        [(0, "quarantined_failures", 1)],
        {"gw-a.log"},
    ),
    case("file_profile", "has_payment_events", [(2, "unknown_event_share", 1.0)], {"gw-c.log"}),
    case("file_profile", "not_a_copy", [(2, "copied_share", 1.0)], {"gw-c.log"}),
    # -- transactions (key txn_id) --------------------------------------------------------------
    case("transactions", "txn_id_not_null", [(1, "txn_id", None)], {NULL}),
    case("transactions", "txn_id_not_blank", [(1, "txn_id", "")], {""}),
    case("transactions", "txn_id_unique", [(1, "txn_id", "T1")], {"T1"}),
    case("transactions", "customer_id_not_null", [(1, "customer_id", None)], {"T2"}),
    case("transactions", "customer_id_not_blank", [(1, "customer_id", " ")], {"T2"}),
    case("transactions", "amount_minor_positive", [(2, "amount_minor", 0)], {"T3"}),
    case("transactions", "amount_minor_positive", [(3, "amount_minor", -300)], {"T4"}, name="-neg"),
    case("transactions", "currency_not_null", [(1, "currency", None)], {"T2"}),
    case("transactions", "currency_iso", [(1, "currency", "usd")], {"T2"}),
    case("transactions", "status_not_null", [(0, "status", None)], {"T1"}),
    case("transactions", "status_known", [(0, "status", "chargeback")], {"T1"}),
    case("transactions", "created_at_not_null", [(3, "created_at", pd.NaT)], {"T4"}),
    # -- customers (key customer_id) ------------------------------------------------------------
    case("customers", "customer_id_not_null", [(2, "customer_id", None)], {NULL}),
    case("customers", "customer_id_not_blank", [(2, "customer_id", "\t")], {"\t"}),
    case("customers", "customer_id_unique", [(2, "customer_id", "C1")], {"C1"}),
    case("customers", "segment_not_null", [(0, "segment", None)], {"C1"}),
    case("customers", "segment_known", [(0, "segment", "vip")], {"C1"}),
    case("customers", "status_not_null", [(1, "status", None)], {"C2"}),
    case("customers", "status_known", [(1, "status", "suspended")], {"C2"}),
    case("customers", "email_present", [(1, "email", None)], {"C2"}),
    # -- evidence (key txn_id) ------------------------------------------------------------------
    case("evidence", "txn_id_not_null", [(2, "txn_id", None)], {NULL}),
    case("evidence", "txn_id_unique", [(2, "txn_id", "T1")], {"T1"}),
    case("evidence", "class_not_null", [(1, "class", None)], {"T2"}),
    case("evidence", "class_known", [(1, "class", "maybe")], {"T2"}),
    case(
        "evidence",
        "first_failure_in_window",
        [(1, "first_failure_at", T("2025-01-07T09:00:00Z"))],
        {"T2"},
    ),
    case(
        "evidence",
        "last_failure_in_window",
        [(0, "last_failure_at", T("2025-01-07T14:00:00Z"))],
        {"T1"},
    ),
    case("evidence", "credited_has_customer", [(0, "customer_id", None)], {"T1"}),
    case("evidence", "credited_has_currency", [(0, "currency", None)], {"T1"}),
    case("evidence", "credited_has_amount", [(0, "amount_minor", None)], {"T1"}),
    case("evidence", "credited_amount_positive", [(0, "amount_minor", 0)], {"T1"}),
    case("evidence", "credited_class_priced", [(3, "reason", "unpriced")], {"T4"}),
    case(
        "evidence",
        "credited_has_customer",
        [(1, "credited", True), (1, "customer_id", None), (2, "credited", True)],
        {"T2", "T3"},
        also={"credited_has_currency", "credited_has_amount"},  # T3 lacks those too
        name="-only-credited-rows",
    ),
    # -- credits (key credit_id) ----------------------------------------------------------------
    case("credits", "credit_id_not_null", [(1, "credit_id", None)], {NULL}),
    case(
        "credits", "credit_id_unique", [(1, "credit_id", "0123456789abcdef")], {"0123456789abcdef"}
    ),
    case(
        "credits", "credit_id_format", [(1, "credit_id", "FEDCBA9876543210")], {"FEDCBA9876543210"}
    ),
    case(
        "credits",
        "credit_id_format",
        [(1, "credit_id", "fedcba987654321")],
        {"fedcba987654321"},
        name="-short",
    ),
    case(
        "credits",
        "customer_currency_unique",
        [(2, "currency", "EUR")],
        {"0123456789abcdef", "00112233aabbccdd"},
    ),
    case(
        "credits",
        "credit_amount_positive",
        [(1, "credit_amount_minor", 0)],
        {"fedcba9876543210"},
        also={"credit_amount_at_least_policy_min"},  # "no floor" is a floor of 1
    ),
    case(
        "credits",
        "credit_amount_at_least_policy_min",
        [(0, "credit_amount_minor", 499)],
        {"0123456789abcdef"},
    ),
    case(
        "credits",
        "credit_amount_at_most_policy_cap",
        [(0, "credit_amount_minor", 10001)],
        {"0123456789abcdef"},
    ),
    case("credits", "currency_not_null", [(1, "currency", None)], {"fedcba9876543210"}),
    case("credits", "currency_iso", [(1, "currency", "US$")], {"fedcba9876543210"}),
    case("credits", "customer_known", [(2, "customer_known", False)], {"00112233aabbccdd"}),
    case(
        "credits",
        "customer_segment_not_excluded",
        [(1, "customer_segment", "internal")],
        {"fedcba9876543210"},
    ),
    case(
        "credits", "customer_status_not_null", [(1, "customer_status", None)], {"fedcba9876543210"}
    ),
    case("credits", "customer_active", [(1, "customer_status", "closed")], {"fedcba9876543210"}),
    case(
        "credits",
        "credited_txn_count_at_least_one",
        [(0, "credited_txn_count", 0)],
        {"0123456789abcdef"},
    ),
    # -- credit_totals (key currency) -----------------------------------------------------------
    case("credit_totals", "currency_unique", [(1, "currency", "EUR")], {"EUR"}),
    case("credit_totals", "totals_match", [(2, "manifest_total_minor", 5001)], {"USD"}),
]

SUITES = [
    "stg_failures",
    "file_profile",
    "transactions",
    "customers",
    "evidence",
    "credits",
    "credit_totals",
]


@pytest.mark.parametrize("suite", SUITES)
def test_valid_frame_passes(harness, suite):
    result = harness.run(suite, harness.valid(suite))
    assert harness.failed_ids(result) == set()
    assert not result.blocking_failures and not result.warnings
    assert [o.expectation_id for o in result.outcomes] == harness.expectation_ids(suite)
    assert all(o.offending == () and o.unexpected_count == 0 for o in result.outcomes)


@pytest.mark.parametrize(("suite", "target", "cells", "offending", "also"), CASES)
def test_corruption_fails_only_its_expectation(harness, suite, target, cells, offending, also):
    harness.check_corruption(suite, target, cells, offending, failing={target} | also)


@pytest.mark.parametrize("suite", SUITES)
def test_every_expectation_has_a_corruption_case(harness, suite):
    covered = {p.values[1] for p in CASES if p.values[0] == suite}
    assert covered == set(harness.expectation_ids(suite))


def test_warning_failures_do_not_block(harness):
    frame = harness.valid("customers")
    frame.loc[0, "email"] = None
    result = harness.run("customers", frame)
    assert result.blocking_failures == ()
    assert [o.expectation_id for o in result.warnings] == ["email_present"]
    assert result.warnings[0].severity == "warning"
    assert result.warnings[0].offending == ("C1",)


def test_blocking_failure_is_reported_with_its_metadata(harness):
    frame = harness.valid("transactions")
    frame.loc[1, "txn_id"] = "T1"
    result = harness.run("transactions", frame)
    (outcome,) = result.blocking_failures
    assert outcome.expectation == "expect_column_values_to_be_unique"
    assert outcome.column == "txn_id"
    assert outcome.severity == "blocking"
    assert outcome.notes.endswith(".")
    assert outcome.unexpected_count == 2
    assert outcome.offending == ("T1",)


def test_multi_column_expectation_reports_joined_columns(harness):
    result = harness.run("credits", harness.valid("credits"))
    columns = {o.expectation_id: o.column for o in result.outcomes}
    assert columns["customer_currency_unique"] == "customer_id,currency"
    assert columns["credit_amount_at_most_policy_cap"] == "policy_cap_minor,credit_amount_minor"
