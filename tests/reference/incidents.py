"""Generated incidents (Hypothesis strategies) and how one is written to disk for the pipeline.

An incident is a `model.Incident`: the model reads it as data, `write` lays it out as an incident
folder (TOML file, log files, Parquet tables). The strategies aim at the rules' edges: times on
and around the window's edges written in every RFC 3339 form, byte-identical copies across
files, every class, segment, status and currency, and policies with every basis and flag.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from tests.builders import CUSTOMER_SCHEMA, TRANSACTION_SCHEMA, toml_value
from tests.reference.model import BOM, Incident, Policy, duration

ZONES = (
    "UTC",
    "America/New_York",
    "Asia/Kolkata",
    "Europe/London",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Pacific/Chatham",  # +12:45 / +13:45
)
DAYS = (
    date(2025, 1, 7),
    date(2025, 3, 9),  # New York springs forward
    date(2025, 11, 2),  # New York falls back
    date(2025, 3, 30),  # London springs forward
    date(2025, 10, 26),  # London falls back
    date(2025, 4, 6),  # Lord Howe and Chatham fall back
)
CURRENCIES = ("USD", "EUR", "JPY", "BHD")
OUTAGE = ("DB_POOL_TIMEOUT", "DB_CONN_REFUSED", "UPSTREAM_TIMEOUT", "INTERNAL_ERROR")
DECLINE = ("CARD_DECLINED", "INSUFFICIENT_FUNDS", "EXPIRED_CARD", "DO_NOT_HONOR")
OTHER_CODES = ("RISK_REVIEW", "", "db_pool_timeout")
TXN_IDS = ("t1", "t2", "t3", "T1", "t\u00a01", "t3\u00a0", "u1", "u2")
PADDING = ("", " ", "\t", " \r\n", "\x0b\x0c")  # ASCII white space: trimmed (D6)
CUSTOMER_IDS = ("c1", "c2", "c10", "C1", "c01", "c\u00e9")
# a log's NBSP, or white space at the ends, is read as written: unknown
LOG_CUSTOMER_IDS = (*CUSTOMER_IDS, "c1\u00a0", "c2 ")
EVENTS = ("payment.failed",) * 4 + ("charge.error", "payment.succeeded", "http.request")
SEGMENTS = ("consumer", "business", "internal", "test")
STATUSES = ("succeeded", "failed", "failed", "pending", "refunded")
MICRO = timedelta(microseconds=1)
BAD_TS = (
    "2025-01-07",
    "2025-01-07T20:00Z",
    "2025-01-07T20:00:00+0530",
    "2025-01-07T24:00:00Z",
    "2025-01-07T20:00:00+24:00",
    "2025-01-07T20:00:00+05:60",
    "2025-02-30T20:00:00Z",
    "2025-01-07T20:00:00.Z",
    "2025-01-07T20:00:00 Z",
    "yesterday",
)
BROKEN_LINES = (
    b"",
    b"   ",
    b"garbage",
    b"[1, 2]",
    b"null",
    b'"a string"',
    b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.fa',
    b'{"event": "payment.failed", "txn_id": "t1"}',
    b'{"ts": 20250107, "event": "payment.failed", "txn_id": "t1"}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": 7}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": null}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "\xff"}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t1", "x": NaN}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t1", "x": -Infinity}',
    b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t", "amount_minor": NaN}',  # noqa: E501
    b"\x00\x01\x02binary\xfe",
)


# ---------------------------------------------------------------------------------------------
# On disk
# ---------------------------------------------------------------------------------------------
def write(incident: Incident, folder: Path) -> Path:
    """Writes the incident folder; returns the incident file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in incident.log_files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    if not incident.log_files:  # the logs glob must match a file
        (folder / "logs").mkdir(exist_ok=True)
        (folder / "logs/empty.jsonl").write_bytes(b"")
    rows = [{**row, "updated_at": row["created_at"]} for row in incident.transactions]
    pq.write_table(pa.Table.from_pylist(rows, TRANSACTION_SCHEMA), folder / "transactions.parquet")
    pq.write_table(
        pa.Table.from_pylist(list(incident.customers), CUSTOMER_SCHEMA),
        folder / "customers.parquet",
    )
    settings = {
        "id": incident.id,
        "title": incident.title,
        "timezone": incident.timezone,
        "window_start": incident.window_start,
        "window_end": incident.window_end,
    }
    sources = {
        "logs": ["logs/**/*"],
        "logs_timezone": incident.logs_timezone,
        "log_clock_skew": incident.log_clock_skew,
        "transactions": "transactions.parquet",
        "customers": "customers.parquet",
    }
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in settings.items() if v)
    text += "[sources]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in sources.items())
    text += policy_table(incident.policy)
    text += f'[quality]\nline_checks = "{incident.line_checks}"\n'
    path = folder / "incident.toml"
    path.write_text(text, encoding="utf-8")
    return path


def policy_table(policy: Policy) -> str:
    """The policy as the `[policy]` table of an incident file (or of a policy file)."""
    policy_settings = {
        "version": policy.version,
        "basis": policy.basis,
        "flat_minor": policy.flat_minor,
        "min_minor": policy.min_minor,
        "cap_minor": policy.cap_minor,
        "failure_events": list(policy.failure_events),
        "outage_error_codes": list(policy.outage_error_codes),
        "decline_error_codes": list(policy.decline_error_codes),
        "credit_recovered": policy.credit_recovered,
        "credit_table_only": policy.credit_table_only,
        "exclude_segments": list(policy.exclude_segments),
    }
    text = "[policy]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in policy_settings.items())
    if policy.percent:
        text += f"percent = {policy.percent:f}\n"
    return text


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------
@st.composite
def windows(draw) -> tuple[str, str, str, datetime, datetime]:
    """The incident's time zone, its window edges as written, and the edges as UTC instants
    (for aiming the lines: the model reads the written edges itself)."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(DAYS))
    local = datetime.combine(day, time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 30)))))
    start = local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    length = draw(st.sampled_from((timedelta(minutes=1), timedelta(hours=2), timedelta(hours=5))))
    end = start + length
    return zone, draw(edge_text(start, zone)), draw(edge_text(end, zone)), start, end


@st.composite
def edge_text(draw, at: datetime, zone: str) -> str:
    """A window edge written naive (in the incident's zone), with `Z` or with the zone's offset."""
    local = at.astimezone(ZoneInfo(zone))
    form = draw(st.sampled_from(("naive", "utc", "offset")))
    if form == "naive":
        return local.replace(tzinfo=None).isoformat()
    if form == "utc":
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat()


def moments(start: datetime, end: datetime, skew: timedelta) -> st.SearchStrategy[datetime]:
    """Instants on, next to and around the window's edges (and the skew's), inside, outside."""
    edges = [start, end, start - skew, end + skew, start + skew, end - skew]
    near = [e + d for e in edges for d in (-MICRO, timedelta(0), MICRO)]
    span = int((end - start) / MICRO)
    inside = st.integers(0, span - 1).map(lambda us: start + us * MICRO)
    return st.one_of(
        st.sampled_from(near),
        inside,
        inside,
        st.integers(-(10**11), 10**11).map(lambda us: start + us * MICRO),
    )


@st.composite
def ts_text(draw, at: datetime, logs_timezone: str) -> str:
    """An instant as an RFC 3339 string in one of its forms: Z or z, T or t or a space, an
    offset, or none (naive, read in the logs' zone), with or without a fraction."""
    form = draw(st.sampled_from(("Z", "z", "offset", "naive")))
    minutes = draw(st.sampled_from((330, -300, 0, 840, -570, 345, -720)))
    if form == "offset":
        local = at.astimezone(timezone(timedelta(minutes=minutes)))
    elif form == "naive":
        local = at.astimezone(ZoneInfo(logs_timezone))
    else:
        local = at
    separator = draw(st.sampled_from(("T", "T", "t", " ")))
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond:06d}" + draw(st.sampled_from(("", "999", "0001")))
    else:
        text += draw(st.sampled_from(("", ".0", ".000", ".000000000")))
    if form == "offset":
        sign = "-" if minutes < 0 or (minutes == 0 and draw(st.booleans())) else "+"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    elif form != "naive":
        text += form
    return text


def _maybe(values: st.SearchStrategy[Any], weight: int = 4) -> st.SearchStrategy[Any]:
    """A field's value (`weight` times out of `weight` + 2), JSON null, or absent (`...`)."""
    return st.one_of(*[values] * weight, st.just(None), st.just(...))


@st.composite
def log_line(draw, start: datetime, end: datetime, skew: timedelta, logs_timezone: str) -> bytes:
    """One log line's text: mostly well-formed events, sometimes broken in one field or whole,
    now and then a JSON array of lines (an HTTP output's batch: one holding a failure event
    stops the run)."""
    kind = draw(st.sampled_from(("event",) * 8 + ("bad_field", "broken")))
    if kind == "broken":
        if draw(st.integers(0, 3)) == 0:
            lines = log_line(start, end, skew, logs_timezone)
            items = draw(st.lists(lines, min_size=1, max_size=3))
            return b"[" + b", ".join(items) + b"]"
        return draw(st.sampled_from(BROKEN_LINES))
    at = draw(moments(start, end, skew))
    fields: dict[str, Any] = {
        "ts": draw(ts_text(at, logs_timezone)),
        "event": draw(st.sampled_from(EVENTS)),
        "txn_id": draw(st.sampled_from(TXN_IDS[:6])) + draw(st.sampled_from(PADDING)),
        "customer_id": draw(_maybe(st.sampled_from(LOG_CUSTOMER_IDS))),
        "amount_minor": draw(_maybe(st.sampled_from((1, 15, 1050, 99999)))),
        "currency": draw(_maybe(st.sampled_from(CURRENCIES))),
        "error_code": draw(
            _maybe(st.sampled_from(OUTAGE[:1] * 6 + OUTAGE * 2 + DECLINE + OTHER_CODES), weight=8)
        ),
    }
    if kind == "bad_field":
        name = draw(st.sampled_from(("ts", "txn_id", "customer_id", "amount_minor", "currency")))
        fields[name] = draw(
            st.sampled_from(
                {
                    "ts": BAD_TS,
                    "txn_id": ("", "  ", 7, None, ...),
                    "customer_id": (5, ["c1"]),
                    "amount_minor": (0, -5, 12.5, 1.0, "100", True, 2**63, 10**30),
                    "currency": ("usd", "ABC", 840, "DEM", "CNH"),
                }[name]
            )
        )
    if draw(st.booleans()):
        fields["msg"] = draw(st.sampled_from(("retry later", "caf\u00e9", {"nested": [1]})))
    present = {k: v for k, v in fields.items() if v is not ...}
    order = draw(st.permutations(list(present)))
    separators = draw(st.sampled_from(((", ", ": "), (",", ":"))))
    ascii_only = draw(st.booleans())
    obj = {k: present[k] for k in order}
    return json.dumps(obj, separators=separators, ensure_ascii=ascii_only).encode()


@st.composite
def log_files(draw, start, end, skew, logs_timezone) -> tuple[tuple[str, bytes], ...]:
    """One to three files drawn from one pool of lines, so copies repeat within and across
    files; each copy with an LF or CRLF end, a file maybe after a BOM, maybe gzip (by content,
    whatever its name), maybe without a last LF."""
    pool = draw(st.lists(log_line(start, end, skew, logs_timezone), min_size=2, max_size=12))
    names = draw(
        st.lists(
            st.sampled_from(
                ("logs/a.jsonl", "logs/a-b.jsonl", "logs/b.log.gz", "logs/sub/c.jsonl")
            ),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    found = []
    for name in names:
        picks = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=10))
        data = b"".join(line + draw(st.sampled_from((b"\n", b"\r\n"))) for line in picks)
        if picks and draw(st.booleans()):
            data = data.rstrip(b"\n").removesuffix(b"\r")  # no line end after the last line
        if draw(st.booleans()):
            data = BOM + data
        if draw(st.booleans()):
            cut = draw(st.integers(0, len(data)))  # one or two gzip members
            members = [data[:cut], data[cut:]] if draw(st.booleans()) else [data]
            data = b"".join(gzip.compress(m, mtime=0) for m in members)
        found.append((name, data))
    return tuple(found)


@st.composite
def transactions(draw, start, end, skew) -> tuple[dict[str, Any], ...]:
    """Table rows with unique ids (after trimming), every status, currency and code."""
    ids = draw(st.lists(st.sampled_from(TXN_IDS), unique=True, max_size=6))
    rows = []
    for txn_id in ids:
        rows.append(
            {
                "txn_id": draw(st.sampled_from(PADDING)) + txn_id + draw(st.sampled_from(PADDING)),
                "customer_id": draw(st.sampled_from(CUSTOMER_IDS)),
                "amount_minor": draw(
                    st.one_of(st.sampled_from((1, 5, 15, 25, 149, 150, 151)), st.integers(1, 10**9))
                ),
                "currency": draw(st.sampled_from(CURRENCIES)),
                "status": draw(st.sampled_from(STATUSES)),
                "error_code": draw(st.sampled_from(OUTAGE + DECLINE[:1] + (None, "RISK_REVIEW"))),
                "created_at": draw(moments(start, end, skew)),
            }
        )
    return tuple(rows)


@st.composite
def customers(draw) -> tuple[dict[str, Any], ...]:
    """Customer rows: some ids missing (unknown customers), every segment and status."""
    missing = draw(st.lists(st.sampled_from(CUSTOMER_IDS), unique=True, max_size=2))
    ids = [c for c in CUSTOMER_IDS if c not in missing]
    return tuple(
        {
            "customer_id": customer_id,
            "name": f"Name {customer_id}",
            "email": f"{customer_id}@example.com",
            "country": "US",
            "segment": draw(st.sampled_from(SEGMENTS[:1] * 4 + SEGMENTS)),
            "status": draw(st.sampled_from(("active",) * 4 + ("closed", "suspended"))),
        }
        for customer_id in ids
    )


@st.composite
def policies(draw) -> Policy:
    """Every basis, flat amounts (sometimes a currency missing), floors, caps, fractional
    percents, both flags, other failure events and segments."""
    basis = draw(
        st.sampled_from(("flat_per_customer", "flat_per_transaction", "percent_of_failed_amount"))
    )
    amounts = st.sampled_from((0, 1, 7, 500, 1000, 1500, 100000))
    priced = draw(st.lists(st.sampled_from(CURRENCIES), unique=True, min_size=3))
    flat = {c: draw(amounts) for c in sorted(priced)}
    floors = {c: draw(amounts) for c in draw(st.lists(st.sampled_from(priced), unique=True))}
    caps = {}
    for c in draw(st.lists(st.sampled_from(priced), unique=True)):
        caps[c] = max(draw(amounts), floors.get(c, 0))
    percent = draw(
        st.one_of(
            st.sampled_from(("10", "12.5", "0.1", "33.333", "100", "150", "0.005", "50")),
            st.decimals("0.001", "200", places=3).map(str),
        )
    )
    return Policy(
        basis=basis,
        flat_minor=flat,
        percent=Decimal(percent) if basis == "percent_of_failed_amount" else Decimal(0),
        min_minor=dict(sorted(floors.items())),
        cap_minor=dict(sorted(caps.items())),
        failure_events=draw(
            st.sampled_from((("payment.failed",), ("payment.failed", "charge.error")))
        ),
        outage_error_codes=draw(st.sampled_from((OUTAGE, OUTAGE[:1]))),
        decline_error_codes=DECLINE,
        credit_recovered=draw(st.booleans()),
        credit_table_only=draw(st.booleans()),
        exclude_segments=tuple(draw(st.lists(st.sampled_from(SEGMENTS[1:]), unique=True))),
    )


@st.composite
def incidents(draw) -> Incident:
    """A whole incident: window, skew, logs, tables and policy."""
    zone, start_text, end_text, start, end = draw(windows())
    logs_timezone = draw(st.sampled_from(ZONES))
    skew_text = draw(st.sampled_from(("0s", "0s", "1s", "500ms", "2min")))
    skew = duration(skew_text)
    return Incident(
        id=draw(st.sampled_from(("INC-M", "inc.2025_01"))),
        title=draw(st.sampled_from(("Model outage", 'Outage "DB", 50% down', ""))),
        timezone=zone,
        window_start=start_text,
        window_end=end_text,
        logs_timezone=logs_timezone,
        log_clock_skew=skew_text,
        line_checks=draw(st.sampled_from(("failure_capable", "all"))),
        policy=draw(policies()),
        log_files=draw(log_files(start, end, skew, logs_timezone)),
        transactions=draw(transactions(start, end, skew)),
        customers=draw(customers()),
    )
