"""The incident file: one TOML file parsed once into frozen, validated objects.

Everything the pipeline needs to know about an incident (its window, where the inputs are and
the credit policy) comes from here; no transform reads the file or the environment itself.
Pydantic models describe the file, table by table: their fields hold the defaults, their
docstrings become the descriptions of `incident.schema.json` (`json_schema()`), and every
mistake, an unknown key included, is a `ConfigError` naming the file and the dotted key. Paths
are resolved against the incident file's folder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from babel.numbers import get_currency_precision, is_currency, list_currencies
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    StrictStr,
    Tag,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from transforms.errors import ConfigError

MAX_WINDOW = timedelta(days=31)
ISO_CURRENCIES = sorted(list_currencies())
LOG_FIELDS = ("ts", "event", "txn_id", "customer_id", "amount_minor", "currency", "error_code")
TS_FORMATS = ("rfc3339", "epoch_s", "epoch_ms")  # or a strptime pattern (it holds a '%')
FILE_KINDS = {".parquet": "parquet", ".csv": "csv"}
DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    **dict.fromkeys(("s", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("min", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
}
_DURATION = rf"^(\d+) ?({'|'.join(DURATION_UNITS)})$"


# What the pipeline gets -----------------------------------------------------------------------
@dataclass(frozen=True)
class TableSource:
    """Where one table is read from: a Parquet or CSV file, a DuckDB table, a PostgreSQL table or
    query. Only the fields of its kind are set; paths are absolute.

    A PostgreSQL source names the environment variable that holds its DSN, never the DSN: the
    secret stays in the environment and out of every object that is logged or pickled.
    """

    kind: str  # parquet | csv | duckdb | postgres
    path: Path | None = None  # parquet, csv, duckdb
    table: str | None = None  # duckdb, postgres: a plain or schema-qualified name
    query: str | None = None  # postgres, instead of table
    dsn_env: str | None = None  # postgres
    statement_timeout: timedelta | None = None  # postgres
    lock_timeout: timedelta | None = None  # postgres
    slack: timedelta | None = None  # postgres: rows created this long around the window


@dataclass(frozen=True)
class Sources:
    """Where the inputs are: log globs, as absolute paths, and the two tables."""

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

    def local(self, instant: datetime) -> datetime:
        """An instant shown in the incident's time zone."""
        return instant.astimezone(ZoneInfo(self.timezone))


def load(path: Path) -> Incident:
    """Reads and validates an incident file; raises `ConfigError` naming the file and key."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError(f"{path}: incident file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a valid TOML file: {error}") from None
    try:
        return IncidentFile.model_validate(raw).incident(path)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_first_error(error)}") from None


def json_schema() -> str:
    """The incident file's JSON Schema, the text of `incident.schema.json` (`make schema`)."""
    schema = IncidentFile.model_json_schema(schema_generator=_TomlSchema)
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# Errors: pydantic's first error as `dotted.key: message` --------------------------------------
_TAGS = {"file name", "DuckDB table", "PostgreSQL table"}  # a table source's kinds: not keys
_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list of strings",
    "literal_error": "{input!r} is not one of {expected}",
}


def _invalid(message: str, at: str | None = None) -> PydanticCustomError:
    """A broken rule; `at` is a key below the one being validated, for the message."""
    return PydanticCustomError("incident", "{message}", {"message": message, "at": at})


def _first_error(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    context = first.get("ctx", {})
    loc = [part for part in first["loc"] if part not in _TAGS]
    keys = [str(part) for part in loc if not isinstance(part, int)]
    if context.get("at"):
        keys.append(context["at"])
    if first["type"] == "incident":
        message = first["msg"]
    elif loc and isinstance(loc[-1], int):  # an item of a list: every list holds strings
        message = "must be a list of strings"
    else:
        template = _MESSAGES.get(first["type"], "{msg}")
        message = template.format(input=first["input"], msg=first["msg"], **context)
    return f"{'.'.join(keys)}: {message}"


# Value types: a check (returns the value or raises `_invalid`) and its JSON Schema ------------
def _checked(kind: Any, check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """A `kind` validated by `check` (which returns the value or raises `_invalid`)."""
    return Annotated[kind, PlainValidator(check), WithJsonSchema(schema)]


def _matching(pattern: str, message: str) -> Any:
    """A string in which `pattern` is found; else `message`, where {value} is the value."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _invalid("must be a string")
        if not re.search(pattern, value):
            raise _invalid(message.format(value=value))
        return value

    return _checked(str, check, {"type": "string", "pattern": pattern})


def _zone(value: Any) -> str:
    try:
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise _invalid(f"unknown time zone '{value}' (use an IANA name)") from None


def _date_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:  # RFC 3339 allows a lowercase t and z, which Python reads only in uppercase
            value = datetime.fromisoformat(value.upper())
        except ValueError:
            raise _invalid(f"'{value}' is not an ISO 8601 date-time") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise _invalid("needs a time of day, not only a date")
    if not isinstance(value, datetime):
        raise _invalid("must be a date-time")
    return value


def _duration(value: Any) -> timedelta:
    match = re.fullmatch(_DURATION, value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(f'{value!r} is not a duration such as "500ms", "5min", "1 day"')
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def _timeout(value: Any) -> timedelta:
    if _duration(value) < timedelta(milliseconds=1):
        raise _invalid("must be at least 1ms (0 would mean no limit)")
    return _duration(value)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _invalid("must be a number")
    return Decimal(value)


def _share(value: Any) -> Decimal:
    if not 0 <= _number(value) <= 1:
        raise _invalid("must be between 0 and 1")
    return _number(value)


def _amounts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _invalid("must be a table of currency = integer minor units")
    for currency, amount in value.items():
        if not is_currency(currency):
            raise _invalid("is not an ISO 4217 currency code", at=currency)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise _invalid(
                f"must be a whole number of minor units >= 0, got {amount!r} "
                f"({currency} has {get_currency_precision(currency)} minor digits)",
                at=currency,
            )
    return dict(sorted(value.items()))


def _globs(value: Any) -> tuple[str, ...]:
    globs = [value] if isinstance(value, str) else value
    if not globs or not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
        raise _invalid("must be a glob or a non-empty list of globs")
    return tuple(globs)


def _ts_format(value: Any) -> str:
    if not isinstance(value, str) or (value not in TS_FORMATS and "%" not in value):
        raise _invalid(
            f"use one of {list(TS_FORMATS)} or a strptime pattern such as '%d/%b/%Y:%H:%M:%S %z'"
        )
    return value


def _dsn_env(value: Any) -> str:
    # Never echo the value: a DSN written here by mistake may hold a password.
    match = re.fullmatch(r"env:([A-Za-z_][A-Za-z0-9_]*)", value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(
            'must be "env:NAME", the environment variable that holds the DSN: '
            "secrets come only from the environment, never from files"
        )
    if not os.environ.get(match.group(1)):
        raise _invalid(f"the environment variable {match.group(1)} is not set")
    return match.group(1)


def _data_file(value: Any) -> str:
    if not isinstance(value, str) or Path(value).suffix.lower() not in FILE_KINDS:
        raise _invalid(
            "name a .parquet or .csv file, or a table such as "
            '{ duckdb = "payments.duckdb", table = "transactions" } or '
            '{ postgres = "env:PAYMENTS_DSN", table = "public.transactions" }'
        )
    return value


_DURATION_SCHEMA = {"type": "string", "pattern": _DURATION, "examples": ["500ms", "5min", "1 day"]}
Text = _matching(r"\S", "must be a non-empty string")
IncidentId = _matching(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    "use letters, digits, '.', '_' and '-' only (it names folders)",
)
Title = _matching(r"^$|\S", "must be a non-empty string")
Zone = _checked(str, _zone, {"type": "string", "examples": ["UTC", "America/New_York"]})
DateTime = _checked(
    datetime,
    _date_time,
    {"type": "string", "examples": ["2025-01-07T14:15:00", "2025-01-07T19:15Z"]},
)
Duration = _checked(timedelta, _duration, _DURATION_SCHEMA)
Timeout = _checked(timedelta, _timeout, _DURATION_SCHEMA)
Number = _checked(Decimal, _number, {"type": "number", "minimum": 0})
Share = _checked(Decimal, _share, {"type": "number", "minimum": 0, "maximum": 1})
Amounts = _checked(
    dict[str, int],
    _amounts,
    {
        "type": "object",
        "propertyNames": {"pattern": "^[A-Z]{3}$"},
        "additionalProperties": {"type": "integer", "minimum": 0},
    },
)
Names = tuple[StrictStr, ...]
Globs = _checked(
    tuple[str, ...],
    _globs,
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
)
FieldPath = _matching(r'^[^\s=".]+(\.[^\s=".]+)*$', "'{value}' is not a key or dotted path")
TsFormat = _checked(
    str, _ts_format, {"anyOf": [{"enum": list(TS_FORMATS)}, {"type": "string", "pattern": "%"}]}
)
DataFile = _checked(
    str,
    _data_file,
    {"type": "string", "pattern": r"\.([Pp][Aa][Rr][Qq][Uu][Ee][Tt]|[Cc][Ss][Vv])$"},
)
DsnEnv = _checked(str, _dsn_env, {"type": "string", "pattern": "^env:[A-Za-z_][A-Za-z0-9_]*$"})
# Table names go into SQL text (an identifier cannot be bound): only plain names pass.
TableName = _matching(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
    "must be a table name such as transactions or public.transactions",
)


# The file, table by table ---------------------------------------------------------------------
class _Table(BaseModel):
    """A TOML table: frozen, every default validated, an unknown key an error with a hint."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,
        defer_build=True,  # built when a file is first read: importing stays cheap
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise _invalid("must be a table")
        known = sorted(cls.model_fields)
        for key in sorted(set(raw) - set(known)):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {known}"
            raise _invalid(f"unknown key; {hint}", at=key)
        return raw


class Policy(_Table):
    """How much each affected customer gets. Amounts are integer minor units per currency."""

    version: Text = "unversioned"
    """Names this policy in the outputs and the warehouse."""
    basis: Literal["flat_per_customer", "flat_per_transaction", "percent_of_failed_amount"] = (
        "flat_per_customer"
    )
    """flat_per_customer, flat_per_transaction (flat x count) or percent_of_failed_amount."""
    flat_minor: Amounts = {}
    """The flat credit per currency in minor units (`{ USD = 1000 }` is 10.00 USD)."""
    percent: Number = 0
    """Percent of the summed failed amount, exact (12.5 is fine); > 0 for that basis."""
    min_minor: Amounts = {}
    """A floor per currency in minor units, applied after the basis."""
    cap_minor: Amounts = {}
    """A cap per customer and currency in minor units, applied last."""
    failure_events: Names = ("payment.failed",)
    """The log events that are failed payment attempts (at least one)."""
    outage_error_codes: Names = (
        "DB_POOL_TIMEOUT",
        "DB_CONN_REFUSED",
        "UPSTREAM_TIMEOUT",
        "INTERNAL_ERROR",
    )
    """Error codes that make a failure outage-caused, and so credited."""
    decline_error_codes: Names = (
        "CARD_DECLINED",
        "INSUFFICIENT_FUNDS",
        "EXPIRED_CARD",
        "DO_NOT_HONOR",
    )
    """Error codes of ordinary declines (class declined, never credited)."""
    credit_recovered: StrictBool = True
    """Whether an outage failure whose transaction later succeeded (recovered) is credited."""
    credit_table_only: StrictBool = True
    """Whether a failed outage transaction in the table without a log line is credited."""
    exclude_segments: Names = ("internal", "test")
    """Customer segments never credited (excluded_segment)."""

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.percent < 0 or (self.basis == "percent_of_failed_amount" and self.percent == 0):
            raise _invalid("must be a positive number of percent", at="percent")
        for currency in sorted(set(self.min_minor) & set(self.cap_minor)):
            if self.min_minor[currency] > self.cap_minor[currency]:
                raise _invalid(f"{currency} floor is above its cap", at="min_minor")
        if not self.failure_events:
            raise _invalid("must name at least one event", at="failure_events")
        return self

    def as_json(self) -> dict[str, Any]:
        """The policy as plain JSON values (percent as a string: it is exact)."""
        return {**self.model_dump(), "percent": str(self.percent)}

    @property
    def sha256(self) -> str:
        """A fingerprint of the policy: the same policy always gives the same hash."""
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class LogFormat(_Table):
    """How a log line is written: its syntax, where each field is and how its time is written.

    Each field (ts, event, txn_id, ...) is a dotted JSON path (jsonl: `payment.id` is the key `id`
    inside the object `payment`), a logfmt key, or a named group of `pattern` (regex); by
    default, its own name.
    """

    kind: Literal["jsonl", "logfmt", "regex"] = "jsonl"
    """jsonl (JSON lines), logfmt (key=value key="quoted value") or regex (plain text)."""
    ts: FieldPath = "ts"
    event: FieldPath = "event"
    txn_id: FieldPath = "txn_id"
    customer_id: FieldPath = "customer_id"
    amount_minor: FieldPath = "amount_minor"
    currency: FieldPath = "currency"
    error_code: FieldPath = "error_code"
    ts_format: TsFormat = "rfc3339"
    """rfc3339, epoch_s, epoch_ms or a strptime pattern (with %z it carries its offset)."""
    pattern: Text | None = None
    """regex only, and required there: named groups (RE2: no look-arounds), at least ts, event
    and txn_id."""

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """Each of `LOG_FIELDS` and where it is in a line."""
        return tuple((name, getattr(self, name)) for name in LOG_FIELDS)

    @model_validator(mode="after")
    def _pattern_fits(self) -> LogFormat:
        if (self.kind == "regex") != (self.pattern is not None):
            raise _invalid("is required with kind = 'regex', and only then", at="pattern")
        if self.pattern is None:
            return self
        try:
            groups = re.compile(self.pattern).groupindex
            # DuckDB runs the pattern with RE2, which lacks look-arounds and back-references.
            duckdb.execute("select regexp_matches('', $pattern)", {"pattern": self.pattern})
        except (re.error, duckdb.Error) as error:
            raise _invalid(f"not a regular expression RE2 accepts: {error}", at="pattern") from None
        for name in ("ts", "event", "txn_id"):
            if getattr(self, name) not in groups:
                group = getattr(self, name)
                raise _invalid(f"needs a named group (?P<{group}>...) for {name}", at="pattern")
        return self


class DuckdbTable(_Table):
    """A table in a DuckDB file, opened read-only."""

    duckdb: Text
    """The DuckDB file, relative to the incident file."""
    table: TableName
    """The table: a plain or schema-qualified name."""

    def source(self, folder: Path) -> TableSource:
        return TableSource("duckdb", path=(folder / self.duckdb).resolve(), table=self.table)


class PostgresTable(_Table):
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
            raise _invalid("give exactly one of 'table' or 'query'")
        return self

    def source(self, folder: Path) -> TableSource:
        return TableSource(
            "postgres", dsn_env=self.postgres, **self.model_dump(exclude={"postgres"})
        )


def _table_kind(value: Any) -> Any:
    if not isinstance(value, str | dict):
        raise _invalid("must be a file name or a table")
    if isinstance(value, dict) and len({"duckdb", "postgres"} & set(value)) != 1:
        raise _invalid("give exactly one of 'duckdb' (a file) or 'postgres' (env:NAME)")
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


class SourcesTable(_Table):
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
            logs=tuple(str(folder / glob) for glob in self.logs),
            logs_timezone=self.logs_timezone,
            transactions=_source(self.transactions, folder),
            customers=_source(self.customers, folder),
            log_format=self.log_format,
            log_clock_skew=self.log_clock_skew,
        )


def _source(spec: str | DuckdbTable | PostgresTable, folder: Path) -> TableSource:
    if isinstance(spec, str):  # the kind is the suffix written, whatever a link points to
        return TableSource(FILE_KINDS[Path(spec).suffix.lower()], path=(folder / spec).resolve())
    return spec.source(folder)


class QualityTable(_Table):
    """The quality gate's thresholds."""

    max_quarantined_share: Share = Decimal("0.01")
    """The largest share of a log file's lines that may be quarantined; above it the run is
    rejected."""


class IncidentFile(_Table):
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

    @model_validator(mode="after")
    def _window_fits(self) -> IncidentFile:
        self.window()
        return self

    def window(self) -> tuple[datetime, datetime]:
        """The window as UTC instants; a time without an offset is read in `timezone`."""
        zone = ZoneInfo(self.timezone)
        start, end = (
            _utc(self.window_start, zone, "window_start"),
            _utc(self.window_end, zone, "window_end"),
        )
        if end <= start:
            raise _invalid(f"must be after window_start ({start:%Y-%m-%dT%H:%M:%SZ})", "window_end")
        if end - start > MAX_WINDOW:
            raise _invalid(f"the window is {end - start}, longer than 31 days", "window_end")
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
        )


def _utc(value: datetime, zone: ZoneInfo, key: str) -> datetime:
    """An instant in UTC; a naive time is read in `zone` (the first one of a DST fold)."""
    if value.tzinfo is None:
        local = value.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            raise _invalid(f"{value} does not exist in {zone.key} (a DST gap)", key)
        value = local
    return value.astimezone(UTC)


class _TomlSchema(GenerateJsonSchema):
    """The schema of a TOML file: no null (TOML has none), no generated titles, exact numbers."""

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> Any:
        if self.get_default_value(schema) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def encode_default(self, default: Any) -> Any:
        return float(default) if isinstance(default, Decimal) else super().encode_default(default)
