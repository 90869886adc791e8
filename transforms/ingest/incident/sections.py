"""The incident file's base table (frozen, an unknown key an error with a "did you mean") and the
sections the pipeline keeps as they are: the credit policy and the log format.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from datetime import timedelta
from typing import Any, Literal

import duckdb
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    model_validator,
)

from transforms.ingest.incident.amounts import LARGEST_PERCENT, PERCENT_PLACES, Amounts, Number
from transforms.ingest.incident.values import (
    LOG_FIELDS,
    Count,
    Duration,
    Envelope,
    FieldPath,
    Names,
    Text,
    TsFormat,
    Version,
    invalid,
)

CRI_FIELDS = ("time", "stream", "tag")  # a CRI line: `<time> <stream> <tag> <message>`
# A CloudWatch Logs event's fields and those of the subscription object around it.
CLOUDWATCH_FIELDS = (
    "id",
    "timestamp",
    "logGroup",
    "logStream",
    "owner",
    "subscriptionFilters",
    "messageType",
)
# What `envelope.<key>` may name, per envelope (docker and a payload: any key of the object).
ENVELOPE_FIELDS = {
    "cri": ("a CRI line", CRI_FIELDS),
    "cloudwatch": ("a CloudWatch log event", CLOUDWATCH_FIELDS),
    "fluentd": ("a fluentd out_file line", ("time", "tag")),
    "fluentbit": ("a Fluent Bit file output line", ("tag", "time")),
    "cloudwatch_export": ("a CloudWatch Logs export line", ("timestamp",)),
    "syslog": ("a syslog line", ("time", "host", "app", "pid")),
}
OTLP_TIME = "timeUnixNano"  # with envelope = "otlp", ts unless set otherwise
# The customer segments the customers table may hold (the gate's `expectations/customers.json`
# allows these and no other): an excluded segment outside them would exclude nobody.
SEGMENTS = ("consumer", "business", "internal", "test")


# The file, table by table ---------------------------------------------------------------------
class Table(BaseModel):
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
            raise invalid("must be a table")
        known = sorted(cls.model_fields)
        for key in sorted(set(raw) - set(known)):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {known}"
            raise invalid(f"unknown key; {hint}", at=key)
        return raw


class Policy(Table):
    """How much each affected customer gets. Amounts are integer minor units per currency."""

    version: Version = "unversioned"
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
            raise invalid("must be a positive number of percent", at="percent")
        if self.percent > LARGEST_PERCENT:
            raise invalid(f"must be at most {LARGEST_PERCENT:,} percent", at="percent")
        if self.percent != round(self.percent, PERCENT_PLACES):
            raise invalid(f"may have at most {PERCENT_PLACES} decimal places", at="percent")
        for currency in sorted(set(self.min_minor) & set(self.cap_minor)):
            if self.min_minor[currency] > self.cap_minor[currency]:
                raise invalid(f"{currency} floor is above its cap", at="min_minor")
        if not self.failure_events:
            raise invalid("must name at least one event", at="failure_events")
        if any(not event.strip() for event in self.failure_events):
            raise invalid("an event's name is blank", at="failure_events")
        padded = [event for event in self.failure_events if event != event.strip()]
        if padded:  # compared exactly: `"payment.failed "` would match no line, unseen
            raise invalid(
                f"{padded[0]!r} has blanks around it: no event is named so", at="failure_events"
            )
        if not self.outage_error_codes:  # no failure could be an outage's: nothing credited
            raise invalid("must name at least one code", at="outage_error_codes")
        for key in ("outage_error_codes", "decline_error_codes"):
            codes = getattr(self, key)
            padded = [code for code in codes if code != code.strip() or not code]
            if padded:  # compared exactly: `"DB_POOL_TIMEOUT "` would match no line, unseen
                raise invalid(f"{padded[0]!r} is blank or has blanks around it", at=key)
        both = sorted(set(self.outage_error_codes) & set(self.decline_error_codes))
        if both:  # the outage list would win, unseen: which did finance mean?
            raise invalid(
                f"{', '.join(both)} also in outage_error_codes: a code is an outage's or a "
                "decline's, not both",
                at="decline_error_codes",
            )
        for segment in self.exclude_segments:
            if segment not in SEGMENTS:
                close = difflib.get_close_matches(segment.strip().lower(), SEGMENTS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise invalid(
                    f"{segment!r} is not a customer segment (those are {', '.join(SEGMENTS)}): "
                    f"it would exclude nobody{hint}",
                    at="exclude_segments",
                )
        return self

    def as_json(self) -> dict[str, Any]:
        """The policy as plain JSON values (percent as a string: it is exact)."""
        return {**self.model_dump(), "percent": str(self.percent)}

    @property
    def sha256(self) -> str:
        """A fingerprint of the policy: the same policy always gives the same hash."""
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class LogFormat(Table):
    """How a log line is written: its syntax, where each field is and how its time is written.

    Each field (ts, event, txn_id, ...) is a dotted JSON path (jsonl: `payment.id` is the key `id`
    inside the object `payment`), a logfmt key, or a named group of `pattern` (regex); by
    default, its own name.
    """

    envelope: Envelope = "none"
    """How a collector wraps each record: none (the line is the record), cri (container runtime
    files: `<time> <stream> <P|F> <message>`, partial lines joined per stream), docker (the
    json-file driver: the record is the text of `log`; entries not ending in a line feed joined),
    otlp (the OpenTelemetry collector's file exporter: each log record of each line; a field is
    read from `attributes.<name>`, then the body's, a key/value list or a string holding a JSON
    object; ts from timeUnixNano) or cloudwatch
    (CloudWatch Logs subscription objects as Firehose writes them: each log event's message),
    fluentd (out_file's default, `<time>`, `<tag>`, `<record>` separated by tabs), fluentbit
    (Fluent Bit's file output in its default format, `<tag>: [<time>, <record>]`, its time epoch
    seconds), cloudwatch_export (CloudWatch Logs' export to S3, `<timestamp> <message>`) or
    syslog (the MSG after an RFC 5424 or RFC 3164 header, as rsyslog, syslog-ng and journalctl
    write them; an RFC 3164 time in the year nearest the window, in logs_timezone).
    A field path `envelope.<key>` reads the envelope's own fields (`envelope.time`,
    `envelope.timestamp`)."""
    payload: FieldPath | None = None
    """A dotted path to a JSON string field that holds the record as text (Fluent Bit, Vector or
    Logstash without a parser: `log`); `envelope.<key>` then reads the object around it (and
    under an envelope of fields of its own, `ENVELOPE_FIELDS`, its field the object lacks)."""
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
    """rfc3339, epoch_s, epoch_ms (numbers), epoch_us, epoch_ns (whole numbers or strings of digits,
    read exactly) or a strptime pattern (with %z it carries its offset)."""
    pattern: Text | None = None
    """regex only, and required there: named groups (RE2: no look-arounds), at least ts, event
    and txn_id."""

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """Each of `LOG_FIELDS` and where it is in a line."""
        return tuple((name, getattr(self, name)) for name in LOG_FIELDS)

    @model_validator(mode="before")
    @classmethod
    def _otlp_defaults(cls, raw: Any) -> Any:
        # The record's own time by default, in nanoseconds (also when named without ts_format).
        if isinstance(raw, dict) and raw.get("envelope") == "otlp":
            raw = {"ts": OTLP_TIME, **raw}
            if raw["ts"] == OTLP_TIME:
                raw = {"ts_format": "epoch_ns", **raw}
        return raw

    @model_validator(mode="after")
    def _envelope_fits(self) -> LogFormat:
        if self.envelope == "otlp":
            # A log record is read as one JSON value: no text record to parse or unwrap.
            if self.kind != "jsonl":
                raise invalid("with envelope = 'otlp' a log record is read as it is", at="kind")
            if self.payload is not None:
                raise invalid(
                    "with envelope = 'otlp' name the field itself (body.<key>, attributes.<key>)",
                    at="payload",
                )
        for name, path in self.fields:
            if not path.startswith("envelope."):
                continue
            if self.envelope == "none" and self.payload is None:
                raise invalid(
                    f"'{path}' reads an envelope's field, but there is none: set envelope "
                    "(cri, docker, cloudwatch, fluentd, fluentbit, cloudwatch_export, syslog) or "
                    "payload",
                    at=name,
                )
            if self.envelope == "otlp":
                raise invalid(
                    f"'{path}': with envelope = 'otlp' a path reads the log record: "
                    "attributes.<key>, body.<key>, resource.<key>, scope.<key>, timeUnixNano, "
                    "severityText, ...",
                    at=name,
                )
            key = path.removeprefix("envelope.")
            what, known = ENVELOPE_FIELDS.get(self.envelope, ("", ()))
            if known and self.payload is None and key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean 'envelope.{close[0]}'? " if close else ""
                raise invalid(f"{what} has no field '{key}'; {hint}it has {list(known)}", at=name)
        return self

    @model_validator(mode="after")
    def _pattern_fits(self) -> LogFormat:
        if (self.kind == "regex") != (self.pattern is not None):
            raise invalid("is required with kind = 'regex', and only then", at="pattern")
        if self.pattern is None:
            return self
        try:
            groups = re.compile(self.pattern).groupindex
            # DuckDB runs the pattern with RE2, which lacks look-arounds and back-references. A
            # connection of its own, the result fetched: a pending result on DuckDB's default
            # connection would block the caller's next statement on it.
            with duckdb.connect() as con:
                con.execute("select regexp_matches('', $pattern)", {"pattern": self.pattern})
                con.fetchall()
        except (re.error, duckdb.Error) as error:
            raise invalid(f"not a regular expression RE2 accepts: {error}", at="pattern") from None
        for name in ("ts", "event", "txn_id"):
            if getattr(self, name) not in groups:
                group = getattr(self, name)
                raise invalid(f"needs a named group (?P<{group}>...) for {name}", at="pattern")
        return self


MAX_MAD_MULTIPLIER = 1000  # far beyond any outage's rise; keeps the threshold a finite number


class WindowDetection(Table):
    """How an outage is found in the logs (`credits window`, and every run's window_check):
    outage-coded failure lines per minute against a baseline, the median and MAD of the minutes
    outside the declared window. Durations are whole minutes."""

    mad_multiplier: Number = 5
    """A minute is above baseline when its lines exceed the baseline median by at least this
    many robust standard deviations (1.4826 x MAD) ..."""
    min_rise_lines: Count = 5
    """... and by at least this many lines (a quiet baseline has a MAD of 0: a few stray lines
    are not an outage)."""
    max_gap: Duration = "3min"
    """Minutes back at baseline inside an outage that do not split it in two."""
    min_duration: Duration = "5min"
    """A shorter stretch above baseline is noise, not an outage."""
    edge_margin: Duration = "15min"
    """How far outside each window edge the window_check looks; the rate before an onset is
    taken over as long."""
    reach: Duration = "1 day"
    """How far beyond the window the logs are searched (a line stamped years off is left out)."""

    @model_validator(mode="after")
    def _whole_minutes(self) -> WindowDetection:
        if self.mad_multiplier < 0:  # as the schema says (its `minimum`)
            raise invalid("must be at least 0", at="mad_multiplier")
        if self.mad_multiplier > MAX_MAD_MULTIPLIER:
            # 1e400 is a finite Decimal, but its threshold is no number (NaN in floats).
            raise invalid(f"must be at most {MAX_MAD_MULTIPLIER}", at="mad_multiplier")
        for key in ("max_gap", "min_duration", "edge_margin", "reach"):
            if getattr(self, key) % timedelta(minutes=1):
                raise invalid("must be a whole number of minutes", at=key)
        if self.min_duration < timedelta(minutes=1):
            raise invalid("must be at least 1min", at="min_duration")
        return self
