"""Instants as the run's files write them: ISO 8601 in UTC, with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from transforms import db, times
from transforms.errors import ProofFailed
from transforms.ingest.incident import values


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


def test_python_and_duckdb_read_every_zone_by_one_time_zone_database():
    """The window's edges are read by Python (`zoneinfo`), a log's local time by DuckDB (ICU):
    with two releases of the time zone database (the machine's files, 2025b, beside the pinned
    `tzdata`'s and ICU's 2026f) British Columbia's autumn of 2026 kept -08:00 for the window and
    -07:00 for the logs, and a failure inside both went uncredited. One release: every zone an
    incident file takes has the same offset in both, at noon UTC of every week of 2020-2030."""
    weeks = [datetime(2020, 1, 1, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(574)]
    names = sorted(values._iana_names())
    found = db.connect().execute(
        "select zone, list(timezone(zone, week) order by week) from unnest($names) as z(zone), "
        "unnest($weeks::timestamptz[]) as w(week) group by zone",
        {"names": names, "weeks": weeks},
    )
    in_duckdb = dict(found.fetchall())
    in_python = {
        name: [week.astimezone(ZoneInfo(name)).replace(tzinfo=None) for week in weeks]
        for name in names
    }
    differ = [name for name in names if in_duckdb[name] != in_python[name]]
    assert differ == []


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",  # no such zone
        "America/",  # not a key (ValueError)
        "America",  # a folder of the zone database: IsADirectoryError, an OSError
    ],
)
def test_a_zone_edited_into_no_zone_is_named_not_an_internal_error(name):
    with pytest.raises(ProofFailed) as refused:
        times.zone(name)
    assert f"the time zone {name!r} in the warehouse is no time zone" in str(refused.value)


def test_a_zone_is_read():  # the negative case: a zone is no error
    assert times.zone("America/New_York") == ZoneInfo("America/New_York")
