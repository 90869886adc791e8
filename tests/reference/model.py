"""The rules of `docs/` (log-contract.md, rules.md, outputs.md) in plain Python.

Written from those pages alone, for the differential tests: one pass over every line, one loop
over every transaction, no DuckDB and nothing from `transforms/`. Slow and obvious on purpose.
The decisions on the rules' open points (D1-D6: docs/rules.md, "Decided where the rules were
open") are marked where they apply.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from math import floor
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

import iso4217
from babel.core import get_global
from babel.numbers import get_currency_precision

MAX_LINE_BYTES = 1024 * 1024
LARGEST_AMOUNT = 10**16  # a log line's amount_minor: no payment is larger
BOM = b"\xef\xbb\xbf"
ASCII_SPACE = " \t\n\x0b\x0c\r"  # D6: trimming removes ASCII white space only
RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?"
)
DURATION = re.compile(r"(\d+) ?(ms|s|min|h)")
DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
}
# The credit file's columns, as the hand-checked golden file has them.
with open(Path(__file__).parent.parent / "golden/credits.csv", encoding="utf-8") as _golden:
    CREDIT_COLUMNS = tuple(next(csv.reader(_golden)))


@dataclass(frozen=True)
class Policy:
    basis: str = "flat_per_customer"
    flat_minor: dict[str, int] = field(default_factory=dict)
    percent: Decimal = Decimal(0)
    min_minor: dict[str, int] = field(default_factory=dict)
    cap_minor: dict[str, int] = field(default_factory=dict)
    failure_events: tuple[str, ...] = ("payment.failed",)
    outage_error_codes: tuple[str, ...] = (
        "DB_POOL_TIMEOUT",
        "DB_CONN_REFUSED",
        "UPSTREAM_TIMEOUT",
        "INTERNAL_ERROR",
    )
    decline_error_codes: tuple[str, ...] = (
        "CARD_DECLINED",
        "INSUFFICIENT_FUNDS",
        "EXPIRED_CARD",
        "DO_NOT_HONOR",
    )
    credit_recovered: bool = True
    credit_table_only: bool = True
    exclude_segments: tuple[str, ...] = ("internal", "test")
    version: str = "v1"


@dataclass(frozen=True)
class Incident:
    """A whole incident as data: the incident file's settings, the log files' bytes by name
    (`logs/...`), and the two tables' rows (created_at as UTC datetimes)."""

    window_start: str
    window_end: str
    policy: Policy = Policy()
    log_files: tuple[tuple[str, bytes], ...] = ()
    transactions: tuple[dict[str, Any], ...] = ()
    customers: tuple[dict[str, Any], ...] = ()
    id: str = "INC-M"
    title: str = "Model outage"
    timezone: str = "UTC"
    logs_timezone: str = "UTC"
    log_clock_skew: str = "0s"
    line_checks: str = "failure_capable"  # or "all"


@dataclass(frozen=True)
class Evidence:
    cls: str
    credited: bool
    reason: str
    customer_id: str | None
    amount_minor: int | None
    currency: str | None
    error_codes: str
    failure_lines: int
    edge: bool


@dataclass(frozen=True)
class Outcome:
    """What a run computes, as the tests compare it. `config_error` is set instead when the
    incident file, the policy or a log file cannot be used (exit 2)."""

    credits_csv: str = ""
    exceptions: tuple[tuple[Any, ...], ...] = ()
    evidence: dict[str, Evidence] = field(default_factory=dict)
    funnel: dict[str, int] = field(default_factory=dict)
    quarantined: frozenset[tuple[str, int]] = frozenset()
    config_error: bool = False


BLOCK_BYTES = 4 << 20  # the first block of a file's text, judged for binary data
GZIP_LAYERS = 3  # gzip inside gzip is read through, up to this deep
# C0 control characters no text line holds (tab, LF, VT, FF, CR, ESC, BEL, BS, SO, SI do)
BINARY_CONTROLS = frozenset(range(0x20)) - frozenset(b"\t\n\v\f\r\x1b\x07\x08\x0e\x0f")


def decompressed(data: bytes) -> bytes | None:
    """A file's text: gzip by content, through up to `GZIP_LAYERS` layers; None for a fourth."""
    for _ in range(GZIP_LAYERS):
        if not data.startswith(b"\x1f\x8b"):
            return data
        data = gzip.decompress(data)
    return None if data.startswith(b"\x1f\x8b") else data


# A compressor's magic bytes (gzip, zstd, bzip2's header and a block's or the end's, xz): in a
# line the framing quarantines (not UTF-8, over 1 MiB: its first 4096 bytes), or the last 64
# bytes of the line before one, a compressed file appended to a text one.
APPENDED = re.compile(
    rb"\x1f\x8b\x08|\x28\xb5\x2f\xfd|BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)"
    rb"|\xfd7zXZ\x00"
)


def _appended(name: str, text: bytes) -> bool:
    """Whether a file's text holds compressed data in a line the framing quarantines."""
    before = b""
    for _, _, line in file_lines(name, text):
        if len(line) > MAX_LINE_BYTES:
            line = line[:4096]
        else:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                before = line
                continue
        if APPENDED.search(before[-64:]) or APPENDED.search(line):
            return True
        before = line
    return False


def refused(files: tuple[tuple[str, bytes], ...]) -> str | None:
    """The first log file the run refuses whole (exit 2), if any: one named `.gz` that is not
    gzip and whose first 4096 bytes are not text (a NUL, or bytes that are not UTF-8 but for a
    character cut at their end): fetched or compressed wrongly. A plain text file named `.gz`
    is read as text. One that is gzip four layers deep. And one whose text (gzip decompressed)
    is binary: more than half of the lines of its first block (`BLOCK_BYTES`, then runs of 16
    NULs or more set aside, as the reader does) hold a control character of `BINARY_CONTROLS`;
    or that holds compressed data in a quarantined line (`APPENDED`)."""
    for name, data in files:
        if name.endswith(".gz") and not data.startswith(b"\x1f\x8b"):
            head = data[:4096]
            try:
                codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            except UnicodeDecodeError:
                return name
            if b"\x00" in head:
                return name
        text = decompressed(data)
        if text is None:
            return name
        sample = re.sub(rb"\x00{16,}", b"", text[:BLOCK_BYTES])
        lines = [line for line in sample.split(b"\n") if line.strip()]
        binary = [line for line in lines if any(b in BINARY_CONTROLS for b in line)]
        if len(binary) * 2 > len(lines) or _appended(name, text):
            return name
    return None


def _held_object(item: Any) -> Any:
    """An item of a JSON array as a record: a string holding a JSON object is that object."""
    if isinstance(item, str):
        try:
            return json.loads(item, object_pairs_hook=_first_values)
        except ValueError:
            return item
    return item


def batched(files: tuple[tuple[str, bytes], ...], policy: Policy) -> str | None:
    """The first log file that stops the run (exit 2) for a line that is a JSON array holding,
    at its top level, an object (or a string holding one) whose `event` is a failure event (the
    first value of a key given twice, as DuckDB reads it): quarantined, it would be one line
    under the quarantine limit, the failures batched in it never credited. Judged on every
    line, whatever `line_checks`: a line holding a failure event is always checked in full."""
    for name, data in files:
        for _, _, text in file_lines(name, data):
            if len(text) > MAX_LINE_BYTES:
                continue
            try:
                value = json.loads(text.decode("utf-8"), object_pairs_hook=_first_values)
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(value, list) and any(
                isinstance(item, dict) and item.get("event") in policy.failure_events
                for item in map(_held_object, value)
            ):
                return name
    return None


def _first_values(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, the first value of a key given twice kept."""
    return dict(reversed(pairs))


class ModelConfigError(Exception):
    """The incident cannot be run: bad window, or a payable currency the policy cannot price."""


@dataclass(frozen=True)
class Line:
    file: str
    file_rank: int
    number: int
    text: bytes
    fields: dict[str, Any] | None = None  # None: quarantined
    ts: datetime | None = None
    txn_id: str | None = None


# ---------------------------------------------------------------------------------------------
# The incident file
# ---------------------------------------------------------------------------------------------
def instant(text: str, zone: str) -> datetime:
    """A window edge: with an offset as given; naive, in `zone` (a DST gap or fold is an
    error: which instant is meant?)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        local = value.replace(tzinfo=ZoneInfo(zone))
        if local.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) != value:
            raise ModelConfigError(f"{text} does not exist in {zone}")
        if value.replace(tzinfo=ZoneInfo(zone), fold=1).utcoffset() != local.utcoffset():
            raise ModelConfigError(f"{text} happens twice in {zone}")
        value = local
    return value.astimezone(UTC)


def duration(text: str) -> timedelta:
    number, unit = DURATION.fullmatch(text).groups()
    return int(number) * DURATION_UNITS[unit]


# ---------------------------------------------------------------------------------------------
# The log contract
# ---------------------------------------------------------------------------------------------
def file_lines(name: str, data: bytes) -> list[tuple[str, int, bytes]]:
    """The physical lines of a file: gzip by content (`decompressed`); a line's text is without
    its LF or CRLF, without a BOM (D5) and NULs before its text; a last line without LF still
    counts."""
    data = decompressed(data) or b""  # gzip four layers deep is refused (`refused`)
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    if pieces and pieces[0].startswith(BOM):  # a file of a BOM alone is one blank line
        pieces[0] = pieces[0][len(BOM) :]
    # zero padding (a copytruncate rotation's, a crash's), then a BOM (files joined), before a
    # line's text are skipped
    pieces = [p.lstrip(b"\x00") if p.lstrip(b"\x00") else p for p in pieces]
    pieces = [p.removeprefix(BOM) for p in pieces]
    return [(name, i, p[:-1] if p.endswith(b"\r") else p) for i, p in enumerate(pieces, 1)]


def parse_ts(value: Any, logs_timezone: str) -> datetime | None:
    """An RFC 3339 time (T or t or a space, Z or z): sub-microsecond digits truncated, a leap
    second the minute's last microsecond; without an offset it is read in the logs' zone (a
    fold: the first occurrence)."""
    match = RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "")[:6].ljust(6, "0"))
    if second == "60":  # a leap second: the last microsecond of its minute
        second, micro = "59", 999999
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    local = local.replace(microsecond=micro)
    if offset is None:
        return local.replace(tzinfo=ZoneInfo(logs_timezone)).astimezone(UTC)
    if offset in "Zz":
        return local.replace(tzinfo=UTC)
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        return None
    sign = 1 if offset[0] == "+" else -1
    return (local - sign * timedelta(hours=hours, minutes=minutes)).replace(tzinfo=UTC)


def check_line(raw: tuple[str, int, bytes], incident: Incident, rank: int = 0) -> Line:
    """A line against the contract: its fields when it keeps them, else quarantined. `rank`: its
    file's place in name order."""
    name, number, text = raw
    quarantined = Line(name, rank, number, text)
    if len(text) > MAX_LINE_BYTES:
        return quarantined
    try:
        # NaN and Infinity are tolerated, as DuckDB does
        obj = json.loads(text.decode("utf-8"), object_pairs_hook=_Members, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        return quarantined
    if not isinstance(obj, dict) or obj.twice & CONTRACT_KEYS:  # which value is meant?
        return quarantined
    ts = parse_ts(obj.get("ts"), incident.logs_timezone)
    event = obj.get("event")
    if ts is None or not isinstance(event, str):
        return quarantined
    policy = incident.policy
    if not (event in policy.failure_events or event.startswith("payment.")):
        return Line(name, rank, number, text, obj, ts)
    txn_id = obj.get("txn_id")
    amount = _whole(obj.get("amount_minor"))
    currency = obj.get("currency")
    if (
        not isinstance(txn_id, str)
        or not txn_id.strip(ASCII_SPACE)
        or not _optional(obj.get("customer_id"), str)
        or REPLACEMENT in txn_id + (obj.get("customer_id") or "")  # bytes a collector lost
        or _hidden(txn_id)  # a customer_id with one is read as written: an unknown customer
        or not (amount is None or (_is_int(amount) and 0 < amount <= LARGEST_AMOUNT))
        or not (currency is None or (isinstance(currency, str) and currency in money(incident)))
        or not _optional(obj.get("error_code"), str)
    ):
        return quarantined
    obj = {**obj, "amount_minor": amount}
    customer_id = obj.get("customer_id")
    if customer_id is not None and not customer_id.strip(ASCII_SPACE):
        obj = {**obj, "customer_id": None}  # blank (ASCII white space, D6): no customer named
    return Line(name, rank, number, text, obj, ts, txn_id.strip(ASCII_SPACE))


def money(incident: Incident) -> frozenset[str]:
    """The currencies a payment of the incident may be in: legal tender in some territory on
    some UTC day of the window `[start, end)`."""
    start = instant(incident.window_start, incident.timezone)
    end = instant(incident.window_end, incident.timezone) - timedelta(microseconds=1)
    return _tender(start.date(), end.date())


@cache
def _tender(first: date, last: date) -> frozenset[str]:
    """CLDR's table of territories' currencies, read row by row: (code, from, to, tender),
    the dates (year, month, day) or None for open; a row counts when its span meets the days."""
    held = set()
    for rows in get_global("territory_currencies").values():
        for code, since, until, tender in rows:
            began = since is None or date(*since) <= last
            lasted = until is None or date(*until) >= first
            if tender and began and lasted:
                held.add(code)
    return frozenset(held) - {"XXX", "XTS"}  # no money, and testing


REPLACEMENT = "\ufffd"  # what a collector writes for bytes it could not decode
HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))


def _hidden(text: str) -> bool:
    """A control, format or space character other than U+0020 in an id, its ASCII white space at
    the ends aside (U+00A0, U+200B, U+FEFF, U+2028, a tab inside)."""
    return any(map(_hidden_character, text.strip(ASCII_SPACE)))


def _hidden_character(c: str) -> bool:
    return (c != " " and unicodedata.category(c) in HIDDEN_CATEGORIES) or (
        0x13439 <= ord(c) <= 0x1343F  # format characters of Unicode 15, newer than Python's
    )


def _shown(code: str) -> str:
    """A log's error code or customer id as an exception's detail shows it: quoted when empty,
    with ASCII white space at its ends or holding a hidden character, which would not show; the
    first hidden character inside its blanks named."""
    inner = code.strip(ASCII_SPACE)
    hidden = next((c for c in inner if _hidden_character(c)), None)
    if code and code == inner and hidden is None:
        return code
    return f"'{code}'" + (f" (holds U+{ord(hidden):04X})" if hidden is not None else "")


def _held_otherwise(customers, customer_id: str) -> str:
    """What the detail of an unknown customer adds when the customer table holds its id with
    ASCII white space at the ends or hidden characters: the first such id's difference."""
    held = sorted(
        row["customer_id"]
        for row in customers
        if row["customer_id"] is not None
        and row["customer_id"] != customer_id
        and "".join(c for c in row["customer_id"].strip(ASCII_SPACE) if not _hidden_character(c))
        == customer_id
    )
    if not held:
        return ""
    hidden = [c for c in held[0].strip(ASCII_SPACE) if _hidden_character(c)]
    difference = f"U+{ord(hidden[0]):04X}" if hidden else "white space at its ends"
    return f"; the table holds this id with {difference}, which ids never match"


def _zeros_dropped(customer_id: str) -> str:
    """An id with each number's leading zeros dropped (`cus_0000012`: `cus_12`)."""
    return re.sub(r"(^|[^0-9])0+([0-9])", r"\1\2", customer_id)


def _held_near(customers, customer_id: str) -> str:
    """What the detail of an unknown customer adds when the customer table holds its id in
    another case or with other leading zeros: the first such id, how it differs, how many more."""
    folded = _zeros_dropped(customer_id).lower()
    near = sorted(
        row["customer_id"]
        for row in customers
        if row["customer_id"] is not None
        and row["customer_id"] != customer_id
        and _zeros_dropped(row["customer_id"]).lower() == folded
    )
    if not near:
        return ""
    if near[0].lower() == customer_id.lower():
        how = "case"
    elif _zeros_dropped(near[0]) == _zeros_dropped(customer_id):
        how = "leading zeros"
    else:
        how = "case and leading zeros"
    more = f" and {len(near) - 1} more" if len(near) > 1 else ""
    return f"; the customer table has '{near[0]}' (differs in {how}){more}"


def _holds_hidden(customer_id: str) -> str:
    """What the detail of an unknown customer adds when its own id (a log line's, or the
    transaction table's: read as written) holds a hidden character, the first one, and when it
    has ASCII white space at its ends."""
    hidden = [c for c in customer_id.strip(ASCII_SPACE) if _hidden_character(c)]
    said = f"; its id holds U+{ord(hidden[0]):04X}, which ids never match" if hidden else ""
    if customer_id != customer_id.strip(ASCII_SPACE):
        said += "; its id has white space at its ends, which ids never match"
    return said


CONTRACT_KEYS = frozenset(
    ("ts", "event", "txn_id", "customer_id", "amount_minor", "currency", "error_code")
)


class _Members(dict):
    """A JSON object's members, the last value of a key kept, and the keys given twice."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(pairs)
        keys = [key for key, _ in pairs]
        self.twice = frozenset(key for key in keys if keys.count(key) > 1)


def _optional(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _whole(value: Any) -> Any:
    """An amount written with a zero fraction (`1000.0`, a Decimal here) as its integer; any
    other value (`12.5`; `1e3`, its exponent not negative) as it is."""
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.as_tuple().exponent < 0
        and value == value.to_integral_value()
    ):
        return int(value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------
def run(incident: Incident, stored: tuple[tuple[str, bytes], ...] | None = None) -> Outcome:
    """The whole run: funnel, classes, credits, exceptions and evidence. `stored` is the log
    files as the pipeline reads them when that is not `incident.log_files` (wrapped by an
    envelope): a file refused whole is judged on those bytes."""
    try:
        start = instant(incident.window_start, incident.timezone)
        end = instant(incident.window_end, incident.timezone)
    except (ValueError, ModelConfigError):
        return Outcome(config_error=True)
    if not start < end <= start + timedelta(days=31):
        return Outcome(config_error=True)
    if refused(incident.log_files if stored is None else stored) is not None:
        return Outcome(config_error=True)
    if batched(incident.log_files, incident.policy) is not None:
        return Outcome(config_error=True)
    skew = duration(incident.log_clock_skew)
    buckets = funnel(incident, start - skew, end + skew)
    candidates, exceptions = classify(incident, buckets["relevant"], start, end, skew)
    try:
        lines, credit_rows = credit(incident, candidates, exceptions)
    except ModelConfigError:
        return Outcome(config_error=True)
    return Outcome(
        credits_csv=render_credits(credit_rows),
        exceptions=tuple((incident.id, *e) for e in exceptions),
        evidence=evidence(incident.policy, candidates, lines),
        funnel={"lines_read": sum(map(len, buckets.values()))}
        | {k: len(v) for k, v in buckets.items()},
        quarantined=frozenset((x.file, x.number) for x in buckets["quarantined"]),
    )


def funnel(incident: Incident, lower: datetime, upper: datetime) -> dict[str, list[Line]]:
    """Every line in one bucket: quarantined, duplicates (byte-identical to an earlier well-formed
    line, files in name order), relevant (a failure event in [lower, upper): the window widened
    by the skew) or irrelevant. A copy of a quarantined line is quarantined again."""
    files = sorted(incident.log_files, key=lambda f: PurePosixPath(f[0]).parts)
    seen: set[bytes] = set()
    buckets: dict[str, list[Line]] = {
        "relevant": [],
        "irrelevant": [],
        "duplicates": [],
        "quarantined": [],
    }
    for rank, (name, data) in enumerate(files):
        for raw in file_lines(name, data):
            if incident.line_checks != "all" and not failure_capable(raw[2], incident.policy):
                bucket = "irrelevant" if shape_ok(raw[2]) else "quarantined"
                buckets[bucket].append(Line(name, rank, raw[1], raw[2]))
                continue
            line = check_line(raw, incident, rank)
            if line.fields is None:
                bucket = "quarantined"
            elif line.text in seen:
                bucket = "duplicates"
            elif (
                line.fields["event"] in incident.policy.failure_events and lower <= line.ts < upper
            ):
                bucket = "relevant"
            else:
                bucket = "irrelevant"
            seen.add(line.text)
            buckets[bucket].append(line)
    return buckets


def failure_capable(text: bytes, policy: Policy) -> bool:
    """A failure event in the bytes, or a JSON escape that could spell one: `\\u`, or any
    backslash when an event has a character with a short escape (`"`, `\\`, `/`, controls)."""
    short = any(c in '"\\/' or ord(c) < 0x20 for e in policy.failure_events for c in e)
    return (b"\\" if short else b"\\u") in text or any(
        e.encode() in text for e in policy.failure_events
    )


def shape_ok(text: bytes) -> bool:
    """The shape check: at most 1 MiB, UTF-8, not blank, one `{...}` between blanks."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    bare = text.strip(ASCII_SPACE.encode())
    return len(text) <= MAX_LINE_BYTES and bare[:1] == b"{" and bare[-1:] == b"}"


def classify(incident, relevant, start, end, skew) -> tuple[dict[str, dict], list[tuple]]:
    """Rules 2-5: the candidate transactions (txn_id -> class, customer, amount, currency...)
    and the per-transaction exceptions."""
    policy = incident.policy
    by_txn: dict[str, list[Line]] = {}
    for line in sorted(relevant, key=lambda x: (x.ts, x.file_rank, x.number)):
        by_txn.setdefault(line.txn_id, []).append(line)
    table = {row["txn_id"].strip(ASCII_SPACE): row for row in incident.transactions}
    candidates: dict[str, dict[str, Any]] = {}
    exceptions: list[tuple[Any, ...]] = []
    for txn_id, found in by_txn.items():
        codes = {x.fields.get("error_code") for x in found}
        named = sorted(c for c in codes if c is not None)
        row = table.get(txn_id)
        log = {k: _earliest(found, k) for k in ("customer_id", "amount_minor", "currency")}
        said_each = {k: sorted({x.fields.get(k) for x in found} - {None}) for k in log}
        disagree = "; ".join(  # lines naming two values of a field: no credit on a guess
            f"{k} {','.join(map(_shown if k == 'customer_id' else str, v))}"
            for k, v in said_each.items()
            if len(v) > 1
        )
        if any(c in policy.outage_error_codes for c in named):
            if row is not None:
                cls = "recovered" if row["status"] == "succeeded" else "failed"
            elif None not in log.values() and not disagree:
                cls = "log_only"
            else:
                cls = "unattributable"
        elif None not in codes and all(c in policy.decline_error_codes for c in codes):
            cls = "declined"
        else:
            cls = "unknown_error_code"
        # from the logs, a value only where its lines agree
        agreed = {k: v if len(said_each[k]) <= 1 else None for k, v in log.items()}
        source = row if row is not None else agreed
        candidate = {
            "class": cls,
            **{k: source[k] for k in ("customer_id", "amount_minor", "currency")},
            "error_codes": ",".join(named) if named else None,
            "failure_lines": len(found),
            "edge": any(
                start - skew <= x.ts < start + skew or end - skew <= x.ts < end + skew
                for x in found
            ),
        }
        candidates[txn_id] = candidate
        said = sorted({x.fields.get("customer_id") for x in found} - {None})
        if row is not None and any(c != row["customer_id"] for c in said):
            # D1, D4: every id the log says, whatever the class (credited, declined, unknown)
            # or the segment
            detail = (
                f"log says customer {','.join(map(_shown, said))}, the table says "
                f"{row['customer_id']}; the table wins"
            )
            exceptions.append(_exception("customer_mismatch", candidate, txn_id, detail))
        amounts, currencies = said_each["amount_minor"], said_each["currency"]
        if row is not None and (
            any(a != row["amount_minor"] for a in amounts)
            or any(c != row["currency"] for c in currencies)
        ):
            # every amount and currency the log says, whatever the class: the table wins
            says = " ".join(
                f"{k} {','.join(map(str, v))}"
                for k, v in (("amount_minor", amounts), ("currency", currencies))
                if v
            )
            table_amount = "(none)" if row["amount_minor"] is None else row["amount_minor"]
            table_currency = "(none)" if row["currency"] is None else row["currency"]
            detail = (
                f"log says {says}, the table says amount_minor {table_amount} currency "
                f"{table_currency}; the table wins"
            )
            exceptions.append(_exception("amount_mismatch", candidate, txn_id, detail))
        if (
            row is not None
            and cls in ("declined", "unknown_error_code")
            and row["status"] == "failed"
            and row["error_code"] in policy.outage_error_codes
        ):
            # the table's outage code the log's codes lack: the log decides, finance sees it
            detail = (
                f"log says {','.join(map(_shown, named)) or 'no code'}, the table says "
                f"{row['error_code']}, "
                f"an outage code; the log's codes decide: {cls}, not credited; finance checks "
                "whether the outage caused it"
            )
            exceptions.append(_exception("code_mismatch", candidate, txn_id, detail))
        if cls == "unknown_error_code":
            listed = (*policy.outage_error_codes, *policy.decline_error_codes)
            unlisted = [c for c in named if c not in listed]
            detail = "error codes not in either policy list: " + (
                ",".join(map(_shown, unlisted)) or "(none)"
            )
            without_code = sum(1 for x in found if x.fields.get("error_code") is None)
            if without_code:
                detail += f"; {without_code} failure line(s) without an error code"
            if disagree and row is None:  # its values are left out: say why
                detail += f"; its log lines disagree on {disagree}: finance finds the payment"
            exceptions.append(_exception(cls, candidate, txn_id, detail))
        elif cls == "unattributable":
            fields = ("customer_id", "amount_minor", "currency")
            lacking = [k for k in fields if candidate[k] is None]
            detail = "outage failure not in the transaction table and its log lines " + (
                f"disagree on {disagree}: finance finds the payment"
                if disagree
                else "lack " + ", ".join(lacking)
            )
            exceptions.append(_exception(cls, candidate, txn_id, detail))
    for txn_id, row in table.items():
        if (
            row["status"] == "failed"
            and row["error_code"] in policy.outage_error_codes
            and start <= row["created_at"] < end
            and txn_id not in candidates
        ):
            candidates[txn_id] = {
                "class": "table_only",
                **{k: row[k] for k in ("customer_id", "amount_minor", "currency")},
                "error_codes": row["error_code"],
                "failure_lines": 0,
                "edge": False,
            }
    return candidates, exceptions


def credited_classes(policy: Policy) -> set[str]:
    return (
        {"failed", "log_only"}
        | ({"recovered"} if policy.credit_recovered else set())
        | ({"table_only"} if policy.credit_table_only else set())
    )


def credit(incident, candidates, exceptions) -> tuple[dict, list[tuple]]:
    """Rules 6-7: one line per (customer, currency) of the credited transactions, as
    (block, amount); the payable ones as credit rows. Adds the per-line exceptions (D2: only for
    what the policy pays)."""
    policy = incident.policy
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for candidate in candidates.values():
        if candidate["class"] in credited_classes(policy):
            key = (candidate["customer_id"], candidate["currency"])
            groups.setdefault(key, []).append(candidate)
    customers = {row["customer_id"]: row for row in incident.customers}
    lines: dict[tuple[str, str], tuple[str | None, int | None]] = {}
    credit_rows = []
    for (customer_id, currency), members in sorted(groups.items()):
        who = customers.get(customer_id)
        if who is None:
            block = "unknown_customer"
        elif who["segment"] in policy.exclude_segments:
            block = "excluded_segment"
        elif who["status"] == "closed":
            block = "closed_account"
        else:
            block = None
        failed_sum = sum(m["amount_minor"] for m in members)
        amount = price(policy, currency, len(members), failed_sum)
        if block == "closed_account" and amount == 0:
            block = None  # owed nothing: a zero_credit, not 0.00 to pay by hand
        if amount is None and block != "excluded_segment":  # owed: paid, or by hand (rule 7)
            raise ModelConfigError(f"no flat amount for {currency}")
        lines[(customer_id, currency)] = (block, amount)
        line_key = {"customer_id": customer_id, "currency": currency, "amount_minor": amount}
        if block in ("unknown_customer", "closed_account") or (block is None and amount == 0):
            kind = block or "zero_credit"
            detail = {
                "unknown_customer": "customer is not in the customer table"
                + _held_otherwise(incident.customers, customer_id)
                + _held_near(incident.customers, customer_id)
                + _holds_hidden(customer_id),
                "closed_account": "account is closed: pay by hand",
                "zero_credit": (
                    "the policy works this credit out to zero (its flat amount, percent or cap): "
                    "nothing is paid"
                ),
            }[kind]
            exceptions.append(_exception(kind, line_key, None, detail, len(members)))
        if block is None and amount > 0:
            credit_rows.append(
                credit_row(incident, customer_id, currency, amount, len(members), failed_sum)
            )
    return lines, credit_rows


def evidence(policy: Policy, candidates: dict, lines: dict) -> dict[str, Evidence]:
    """Per transaction: class, credited (D3: only when it counts in a line of credits.csv) and
    why."""
    found = {}
    for txn_id, c in candidates.items():
        if c["class"] not in credited_classes(policy):
            flag_off = c["class"] in ("recovered", "table_only")
            reason = c["class"] + ("_not_credited" if flag_off else "")
            credited = False
        else:
            block, amount = lines[(c["customer_id"], c["currency"])]
            credited = block is None and amount > 0
            reason = block or ("zero_credit" if not credited else c["class"])
        found[txn_id] = Evidence(
            c["class"],
            credited,
            reason,
            c["customer_id"],
            c["amount_minor"],
            c["currency"],
            c["error_codes"],
            c["failure_lines"],
            c["edge"],
        )
    return found


def _earliest(found: list[Line], key: str) -> Any:
    """D4: the earliest non-null value of one field (by time, file name, line), each separately."""
    return next((x.fields[key] for x in found if x.fields.get(key) is not None), None)


def _exception(kind, where, txn_id, detail, count=1) -> tuple[Any, ...]:
    """One row of exceptions.csv: per transaction the failed payment's amount, per credit line
    (no txn_id) the credit owed; the other amount empty."""
    per_line = kind in ("unknown_customer", "closed_account", "zero_credit")
    return (
        kind,
        where["customer_id"],
        where["currency"],
        txn_id,
        count,
        where["amount_minor"] if per_line else None,
        None if per_line else where["amount_minor"],
        detail,
    )


def price(policy: Policy, currency: str, count: int, failed_sum: int) -> int | None:
    """The policy's credit for one line, in minor units: the basis, then floor, then cap.
    None when a flat basis has no amount for the currency."""
    if policy.basis == "percent_of_failed_amount":
        exact = Fraction(failed_sum) * Fraction(policy.percent) / 100
        amount = floor(exact + Fraction(1, 2))  # half up, exactly
    elif currency not in policy.flat_minor:
        return None
    elif policy.basis == "flat_per_customer":
        amount = policy.flat_minor[currency]
    else:
        amount = policy.flat_minor[currency] * count
    if currency in policy.min_minor:
        amount = max(amount, policy.min_minor[currency])
    if currency in policy.cap_minor:
        amount = min(amount, policy.cap_minor[currency])
    return amount


def decimal_text(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's ISO 4217 digits (ISO's list, the
    `iso4217` package; a code it gives none: CLDR's, by Babel)."""
    try:
        digits = iso4217.Currency(currency).exponent
    except ValueError:
        digits = None
    digits = get_currency_precision(currency) if digits is None else digits
    if digits == 0:
        return str(amount_minor)
    whole, part = divmod(amount_minor, 10**digits)
    return f"{whole}.{part:0{digits}d}"


def credit_row(incident, customer_id, currency, amount, count, failed_sum) -> tuple[Any, ...]:
    key = f"{incident.id}|{customer_id}|{currency}".encode()
    description = f"Credit for {count} payment(s) failed during {incident.id}"
    if incident.title:
        description += f": {incident.title}"
    return (
        hashlib.sha256(key).hexdigest()[:16],
        incident.id,
        customer_id,
        currency,
        decimal_text(amount, currency),
        amount,
        count,
        failed_sum,
        "outage_credit",
        description,
        incident.policy.version,
    )


def render_credits(rows: list[tuple[Any, ...]]) -> str:
    """credits.csv: a header always, one line per (customer, currency) in that order, LF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CREDIT_COLUMNS)
    writer.writerows(sorted(rows, key=lambda r: (r[2], r[3])))
    return out.getvalue()
