"""The policy changes a diff's reasons name (`diff_reasons.policy_changes`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from transforms.finance import diff_reasons
from transforms.ingest.incident import Policy
from transforms.runfolder.manifest_model import PolicyRecord


def _record(**policy) -> PolicyRecord:
    """A manifest's policy record, as a run of this policy writes it."""
    written = Policy(**policy)
    return PolicyRecord(**written.as_json(), sha256=written.sha256)


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        # the same percent written otherwise prices every line alike: no change to name
        ({"percent": Decimal("10")}, {"percent": Decimal("10.0")}, []),
        ({"percent": Decimal("12.50")}, {"percent": Decimal("12.5")}, []),
        ({"percent": Decimal("10")}, {"percent": Decimal("12.5")}, [("percent", "10", "12.5")]),
        (
            {"flat_minor": {"USD": 1000}},
            {"flat_minor": {"USD": 1500, "EUR": 900}},
            [("flat_minor.EUR", "(none)", 900), ("flat_minor.USD", 1000, 1500)],
        ),
    ],
)
def test_a_policy_change_is_named_by_what_it_prices_not_how_it_is_written(before, after, changes):
    assert diff_reasons.policy_changes(_record(**after), _record(**before)) == changes


PERCENT = "percent_of_failed_amount"


@pytest.mark.parametrize(
    ("before", "after", "reasons"),
    [
        # a flat policy reads no percent, a percent one no flat amount: neither prices the line
        ({}, {"percent": Decimal(5)}, []),
        (
            {"basis": PERCENT, "percent": Decimal(5)},
            {"basis": PERCENT, "percent": Decimal(5), "flat_minor": {"USD": 700}},
            [],
        ),
        ({}, {"flat_minor": {"USD": 700}}, ["flat_minor.USD changed: (none) -> 700"]),
        # another basis: both sides' keys price the line
        (
            {"flat_minor": {"USD": 700}},
            {"basis": PERCENT, "percent": Decimal(5), "flat_minor": {"USD": 700}},
            [
                "basis changed: flat_per_customer -> percent_of_failed_amount",
                "percent changed: 0 -> 5",
            ],
        ),
        ({}, {"cap_minor": {"EUR": 1}}, []),  # another currency's
    ],
)
def test_a_changed_line_names_only_the_keys_that_price_it(before, after, reasons):
    found = diff_reasons.pricing_changes(_record(**after), _record(**before), "USD")
    assert found == [f"policy {reason}" for reason in reasons]


def test_a_percent_record_edited_into_no_decimal_is_a_change_not_an_error():
    # a run's record edited by hand (`"percent": "ten"`) was InvalidOperation: exit 1
    before = _record(percent=Decimal("10"))
    after = before.model_copy(update={"percent": "ten"})
    assert diff_reasons.policy_changes(after, before) == [("percent", "10", "ten")]


def _explainer(window_after, window_before, logs_after, logs_before) -> diff_reasons.Explainer:
    """An explainer of two runs' manifests only (what `_transaction` reads)."""
    explainer = object.__new__(diff_reasons.Explainer)
    explainer.zone = ZoneInfo("Europe/Berlin")
    explainer.window = (window_after, window_before)
    explainer.logs = (logs_after, logs_before)
    return explainer


WIDER = ("2026-03-02T10:00:00Z", "2026-03-02T10:45:00Z")
NARROW = ("2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z")


def _entered(at: str) -> dict:
    return {
        "txn_id": "t107",
        "in_after": True,
        "in_before": False,
        "source_files": "logs/api.jsonl",
        "first_failure_at": datetime.fromisoformat(at),
    }


@pytest.mark.parametrize(
    ("at", "window_named"),
    [
        # failed in the quarter hour the window gained: the log file and the window both brought it
        ("2026-03-02T10:35:00+00:00", True),
        # failed inside both windows: only the log file's change brought it
        ("2026-03-02T10:20:00+00:00", False),
    ],
)
def test_a_transaction_a_changed_log_file_and_a_wider_window_brought_names_both(at, window_named):
    explainer = _explainer(WIDER, NARROW, {"logs/api.jsonl": "b"}, {"logs/api.jsonl": "a"})
    reason = explainer._transaction(_entered(at))
    assert reason.startswith("transaction t107: log file logs/api.jsonl changed")
    window = "window 2026-03-02 11:00 CET to 2026-03-02 11:30 CET is now"
    assert (window in reason) is window_named, reason


def test_a_transaction_whose_currency_changed_says_so():
    # the transaction table corrected t3's currency: both lines said "transaction t3: failed ->
    # failed", naming nothing that changed
    explainer = _explainer(NARROW, NARROW, {}, {})
    moved = {
        "txn_id": "t3",
        "in_after": True,
        "in_before": True,
        **{f"{side}_table_status": "failed" for side in ("after", "before")},
        **{f"{side}_class": "failed" for side in ("after", "before")},
        **{f"{side}_customer_id": "c1" for side in ("after", "before")},
        **{f"{side}_amount_minor": 333 for side in ("after", "before")},
        **{f"{side}_reason": "failed" for side in ("after", "before")},
        "before_currency": "EUR",
        "after_currency": "USD",
    }
    assert explainer._transaction(moved) == (
        "transaction t3: currency EUR -> USD (the transaction table changed)"
    )


def test_a_credit_the_newest_published_run_already_dropped_is_not_blamed_on_the_policy():
    # c2 was paid USD 10.00 by an earlier batch; the newest published run b no longer credits
    # it (its decrease accepted), nor does this run, whose basis changed: the reason named the
    # basis, which prices no line of c2's, instead of the decrease never paid back
    from collections import defaultdict
    from types import SimpleNamespace

    explainer = object.__new__(diff_reasons.Explainer)
    explainer.run = SimpleNamespace(incident_id="INC-A", run_id="c")
    explainer.baseline = SimpleNamespace(run_id="b")
    explainer.published = True
    explainer.by_line = defaultdict(list)
    explainer.customers = {}
    explainer.policy = (_record(basis="flat_per_transaction"), _record())
    explainer.baseline_amounts = {}
    row = {
        "change": "removed",
        "credit_id": "k2",
        "customer_id": "c2",
        "currency": "USD",
        "before_minor": 1000,
        "after_minor": None,
    }
    assert explainer.reasons(row) == (
        "earlier batches paid USD 10.00, more than the newest published run b computes "
        "(USD 0.00): a decrease is never paid back",
    )


FLOORED = {"basis": PERCENT, "percent": Decimal(10), "min_minor": {"USD": 200}}
CAPPED = {"basis": PERCENT, "percent": Decimal(10), "cap_minor": {"USD": 5000}}


@pytest.mark.parametrize(
    ("before", "after", "lines", "reasons"),
    [
        # USD 60.00 failed: 10% is 600 and 15% 900, above either floor: the floor prices neither
        (
            FLOORED,
            {**FLOORED, "percent": Decimal(15), "min_minor": {"USD": 100}},
            ((6000, 6), (6000, 6)),
            ["percent changed: 10 -> 15"],
        ),
        # USD 10.00 failed: 10% is 100, which the floor of 200 lifted: it priced the line before
        (
            FLOORED,
            {**FLOORED, "percent": Decimal(15), "min_minor": {"USD": 100}},
            ((1000, 1), (1000, 1)),
            ["min_minor.USD changed: 200 -> 100", "percent changed: 10 -> 15"],
        ),
        # a floor added that lifts the line now
        (
            {"basis": PERCENT, "percent": Decimal(10)},
            FLOORED,
            ((1000, 1), (1000, 1)),
            ["min_minor.USD changed: (none) -> 200"],
        ),
        # a cap raised far above a line it never cut, and one it cut before
        (CAPPED, {**CAPPED, "cap_minor": {"USD": 9000}}, ((3000, 1), (3000, 1)), []),
        (
            CAPPED,
            {**CAPPED, "cap_minor": {"USD": 9000}},
            ((60000, 2), (60000, 2)),
            ["cap_minor.USD changed: 5000 -> 9000"],
        ),
        # flat per transaction: 3 x 1000 is cut by a cap of 2500 (after), not by one of 5000
        (
            {
                "basis": "flat_per_transaction",
                "flat_minor": {"USD": 1000},
                "cap_minor": {"USD": 5000},
            },
            {
                "basis": "flat_per_transaction",
                "flat_minor": {"USD": 1000},
                "cap_minor": {"USD": 2500},
            },
            ((3000, 3), (3000, 3)),
            ["cap_minor.USD changed: 5000 -> 2500"],
        ),
        # a line a side lacks (or whose amount is unknown): every key that may price it is named
        (
            FLOORED,
            {**FLOORED, "min_minor": {"USD": 100}},
            (None, (6000, 6)),
            ["min_minor.USD changed: 200 -> 100"],
        ),
        (
            FLOORED,
            {**FLOORED, "min_minor": {"USD": 100}},
            ((None, 1), (6000, 6)),
            ["min_minor.USD changed: 200 -> 100"],
        ),
    ],
)
def test_a_floor_or_cap_is_named_only_where_it_priced_the_line(before, after, lines, reasons):
    # the floor lowered from 200 to 100 was named for c1 (USD 6.00 -> USD 9.00), whose credit
    # neither floor ever lifted: finance read the floor as behind a change it had no part in
    priced = tuple(None if line is None else diff_reasons.Priced(*line) for line in lines)
    found = diff_reasons.pricing_changes(_record(**after), _record(**before), "USD", priced)
    assert found == [f"policy {reason}" for reason in reasons]


@pytest.mark.parametrize(
    ("after", "reasons"),
    [
        # lifted to the floor in both runs: the percent priced neither, the floor both
        (
            {**FLOORED, "percent": Decimal(15), "min_minor": {"USD": 300}},
            ["min_minor.USD changed: 200 -> 300"],
        ),
        # 15% of 1900 is 285, above the floor of 200: the percent prices the line after
        (
            {**FLOORED, "percent": Decimal(15), "min_minor": {"USD": 200}},
            ["percent changed: 10 -> 15"],
        ),
    ],
)
def test_a_basis_the_floor_or_cap_overrode_in_both_runs_is_no_reason(after, reasons):
    # USD 19.00 failed, 10% floored to 2.00; then 15% floored to 3.00: "percent changed" was
    # named beside the floor, though the line is the floor in both runs
    line = diff_reasons.Priced(1900, 1)
    found = diff_reasons.pricing_changes(_record(**after), _record(**FLOORED), "USD", (line, line))
    assert found == [f"policy {reason}" for reason in reasons]
