"""Instants as the run's files write them, and the warehouse's time zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms import commands
from transforms.errors import ProofFailed


def iso_utc(instant: datetime) -> str:
    """`instant` in ISO 8601, in UTC, with `Z` for the offset: `2025-01-07T19:15:00Z` (with
    microseconds when it has any)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
