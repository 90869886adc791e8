"""Instants as the run's files write them: ISO 8601 in UTC, with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from transforms import times


@pytest.mark.parametrize(
    ("instant", "written"),
    [
        (datetime(2025, 1, 7, 19, 15, tzinfo=UTC), "2025-01-07T19:15:00Z"),  # UTC: Z, not +00:00
        # New York's 14:15 is 19:15Z: converted, not relabelled
        (datetime(2025, 1, 7, 14, 15, tzinfo=ZoneInfo("America/New_York")), "2025-01-07T19:15:00Z"),
        # across midnight into the previous day
        (
            datetime(2025, 1, 8, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2025-01-07T19:00:00Z",
        ),
        # microseconds are kept
        (datetime(2025, 1, 7, 19, 15, 0, 123456, tzinfo=UTC), "2025-01-07T19:15:00.123456Z"),
    ],
)
def test_an_instant_is_written_in_utc_with_z(instant, written):
    assert times.iso_utc(instant) == written
