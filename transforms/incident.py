"""The incident file: one TOML file parsed once into frozen, validated objects.

Everything the pipeline needs to know about an incident (its window, where the inputs are and
the credit policy) comes from here; no transform reads the file or the environment itself.
Paths are resolved against the incident file's folder. An unknown key is an error, never
silently ignored; omitted policy keys take the defaults in `POLICY_DEFAULTS`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from babel.numbers import get_currency_precision, is_currency, list_currencies

from transforms.errors import ConfigError

MAX_WINDOW = timedelta(days=31)
INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
ISO_CURRENCIES = sorted(list_currencies())
BASES = ("flat_per_customer", "flat_per_transaction", "percent_of_failed_amount")

POLICY_DEFAULTS: dict[str, Any] = {
    "version": "unversioned",
    "basis": "flat_per_customer",
    "flat_minor": {},
    "percent": Decimal(0),
    "min_minor": {},
    "cap_minor": {},
    "failure_events": ["payment.failed"],
    "outage_error_codes": [
        "DB_POOL_TIMEOUT",
        "DB_CONN_REFUSED",
        "UPSTREAM_TIMEOUT",
        "INTERNAL_ERROR",
    ],
    "decline_error_codes": ["CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "DO_NOT_HONOR"],
    "credit_recovered": True,
    "credit_table_only": True,
    "exclude_segments": ["internal", "test"],
}
SOURCES_DEFAULTS: dict[str, Any] = {
    "logs_timezone": "UTC",
    "log_format": {},
    "log_clock_skew": "0s",
}
QUALITY_DEFAULTS: dict[str, Any] = {"max_quarantined_share": Decimal("0.01")}
TOP_KEYS = {"id", "title", "timezone", "window_start", "window_end", "sources", "policy", "quality"}
SOURCES_KEYS = {"logs", "transactions", "customers", *SOURCES_DEFAULTS}
FILE_KINDS = {".parquet": "parquet", ".csv": "csv"}
TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
DSN_FROM_ENV = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")
DURATION = re.compile(r"(\d+) ?([a-z]+)")
DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    **dict.fromkeys(("s", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("min", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
}
LOG_FIELDS = ("ts", "event", "txn_id", "customer_id", "amount_minor", "currency", "error_code")
LOG_KINDS = ("jsonl", "logfmt", "regex")
TS_FORMATS = ("rfc3339", "epoch_s", "epoch_ms")  # or a strptime pattern (it holds a '%')
LOG_FIELD_NAME = re.compile(r"[^\s=\"]+")
POSTGRES_DEFAULTS: dict[str, Any] = {
    "statement_timeout": "5min",
    "lock_timeout": "1s",
    "slack": "1 day",
}


@dataclass(frozen=True)
class Policy:
    """How much each affected customer gets. Amounts are integer minor units per currency."""

    version: str
    basis: str
    flat_minor: dict[str, int]
    percent: Decimal
    min_minor: dict[str, int]
    cap_minor: dict[str, int]
    failure_events: tuple[str, ...]
    outage_error_codes: tuple[str, ...]
    decline_error_codes: tuple[str, ...]
    credit_recovered: bool
    credit_table_only: bool
    exclude_segments: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The policy as plain JSON values (percent as a string: it is exact)."""
        plain = asdict(self)
        plain["percent"] = str(self.percent)
        return plain

    @property
    def sha256(self) -> str:
        """A fingerprint of the policy: the same policy always gives the same hash."""
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


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
class LogFormat:
    """How a log line is written: its syntax, where each field is and how its time is written.

    `fields` maps each of `LOG_FIELDS` to a dotted JSON path (jsonl: `payment.id` is the key
    `id` inside the object `payment`), a logfmt key, or a named group of `pattern` (regex).
    """

    kind: str = "jsonl"
    fields: tuple[tuple[str, str], ...] = tuple((name, name) for name in LOG_FIELDS)
    ts_format: str = "rfc3339"
    pattern: str | None = None


@dataclass(frozen=True)
class Sources:
    """Where the inputs are: log globs, as absolute paths, and the two tables."""

    logs: tuple[str, ...]
    logs_timezone: str
    transactions: TableSource
    customers: TableSource
    log_format: LogFormat = LogFormat()
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
    return _Parser(path).incident(raw)


class _Parser:
    """Turns the raw TOML mapping into an `Incident`, with messages that name file and key."""

    def __init__(self, path: Path):
        self.path = path
        self.folder = path.parent

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {message}")

    def incident(self, raw: dict[str, Any]) -> Incident:
        self.reject_unknown(raw, TOP_KEYS, "")
        for key in ("id", "window_start", "window_end", "sources"):
            if key not in raw:
                raise self.fail(key, "is required")
        zone = self.zone(raw.get("timezone", "UTC"), "timezone")
        start = self.instant(raw["window_start"], zone, "window_start")
        end = self.instant(raw["window_end"], zone, "window_end")
        if end <= start:
            raise self.fail(
                "window_end", f"must be after window_start ({start:%Y-%m-%dT%H:%M:%SZ})"
            )
        if end - start > MAX_WINDOW:
            raise self.fail("window_end", f"the window is {end - start}, longer than 31 days")
        quality = self.table(raw, "quality", QUALITY_DEFAULTS)
        share = self.decimal(quality["max_quarantined_share"], "quality.max_quarantined_share")
        if not 0 <= share <= 1:
            raise self.fail("quality.max_quarantined_share", "must be between 0 and 1")
        incident_id = self.text(raw["id"], "id")
        if not INCIDENT_ID.fullmatch(incident_id):
            raise self.fail("id", "use letters, digits, '.', '_' and '-' only (it names folders)")
        return Incident(
            path=self.path,
            id=incident_id,
            title=raw.get("title", "") and self.text(raw["title"], "title"),
            timezone=zone.key,
            window_start=start,
            window_end=end,
            sources=self.sources(raw["sources"]),
            policy=self.policy(raw.get("policy", {})),
            max_quarantined_share=share,
        )

    def reject_unknown(self, raw: dict[str, Any], known: set[str], section: str) -> None:
        for key in sorted(set(raw) - known):
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {sorted(known)}"
            raise self.fail(f"{section}{key}", f"unknown key{hint}")

    def table(self, raw: dict[str, Any], name: str, defaults: dict[str, Any]) -> dict[str, Any]:
        section = raw.get(name, {})
        if not isinstance(section, dict):
            raise self.fail(name, "must be a table")
        self.reject_unknown(section, set(defaults), f"{name}.")
        return {**defaults, **section}

    def sources(self, raw: Any) -> Sources:
        if not isinstance(raw, dict):
            raise self.fail("sources", "must be a table")
        self.reject_unknown(raw, SOURCES_KEYS, "sources.")
        for key in ("logs", "transactions", "customers"):
            if key not in raw:
                raise self.fail(f"sources.{key}", "is required")
        logs = raw["logs"]
        logs = [logs] if isinstance(logs, str) else logs
        if not logs or not all(isinstance(glob, str) and glob for glob in logs):
            raise self.fail("sources.logs", "must be a glob or a non-empty list of globs")
        zone = self.zone(raw.get("logs_timezone", "UTC"), "sources.logs_timezone")
        return Sources(
            logs=tuple(str(self.folder / glob) for glob in logs),
            logs_timezone=zone.key,
            transactions=self.table_source(raw["transactions"], "sources.transactions"),
            customers=self.table_source(raw["customers"], "sources.customers"),
            log_format=self.log_format(raw.get("log_format", {})),
            log_clock_skew=self.duration(raw.get("log_clock_skew", "0s"), "sources.log_clock_skew"),
        )

    def log_format(self, raw: Any) -> LogFormat:
        key = "sources.log_format"
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a table")
        self.reject_unknown(raw, {"kind", "ts_format", "pattern", *LOG_FIELDS}, f"{key}.")
        kind = self.text(raw.get("kind", "jsonl"), f"{key}.kind")
        if kind not in LOG_KINDS:
            raise self.fail(f"{key}.kind", f"'{kind}' is not one of {list(LOG_KINDS)}")
        fields = {name: self.text(raw.get(name, name), f"{key}.{name}") for name in LOG_FIELDS}
        for name, where in fields.items():
            if not LOG_FIELD_NAME.fullmatch(where) or "" in where.split("."):
                raise self.fail(f"{key}.{name}", f"'{where}' is not a key or dotted path")
        ts_format = self.text(raw.get("ts_format", "rfc3339"), f"{key}.ts_format")
        if ts_format not in TS_FORMATS and "%" not in ts_format:
            raise self.fail(
                f"{key}.ts_format",
                f"use one of {list(TS_FORMATS)} or a strptime pattern such as "
                "'%d/%b/%Y:%H:%M:%S %z'",
            )
        if (kind == "regex") != ("pattern" in raw):
            raise self.fail(f"{key}.pattern", "is required with kind = 'regex', and only then")
        pattern = None if kind != "regex" else self.text(raw["pattern"], f"{key}.pattern")
        if pattern is not None:
            self.check_pattern(pattern, fields, f"{key}.pattern")
        return LogFormat(kind, tuple(fields.items()), ts_format, pattern)

    def check_pattern(self, pattern: str, fields: dict[str, str], key: str) -> None:
        try:
            groups = re.compile(pattern).groupindex
            # DuckDB runs the pattern with RE2, which lacks look-arounds and back-references.
            duckdb.execute("select regexp_matches('', $pattern)", {"pattern": pattern})
        except (re.error, duckdb.Error) as error:
            raise self.fail(key, f"not a regular expression RE2 accepts: {error}") from None
        for name in ("ts", "event", "txn_id"):
            if fields[name] not in groups:
                raise self.fail(key, f"needs a named group (?P<{fields[name]}>...) for {name}")

    def table_source(self, value: Any, key: str) -> TableSource:
        if isinstance(value, str):
            path = self.file(value, key)
            kind = FILE_KINDS.get(path.suffix.lower())
            if kind is None:
                raise self.fail(
                    key,
                    "name a .parquet or .csv file, or a table such as "
                    '{ duckdb = "payments.duckdb", table = "transactions" } or '
                    '{ postgres = "env:PAYMENTS_DSN", table = "public.transactions" }',
                )
            return TableSource(kind, path=path)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a file name or a table")
        kinds = sorted({"duckdb", "postgres"} & set(value))
        if len(kinds) != 1:
            raise self.fail(key, "give exactly one of 'duckdb' (a file) or 'postgres' (env:NAME)")
        if kinds == ["duckdb"]:
            self.reject_unknown(value, {"duckdb", "table"}, f"{key}.")
            return TableSource(
                "duckdb",
                path=self.file(value["duckdb"], f"{key}.duckdb"),
                table=self.table_name(value.get("table"), f"{key}.table"),
            )
        self.reject_unknown(value, {"postgres", "table", "query", *POSTGRES_DEFAULTS}, f"{key}.")
        settings = {**POSTGRES_DEFAULTS, **value}
        if ("table" in value) == ("query" in value):
            raise self.fail(key, "give exactly one of 'table' or 'query'")
        timeouts = {
            name: self.duration(settings[name], f"{key}.{name}")
            for name in ("statement_timeout", "lock_timeout")
        }
        for name, limit in timeouts.items():
            if limit < timedelta(milliseconds=1):
                raise self.fail(f"{key}.{name}", "must be at least 1ms (0 would mean no limit)")
        table, query = value.get("table"), value.get("query")
        return TableSource(
            "postgres",
            table=None if table is None else self.table_name(table, f"{key}.table"),
            query=None if query is None else self.text(query, f"{key}.query"),
            dsn_env=self.dsn_env(value["postgres"], f"{key}.postgres"),
            slack=self.duration(settings["slack"], f"{key}.slack"),
            **timeouts,
        )

    def table_name(self, value: Any, key: str) -> str:
        # Table names go into SQL text (an identifier cannot be bound): only plain names pass.
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not TABLE_NAME.fullmatch(value):
            raise self.fail(key, "must be a table name such as transactions or public.transactions")
        return value

    def dsn_env(self, value: Any, key: str) -> str:
        # Never echo the value: a DSN written here by mistake may hold a password.
        match = DSN_FROM_ENV.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.fail(
                key,
                'must be "env:NAME", the environment variable that holds the DSN: '
                "secrets come only from the environment, never from files",
            )
        name = match.group(1)
        if not os.environ.get(name):
            raise self.fail(key, f"the environment variable {name} is not set")
        return name

    def duration(self, value: Any, key: str) -> timedelta:
        match = DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None or match.group(2) not in DURATION_UNITS:
            raise self.fail(key, f'{value!r} is not a duration such as "500ms", "5min", "1 day"')
        return int(match.group(1)) * DURATION_UNITS[match.group(2)]

    def policy(self, raw: Any) -> Policy:
        values = self.table({"policy": raw}, "policy", POLICY_DEFAULTS)
        basis = self.text(values["basis"], "policy.basis")
        if basis not in BASES:
            raise self.fail("policy.basis", f"'{basis}' is not one of {list(BASES)}")
        percent = self.decimal(values["percent"], "policy.percent")
        if percent < 0 or (basis == "percent_of_failed_amount" and percent == 0):
            raise self.fail("policy.percent", "must be a positive number of percent")
        minimum = self.amounts(values["min_minor"], "policy.min_minor")
        cap = self.amounts(values["cap_minor"], "policy.cap_minor")
        for currency in sorted(set(minimum) & set(cap)):
            if minimum[currency] > cap[currency]:
                raise self.fail("policy.min_minor", f"{currency} floor is above its cap")
        policy = {
            "version": self.text(values["version"], "policy.version"),
            "basis": basis,
            "flat_minor": self.amounts(values["flat_minor"], "policy.flat_minor"),
            "percent": percent,
            "min_minor": minimum,
            "cap_minor": cap,
            "exclude_segments": self.texts(values["exclude_segments"], "policy.exclude_segments"),
        }
        for key in ("failure_events", "outage_error_codes", "decline_error_codes"):
            policy[key] = self.texts(values[key], f"policy.{key}")
            if not policy[key] and key == "failure_events":
                raise self.fail(f"policy.{key}", "must name at least one event")
        for key in ("credit_recovered", "credit_table_only"):
            if not isinstance(values[key], bool):
                raise self.fail(f"policy.{key}", "must be true or false")
            policy[key] = values[key]
        return Policy(**policy)

    def zone(self, value: Any, key: str) -> ZoneInfo:
        try:
            return ZoneInfo(self.text(value, key))
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, f"unknown time zone '{value}' (use an IANA name)") from None

    def instant(self, value: Any, zone: ZoneInfo, key: str) -> datetime:
        if isinstance(value, str):
            try:  # RFC 3339 allows a lowercase t and z, which Python reads only in uppercase
                value = datetime.fromisoformat(value.upper())
            except ValueError:
                raise self.fail(key, f"'{value}' is not an ISO 8601 date-time") from None
        if isinstance(value, date) and not isinstance(value, datetime):
            raise self.fail(key, "needs a time of day, not only a date")
        if not isinstance(value, datetime):
            raise self.fail(key, "must be a date-time")
        if value.tzinfo is None:
            local = value.replace(tzinfo=zone)
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
                raise self.fail(key, f"{value} does not exist in {zone.key} (a DST gap)")
            value = local
        return value.astimezone(UTC)

    def file(self, value: Any, key: str) -> Path:
        return (self.folder / self.text(value, key)).resolve()

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def texts(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def decimal(self, value: Any, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(key, "must be a number")
        return Decimal(value)

    def amounts(self, value: Any, key: str) -> dict[str, int]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table of currency = integer minor units")
        for currency, amount in value.items():
            if not is_currency(currency):
                raise self.fail(f"{key}.{currency}", "is not an ISO 4217 currency code")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise self.fail(
                    f"{key}.{currency}",
                    f"must be a whole number of minor units >= 0, got {amount!r} "
                    f"({currency} has {get_currency_precision(currency)} minor digits)",
                )
        return dict(sorted(value.items()))
