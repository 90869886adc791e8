"""The policy changes a diff's reasons name (`diff_reasons.policy_changes`)."""

from __future__ import annotations

from decimal import Decimal

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
