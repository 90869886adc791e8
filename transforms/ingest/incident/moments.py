"""The incident window's times as the incident file writes them: `DateTime`, a window edge's
check (a time of day, the years a run can widen into, no digit finer than the microsecond that
log and table times are read to), and `misread_clock`, a zone that would read it hours off."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from transforms.ingest.incident.values import checked, invalid

YEARS = (1970, 2999)
"""The years a window may be in: a run widens it by days (slack, clock skew) either way."""
_FRACTION = re.compile(r"[Tt ]\d{2}:\d{2}:\d{2}[.,](\d+)")
"""A written time's fraction of a second (`fromisoformat` keeps its first six digits)."""
_FINE_LITERAL = re.compile(
    r"^([ \t]*window_(?:start|end)[ \t]*=[ \t]*)"
    r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}\.\d{7,}(?:[Zz]|[+-]\d{2}:\d{2})?)(?=[ \t]*(?:#|$))",
    re.MULTILINE,
)
"""A window edge written as a TOML date-time literal finer than a microsecond, which TOML's
reader would cut to one unseen."""


def quoted_fine_edges(text: str) -> str:
    """The incident file's text with a window edge written as a date-time literal with more than
    six decimals of a second quoted, so that `_date_time` reads its digits (TOML's reader
    truncates them: a window end cut to 18:15:00 left out a failure logged inside it)."""
    return _FINE_LITERAL.sub(r'\1"\2"', text)


def _date_time(value: Any) -> datetime:
    if isinstance(value, str):
        text = value
        try:  # RFC 3339 allows a lowercase t and z, which Python reads only in uppercase
            value = datetime.fromisoformat(text.upper())
        except ValueError:
            raise invalid(
                f"'{text}' is not an ISO 8601 date-time; write it like \"2025-01-07T18:15:00\" "
                '(read in the incident\'s timezone) or with an offset, "2025-01-07T23:15:00Z"'
            ) from None
        if "T" not in text.upper() and " " not in text.strip():
            # Python reads "2025-01-07" as its midnight: a window edge needs its time of day.
            raise invalid(f"'{text}' needs a time of day, not only a date")
        fraction = _FRACTION.search(text)
        if fraction and fraction.group(1)[6:].strip("0"):
            # Log and table times are cut to the microsecond: an edge between two of them holds
            # the lines of the next microsecond up, and cut, it lost the ones just inside it.
            meant = (value + timedelta(microseconds=1)).isoformat(timespec="microseconds")
            raise invalid(
                f"'{text}' is finer than a microsecond, which log and table times are read to; "
                f"write {meant}, the same window for every time read"
            )
    if isinstance(value, date) and not isinstance(value, datetime):
        raise invalid("needs a time of day, not only a date")
    if not isinstance(value, datetime):
        raise invalid("must be a date-time")
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise invalid(f"must be in the years {YEARS[0]} to {YEARS[1]}, not {value.year}")
    return value


DateTime = checked(
    datetime,
    _date_time,
    {"type": "string", "examples": ["2025-01-07T14:15:00", "2025-01-07T19:15Z"]},
)


def misread_clock(zone: str, local: datetime) -> str | None:
    """Why a window time written without an offset (`local`) cannot be read in `zone`, or
    None: `Etc/GMT+5` is UTC-05:00 (POSIX reverses ISO's sign), so a window written on the
    clock its name seems to say would be read ten hours off, unseen. With an offset given, the
    zone only shows the times. (`EST`, `MST` and `HST` are IANA's names of Panama's, Arizona's
    and Hawaii's clocks, standard time all year: taken as they are.)"""
    if not re.fullmatch(r"Etc/GMT[+-]0*[1-9]\d*", zone):
        return None
    offset = local.replace(tzinfo=ZoneInfo(zone)).isoformat()[-6:]
    return (
        f"'{zone}' is UTC{offset} all year (the sign reversed), as POSIX writes it: write "
        f"the offset in the window times (...{offset}) and leave timezone out, or the name of "
        "the region whose clock the window was written on"
    )
