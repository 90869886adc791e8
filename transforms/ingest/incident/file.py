"""The incident file, table by table: where the inputs are, the quality thresholds and the file
itself, which builds the `Incident` the pipeline gets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from transforms.ingest.incident.amounts import Share
from transforms.ingest.incident.model import (
    MAX_QUARANTINED_LINES,
    Incident,
    Sources,
    TableSource,
)
from transforms.ingest.incident.moments import DateTime, misread_clock
from transforms.ingest.incident.sections import LogFormat, Policy, Table, WindowDetection
from transforms.ingest.incident.values import (
    FILE_KINDS,
    MAX_WINDOW,
    Count,
    DataFile,
    DsnEnv,
    Duration,
    Globs,
    IncidentId,
    TableName,
    Text,
    Timeout,
    Title,
    Zone,
    invalid,
    resolved,
)


class DuckdbTable(Table):
    """A table in a DuckDB file, opened read-only."""

    duckdb: Text
    """The DuckDB file, relative to the incident file."""
    table: TableName
    """The table: a plain or schema-qualified name."""

    def source(self, folder: Path) -> TableSource:
        path = resolved(folder / self.duckdb, "a DuckDB file")
        return TableSource("duckdb", path=path, table=self.table)


class PostgresTable(Table):
    """A PostgreSQL table or query, read in one read-only transaction; give table or query."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["table"]}, {"required": ["query"]}]}
    )

    postgres: DsnEnv
    """"env:NAME": the environment variable that holds the DSN (never the DSN itself)."""
    table: TableName | None = None
    """The table: a plain or schema-qualified name."""
    query: Text | None = None
    """A query returning the table's columns, instead of a table."""
    statement_timeout: Timeout = "5min"
    """The server cancels the read after this long."""
    lock_timeout: Timeout = "1s"
    """The read gives up after waiting this long behind a lock held elsewhere."""
    slack: Duration = "1 day"
    """Rows created this long before or after the window are read too."""

    @model_validator(mode="after")
    def _table_or_query(self) -> PostgresTable:
        if (self.table is None) == (self.query is None):
            raise invalid("give exactly one of 'table' or 'query'")
        return self

    def source(self, folder: Path) -> TableSource:
        return TableSource(
            "postgres", dsn_env=self.postgres, **self.model_dump(exclude={"postgres"})
        )


def _table_kind(value: Any) -> Any:
    if not isinstance(value, str | dict):
        raise invalid("must be a file name or a table")
    if isinstance(value, dict) and len({"duckdb", "postgres"} & set(value)) != 1:
        raise invalid("give exactly one of 'duckdb' (a file) or 'postgres' (env:NAME)")
    return value


def _table_tag(value: str | dict[str, Any]) -> str:
    if isinstance(value, str):
        return "file name"
    return "DuckDB table" if "duckdb" in value else "PostgreSQL table"


TableSpec = Annotated[
    Annotated[DataFile, Tag("file name")]
    | Annotated[DuckdbTable, Tag("DuckDB table")]
    | Annotated[PostgresTable, Tag("PostgreSQL table")],
    Discriminator(_table_tag),
    BeforeValidator(_table_kind),
]


class SourcesTable(Table):
    """Where the inputs are. Paths are relative to the incident file."""

    logs: Globs
    """One or more globs (** allowed); each must match a file."""
    logs_timezone: Zone = "UTC"
    """The time zone of log times written without an offset."""
    transactions: TableSpec
    """The transaction table: a .parquet or .csv file, a DuckDB table or PostgreSQL."""
    customers: TableSpec
    """The customer table: a .parquet or .csv file, a DuckDB table or PostgreSQL."""
    log_format: LogFormat = Field(default_factory=LogFormat)
    """How the log lines are written; default: the JSON lines of the log contract."""
    log_clock_skew: Duration = "0s"
    """How far the logging hosts' clocks may be off: the window is widened by it for logs."""

    def sources(self, folder: Path) -> Sources:
        return Sources(
            logs=self.logs,
            logs_timezone=self.logs_timezone,
            transactions=_source(self.transactions, folder, "transactions"),
            customers=_source(self.customers, folder, "customers"),
            log_format=self.log_format,
            log_clock_skew=self.log_clock_skew,
        )


def _source(spec: str | DuckdbTable | PostgresTable, folder: Path, key: str) -> TableSource:
    if isinstance(spec, str):  # the kind is the suffix written, whatever a link points to
        path = resolved(folder / spec, f"the file of sources.{key}")
        return TableSource(FILE_KINDS[Path(spec).suffix.lower()], path=path)
    return spec.source(folder)


class QualityTable(Table):
    """The quality gate's thresholds."""

    max_quarantined_share: Share = Decimal("0.01")
    """The largest share of the log lines that may be quarantined, in all files together and in
    a file with at least `min_quarantined_lines` quarantined lines; above it the run is
    rejected."""
    min_quarantined_lines: Count = 10
    """How many quarantined lines a file needs before its own share can reject the run (one
    truncated last line in a small file does not)."""
    max_quarantined_lines: Count = MAX_QUARANTINED_LINES
    """How many quarantined lines one log file may hold: past them the run stops (exit 2) naming
    the file, which is no log of the contract (a decompression bomb of blank lines, a disk's
    zeros, another program's file), rather than read on for minutes into gigabytes of
    quarantine.jsonl."""
    line_checks: Literal["failure_capable", "all"] = "failure_capable"
    """Which lines are checked against the whole log contract: those that could carry a
    failure event (the others by their shape only), or every line (to audit a log source)."""
    max_unknown_customer_share: Share = Decimal("0.05")
    """The largest share of the credit lines whose customer id the customer table does not hold
    (from 10 such lines on); above it the run is rejected: the tables' ids likely differ (blanks,
    case), and the credit file would pay almost no one."""


class IncidentFile(Table):
    """An outage-credits incident file: the outage, where its inputs are, the credit policy."""

    model_config = ConfigDict(title="outage-credits incident file")

    id: IncidentId
    """The incident's id: letters, digits, '.', '_' and '-' (it names folders)."""
    title: Title = ""
    """A title for people."""
    timezone: Zone = "UTC"
    """How times are shown (an IANA name); a window time without an offset is read in it."""
    window_start: DateTime
    """The outage's first instant, inclusive; an offset or Z is taken as given."""
    window_end: DateTime
    """The end of the outage, exclusive; at most 31 days after the start."""
    sources: SourcesTable
    policy: Policy = Field(default_factory=Policy)
    quality: QualityTable = Field(default_factory=QualityTable)
    window_detection: WindowDetection = Field(default_factory=WindowDetection)

    @model_validator(mode="after")
    def _window_fits(self) -> IncidentFile:
        if "timezone" not in self.model_fields_set:
            # Read in UTC by default, a post-mortem's local times would move the window by
            # hours, and the run would still pass with the wrong customers.
            for key in ("window_start", "window_end"):
                if getattr(self, key).tzinfo is None:
                    raise invalid(
                        "has no offset and `timezone` is not set: give the zone the window was "
                        'written in (timezone = "America/New_York") or an offset ("...Z", '
                        '"...-05:00")',
                        key,
                    )
        self.window()
        return self

    def window(self) -> tuple[datetime, datetime]:
        """The window as UTC instants; a time without an offset is read in `timezone`."""
        zone = ZoneInfo(self.timezone)
        start, end = (
            _utc(self.window_start, zone, "window_start"),
            _utc(self.window_end, zone, "window_end"),
        )
        if end <= start:  # on the incident's clocks, as written, and in UTC
            shown = ", ".join(
                f"{name} {moment.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} ({moment:%H:%M:%SZ})"
                for name, moment in (("window_start", start), ("window_end", end))
            )
            raise invalid(f"must be after window_start: {shown}", "window_end")
        if end - start > MAX_WINDOW:
            raise invalid(f"the window is {end - start}, longer than 31 days", "window_end")
        return start, end

    def incident(self, path: Path) -> Incident:
        start, end = self.window()
        return Incident(
            path=path,
            id=self.id,
            title=self.title,
            timezone=self.timezone,
            window_start=start,
            window_end=end,
            sources=self.sources.sources(path.parent),
            policy=self.policy,
            max_quarantined_share=self.quality.max_quarantined_share,
            max_unknown_customer_share=self.quality.max_unknown_customer_share,
            window_detection=self.window_detection,
            min_quarantined_lines=self.quality.min_quarantined_lines,
            max_quarantined_lines=self.quality.max_quarantined_lines,
            line_checks=self.quality.line_checks,
        )


def _utc(value: datetime, zone: ZoneInfo, key: str) -> datetime:
    """An instant in UTC; a naive time is read in `zone`. One a DST change skips, or repeats
    (taking either would move the window's edge by the change, silently), is refused."""
    if value.tzinfo is None:
        if misread := misread_clock(zone.key, value):
            raise invalid(misread, "timezone")
        local = value.replace(tzinfo=zone)
        shown = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if shown != value:
            raise invalid(
                f"{value} does not exist in {zone.key} (a DST gap: its clocks skipped it); write "
                f"a time they showed, such as {shown.isoformat()}, the instant "
                f"{local.isoformat()} is, or write the time with its offset",
                key,
            )
        second = value.replace(tzinfo=zone, fold=1)
        if second.utcoffset() != local.utcoffset():
            raise invalid(
                f"{value} happens twice in {zone.key} (a DST fold); write its offset: "
                f"{local.isoformat()} (the first) or {second.isoformat()} (the second)",
                key,
            )
        value = local
    return value.astimezone(UTC)


class PolicyFile(Table):
    """A policy file (`credits what-if --policy`): one `[policy]` table, as in an incident file."""

    policy: Policy
    """The credit policy, with the incident file's keys, defaults and checks."""
