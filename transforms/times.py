"""Instants as the run's files write them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(instant: datetime) -> str:
    """`instant` in ISO 8601, in UTC, with `Z` for the offset: `2025-01-07T19:15:00Z` (with
    microseconds when it has any)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
