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
