"""What the pipeline gets from an incident file: frozen dataclasses, UTC times, absolute paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from transforms.ingest.incident.sections import LogFormat, Policy, WindowDetection
from transforms.ingest.incident.values import TableKind
from transforms.money import money_on

# The quarantined lines one log file may hold before the run stops (`[quality]`, `flood.Flood`)
MAX_QUARANTINED_LINES = 1_000_000


@dataclass(frozen=True)
class TableSource:
    """Where one table is read from: a Parquet or CSV file, a DuckDB table, a PostgreSQL table or
    query. Only the fields of its kind are set; paths are absolute.

    A PostgreSQL source names the environment variable that holds its DSN, never the DSN: the
    secret stays in the environment and out of every object that is logged or pickled.
    """

    kind: TableKind
    path: Path | None = None  # parquet, csv, duckdb
    table: str | None = None  # duckdb, postgres: a plain or schema-qualified name
    query: str | None = None  # postgres, instead of table
    dsn_env: str | None = None  # postgres
    statement_timeout: timedelta | None = None  # postgres
    lock_timeout: timedelta | None = None  # postgres
    slack: timedelta | None = None  # postgres: rows created this long around the window


@dataclass(frozen=True)
class Sources:
    """Where the inputs are: log globs as written (a relative one is read from the incident
    file's folder: `logs.expand`), and the two tables."""

    logs: tuple[str, ...]
    logs_timezone: str
    transactions: TableSource
    customers: TableSource
    log_format: LogFormat
    log_clock_skew: timedelta = timedelta(0)


@dataclass(frozen=True)
class Incident:
    """One outage: its id, window `[window_start, window_end)` as UTC instants, sources, policy."""

    path: Path
    id: str
    title: str
    timezone: str
    window_start: datetime
    window_end: datetime
    sources: Sources
    policy: Policy
    max_quarantined_share: Decimal
    window_detection: WindowDetection = field(default_factory=lambda: WindowDetection())
    min_quarantined_lines: int = 10
    max_quarantined_lines: int = MAX_QUARANTINED_LINES
    line_checks: str = "failure_capable"
    max_unknown_customer_share: Decimal = Decimal("0.05")

    def local(self, instant: datetime) -> datetime:
        """An instant shown in the incident's time zone."""
        return instant.astimezone(ZoneInfo(self.timezone))

    @property
    def money_days(self) -> tuple[date, date]:
        """The first and the last UTC day the window `[window_start, window_end)` touches."""
        last = self.window_end - timedelta(microseconds=1)  # an end at midnight: the day before
        return self.window_start.astimezone(UTC).date(), last.astimezone(UTC).date()

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies that are money for this incident, sorted: legal tender somewhere on
        some day of the window (`money_days`; a window across a change of currency keeps both,
        as their holders did). A payment in any other is refused: quarantined in a log, and
        rejected by the gate in a table or a credit."""
        return money_on(*self.money_days)

    @property
    def money_days_text(self) -> str:
        """`money_days` for a message: `2025-01-07`, or `2025-01-31 to 2025-02-01`."""
        first, last = self.money_days
        return str(first) if first == last else f"{first} to {last}"
