"""Instants as the run's files write them, and the warehouse's time zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms import commands
from transforms.errors import ProofFailed


def iso_utc(instant: datetime) -> str:
    """`instant` in ISO 8601, in UTC, with `Z` for the offset: `2025-01-07T19:15:00Z` (with
    microseconds when it has any)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def clock(instant: datetime, zone: tzinfo) -> str:
    """For people: `instant` in `zone` with the zone's abbreviation, to the minute
    (`2025-01-07 14:15 EST`), with the seconds and their fraction when it has them
    (`14:15:30 EST`, `18:15:00.250 EST`): a window edge between two minutes is not shown as
    the minute before it."""
    local = instant.astimezone(zone)
    text = local.strftime(
        "%Y-%m-%d %H:%M:%S" if local.second or local.microsecond else "%Y-%m-%d %H:%M"
    )
    if local.microsecond:
        text += f".{local.microsecond:06d}"[: 4 if local.microsecond % 1000 == 0 else 7]
    return f"{text} {local.strftime('%Z')}"


_LEAP_SECOND = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}):60(?:[.,]\d+)?([Zz]|[+-]\d{2}(?::?\d{2})?)"
)


def after_leap_second(text: str) -> str | None:
    """The instant after `text` when it is an RFC 3339 leap second (`:60`, with an offset):
    the next minute's start, in the offset written (`2016-12-31T23:59:60Z` gives
    `2017-01-01T00:00:00Z`); None for any other text."""
    found = _LEAP_SECOND.fullmatch(text.strip())
    if found is None:
        return None
    minute, offset = found.groups()
    try:
        start = datetime.fromisoformat(f"{minute.upper()}:00{offset.upper()}")
    except ValueError:  # no such day or hour: not a leap second either
        return None
    after = (start + timedelta(minutes=1)).isoformat()
    return after.replace("+00:00", "Z") if offset in "Zz" else after


def zone(name: str) -> ZoneInfo:
    """A run's time zone as the warehouse holds it (checked when its incident file was read);
    `ProofFailed` (exit 3) when it is no zone: edited on the server, which stopped every
    command that shows the run with "internal error: ZoneInfoNotFoundError" (or
    IsADirectoryError, an `OSError`, for a folder of the zone database such as `America`)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ProofFailed(
            f"the time zone {name!r} in the warehouse is no time zone: edited since",
            [
                f"the time zone {name!r} in the warehouse is no time zone: a run's record was "
                f"edited since it was sealed; `{commands.credits('audit --verify')}` names the run"
            ],
        ) from None
