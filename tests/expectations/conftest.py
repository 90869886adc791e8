"""Shared fixtures for the data-quality suite tests: run parameters and small valid frames.

Each ``VALID_FRAMES[suite]()`` builds a fresh frame of 3-4 rows that passes its suite with no
failure; the per-suite test files corrupt a copy of it one expectation at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from transforms.quality import suites, validation

WINDOW_START = pd.Timestamp("2025-01-07T10:00:00Z")
WINDOW_END = pd.Timestamp("2025-01-07T14:00:00Z")
INT64_MAX = 9223372036854775807

PARAMETERS = {
    "window_start_utc": WINDOW_START,
    "window_end_utc": WINDOW_END,
    "window_lower_utc": WINDOW_START - pd.Timedelta(days=1),
    "window_upper_utc": WINDOW_END + pd.Timedelta(days=1),
    "failure_events": ["charge_error", "payment_failed"],
    "iso_currencies": ["EUR", "GBP", "JPY", "USD"],
    "max_quarantined_share": 0.01,
    "max_quarantined_lines": 15.2,  # 0.01 of the file profile's 1520 lines
    "exclude_segments": ["internal", "test"],
}
"""One mapping for every suite, as the pipeline passes it; each suite picks what it uses."""

KEYS: dict[str, str | list[str]] = {
    "stg_failures": ["file", "line"],
    "file_profile": "file",
    "transactions": "txn_id",
    "customers": "customer_id",
    "evidence": "txn_id",
    "credits": "credit_id",
    "credit_totals": "currency",
}


def ts(*values: str | None) -> pd.Series:
    """UTC timestamps in microseconds, None as NaT."""
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


def ints(*values: int | None) -> pd.Series:
    """Nullable Int64 values."""
    return pd.Series(list(values), dtype="Int64")


def stg_failures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": ["gw-a.log", "gw-a.log", "gw-b.log"],
            "line": pd.Series([3, 17, 5], dtype="int64"),
            "ts_utc": ts("2025-01-07T10:00:00Z", "2025-01-07T11:30:00Z", "2025-01-07T13:59:59Z"),
            "event": ["payment_failed", "payment_failed", "charge_error"],
            "txn_id": ["T1", "T2", "T3"],
            "customer_id": ["C1", None, "C3"],
            "amount_minor": ints(1250, None, 999),
            "currency": ["EUR", None, "JPY"],
            "error_code": ["E51", None, "E05"],
        }
    )


def file_profile() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "file": ["gw-a.log", "gw-b.log", "gw-c.log"],
            "lines": pd.Series([1000, 500, 20], dtype="int64"),
            "parsed": pd.Series([990, 498, 20], dtype="int64"),
            "duplicates": pd.Series([5, 2, 0], dtype="int64"),
            "quarantined": pd.Series([5, 0, 0], dtype="int64"),
            "quarantined_failures": pd.Series([0, 0, 0], dtype="int64"),
            "min_ts_utc": ts(
                "2025-01-07T09:00:00Z", "2025-01-07T10:00:00Z", "2025-01-06T12:00:00Z"
            ),
            "max_ts_utc": ts(
                "2025-01-07T15:00:00Z", "2025-01-07T13:00:00Z", "2025-01-08T12:00:00Z"
            ),
            "unknown_event_share": [0.2, 0.5, 0.0],
            "copied_share": [0.005, 0.004, 0.0],
        }
    )
    frame["quarantined_share"] = frame["quarantined"] / frame["lines"]
    frame["quarantined_at_least_min"] = frame["quarantined"] >= 10
    frame["accounted"] = frame["parsed"] + frame["duplicates"] + frame["quarantined"]
    return frame


def transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "txn_id": ["T1", "T2", "T3", "T4"],
            "customer_id": ["C1", "C2", "C3", "C1"],
            "amount_minor": pd.Series([1250, 5000, 999, 300], dtype="int64"),
            "currency": ["EUR", "USD", "JPY", "EUR"],
            "status": ["failed", "succeeded", "pending", "refunded"],
            "error_code": ["E51", None, None, None],
            "created_at": ts(
                "2025-01-07T10:05:00Z", "2025-01-07T11:00:00Z", "2025-01-07T12:00:00Z", None
            ).fillna(pd.Timestamp("2025-01-06T08:00:00Z")),
            "updated_at": ts(
                "2025-01-07T10:06:00Z", "2025-01-07T11:05:00Z", None, "2025-01-07T09:00:00Z"
            ),
        }
    )


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["Ada Example", "Bo Example", "Cy Example"],
            "email": ["ada@example.com", "bo@example.com", "cy@example.com"],
            "country": ["DE", "US", "JP"],
            "segment": ["consumer", "business", "consumer"],
            "status": ["active", "active", "closed"],
        }
    )


def evidence() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "txn_id": ["T1", "T2", "T3", "T4"],
            "class": ["failed", "recovered", "log_only", "table_only"],
            "credited": [True, False, False, False],
            "reason": ["failed in window", "recovered later", "not in table", "no failure logged"],
            "customer_id": ["C1", "C2", None, "C1"],
            "amount_minor": ints(1250, 5000, None, 300),
            "currency": ["EUR", "USD", None, "EUR"],
            "error_codes": ["E51", "E51", "E05", ""],
            "first_failure_at": ts(
                "2025-01-07T10:00:00Z", "2025-01-07T11:00:00Z", "2025-01-07T12:00:00Z", None
            ),
            "last_failure_at": ts(
                "2025-01-07T10:07:00Z", "2025-01-07T11:00:00Z", "2025-01-07T13:59:59Z", None
            ),
            "failure_lines": pd.Series([2, 1, 2, 0], dtype="int64"),
            "source_files": ["gw-a.log", "gw-a.log", "gw-a.log,gw-b.log", ""],
        }
    )


def credits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "credit_id": ["0123456789abcdef", "fedcba9876543210", "00112233aabbccdd"],
            "incident_id": ["INC-2025-01-07"] * 3,
            "customer_id": ["C1", "C2", "C1"],
            "currency": ["EUR", "USD", "JPY"],
            "credit_amount": ["12.50", "50.00", "999"],
            "credit_amount_minor": pd.Series([1250, 5000, 999], dtype="int64"),
            "credited_txn_count": pd.Series([1, 2, 1], dtype="int64"),
            "failed_amount_minor": pd.Series([1250, 7000, 999], dtype="int64"),
            "reason_code": ["OUTAGE"] * 3,
            "description": ["Payment outage 2025-01-07"] * 3,
            "policy_version": ["v1"] * 3,
            "policy_min_minor": pd.Series([500, 1, 100], dtype="int64"),
            "policy_cap_minor": pd.Series([10000, INT64_MAX, 100000], dtype="int64"),
            "customer_known": [True, True, True],
            "customer_segment": ["consumer", "business", "consumer"],
            "customer_status": ["active", "active", "active"],
        }
    )


def credit_totals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "currency": ["EUR", "JPY", "USD"],
            "credits_total_minor": pd.Series([1250, 999, 5000], dtype="int64"),
            "manifest_total_minor": pd.Series([1250, 999, 5000], dtype="int64"),
        }
    )


VALID_FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "stg_failures": stg_failures,
    "file_profile": file_profile,
    "transactions": transactions,
    "customers": customers,
    "evidence": evidence,
    "credits": credits,
    "credit_totals": credit_totals,
}


Cell = tuple[int, str, object]
"""One corruption step: (row, column, new value)."""


class SuiteHarness:
    """Runs suites on the standard parameters and keys, and checks corruption cases."""

    parameters = PARAMETERS
    keys = KEYS

    @staticmethod
    def valid(suite: str) -> pd.DataFrame:
        """A fresh valid frame for a suite."""
        return VALID_FRAMES[suite]()

    def run(
        self, suite: str, frame: pd.DataFrame, parameters: dict | None = None
    ) -> validation.SuiteResult:
        """Validate a frame against a suite with the standard parameters and key."""
        return validation.validate(frame, suite, parameters or self.parameters, self.keys[suite])

    @staticmethod
    def failed_ids(result: validation.SuiteResult) -> set[str]:
        """The ids of the expectations that failed."""
        return {o.expectation_id for o in result.outcomes if not o.success}

    def check_corruption(
        self,
        suite: str,
        target: str,
        cells: list[Cell],
        offending: set[str],
        failing: set[str] | None = None,
    ) -> validation.SuiteResult:
        """Corrupt a valid frame cell by cell; exactly ``failing`` (default: only the target)
        must fail, and the target must name exactly the ``offending`` keys."""
        frame = self.valid(suite)
        for row, column, value in cells:
            frame.loc[row, column] = value
        result = self.run(suite, frame)
        assert self.failed_ids(result) == (failing or {target})
        (outcome,) = [o for o in result.outcomes if o.expectation_id == target]
        assert not outcome.success
        assert set(outcome.offending) == offending
        if offending:  # an aggregate (a column's sum) has no offending rows, only its value
            assert outcome.unexpected_count >= 1
        assert outcome.suite == suite
        return result

    @staticmethod
    def expectation_ids(suite: str) -> list[str]:
        """The expectation ids of a suite, straight from its JSON."""
        return [spec["id"] for spec in suites.load_suite_document(suite)["expectations"]]


@pytest.fixture(scope="session")
def harness() -> SuiteHarness:
    return SuiteHarness()
