"""What the pipeline gets from an incident file: frozen dataclasses, UTC times, absolute paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from transforms.ingest.incident.sections import LogFormat, Policy, WindowDetection
from transforms.ingest.incident.values import TableKind


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
    line_checks: str = "failure_capable"
    max_unknown_customer_share: Decimal = Decimal("0.05")

    def local(self, instant: datetime) -> datetime:
        """An instant shown in the incident's time zone."""
        return instant.astimezone(ZoneInfo(self.timezone))
