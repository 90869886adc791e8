"""The log contract: every line read, framed, parsed or quarantined with a reason; none lost."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
import threading
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from tests.builders import (
    failure,
    reconcile_incident,
    rows,
    stopped,
    txn,
    with_sources,
    write_incident,
)
from transforms import db
from transforms.errors import InputError, StorageError
from transforms.ingest import incident, logs
from transforms.ingest.logs import framed, framing, mapper, source
from transforms.ingest.logs.screen import Screen
from transforms.reconcile.outputs import write_quarantine


def stage(tmp_path, lines, log_name="logs/pod-a.jsonl", **settings):
    path = write_incident(tmp_path / "inc", lines=lines, log_name=log_name, **settings)
    return reconcile_incident(path, tmp_path)


def quarantined(con) -> list[tuple[int, str]]:
    return rows(con, "int_log_lines_bucketed", "line", "quarantine_reason", "bucket")


GOOD = json.dumps(failure("t1")).encode()


def test_nan_or_a_trailing_comma_is_tolerated_only_where_the_contract_ignores_it(tmp_path):
    good = GOOD[:-1]
    con = stage(
        tmp_path,
        [
            good + b', "latency": NaN}\n',  # tolerated: an ignored field
            good.replace(b'"t1"', b'"t2"') + b", }\n",  # tolerated: a trailing comma
            good.replace(b'"t1"', b'"t3"') + b', "amount_minor": NaN}\n',  # a contract field
        ],
    )
    assert [row[2] for row in quarantined(con)] == ["relevant", "relevant", "quarantined"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"txn_id,amount\n", "not valid JSON"),  # a CSV passed as logs
        (b'{"ts": "2025-01-07T20:00:00Z", "event": \n', "not valid JSON"),  # truncated
        (b"[1, 2]\n", "JSON array, not an object"),
        (b"42\n", "JSON ubigint, not an object"),
        (b'"text"\n', "JSON varchar, not an object"),
        (b"\n", "blank line"),
        (b'{"event": "payment.failed", "txn_id": "t1"}\n', "missing ts"),
        (
            b'{"ts": 1736280000, "event": "x"}\n',
            "ts is not a string (the line looks like epoch seconds (zap's JSON ts): set "
            'ts_format = "epoch_s" in [sources.log_format])',
        ),
        (b'{"ts": 17362800, "event": "x"}\n', "ts is not a string"),
        (b'{"ts": "yesterday", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-13-07T20:00:00Z", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        # RFC 3339 hours are 00-23 and offsets at most 23:59 (DuckDB alone would read these)
        (b'{"ts": "2025-01-07T24:00:00Z", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-01-07T20:00:00+24:00", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-01-07T20:00:00+05:60", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-01-07T20:00:00Z"}\n', "missing event"),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed"}\n',
            "payment event without txn_id",
        ),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "  "}\n',
            "payment event without txn_id",
        ),
        # it has one, of the wrong type: "without txn_id" sent finance looking for a missing key
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": 12345}\n',
            "txn_id is not a string",
        ),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": null}\n',
            "payment event without txn_id",
        ),
        (
            json.dumps(failure("t1", amount_minor="12.50")).encode() + b"\n",
            "amount_minor is not an integer",
        ),
        (
            json.dumps(failure("t1", amount_minor=12.5)).encode() + b"\n",
            "amount_minor is not an integer",
        ),
        (
            json.dumps(failure("t1", amount_minor=0)).encode() + b"\n",
            "amount_minor is not positive",
        ),
        # above 10^16 minor units: no payment is, and two such would overflow a customer's sum
        (
            json.dumps(failure("t1", amount_minor=10**16 + 1)).encode() + b"\n",
            "amount_minor is out of range",
        ),
        (
            json.dumps(failure("t1", amount_minor=2**63 - 1)).encode() + b"\n",
            "amount_minor is out of range",
        ),
        (
            json.dumps(failure("t1", amount_minor=-5)).encode() + b"\n",
            "amount_minor is not positive",
        ),
        (
            json.dumps(failure("t1", currency="usd")).encode() + b"\n",
            "currency is not an ISO 4217 code",
        ),
        (json.dumps(failure("t1", customer_id=7)).encode() + b"\n", "customer_id is not a string"),
        # U+FFFD: bytes a collector could not decode (Docker's split inside a character); the
        # id was read as written, a credit to an id nobody logged
        (
            json.dumps(failure("t\ufffd\ufffd1"), ensure_ascii=False).encode() + b"\n",
            "txn_id or customer_id holds U+FFFD (bytes a collector could not decode)",
        ),
        (
            json.dumps(failure("t1", customer_id="c\ufffd")).encode() + b"\n",
            "txn_id or customer_id holds U+FFFD (bytes a collector could not decode)",
        ),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t\xff"}\n',
            "invalid UTF-8 at byte 71 of the line",
        ),
    ],
)
def test_a_line_breaking_the_contract_is_quarantined_with_its_reason(tmp_path, line, reason):
    con = stage(tmp_path, [GOOD + b"\n", line], quality={"line_checks": "all"})
    assert quarantined(con) == [(1, None, "relevant"), (2, reason, "quarantined")]


OUT_OF_RANGE = "amount_minor is out of range"
AMOUNT_LINE = '{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t1", '


@pytest.mark.parametrize(
    ("line", "amount", "reason"),
    [
        (AMOUNT_LINE + '"amount_minor": 1000}', 1000, None),  # a JSON integer
        # a whole number written with a zero fraction, as a serializer of doubles writes it:
        # its value, as the tables' `1250.00` is 1250 (quarantined, the failure went uncredited
        # unseen under the quarantine limits)
        (AMOUNT_LINE + '"amount_minor": 1000.0}', 1000, None),
        (AMOUNT_LINE + '"amount_minor": 1000.00}', 1000, None),
        (AMOUNT_LINE + '"amount_minor": 9007199254740993.0}', 9007199254740993, None),  # exact
        ("ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 amount_minor=1000.0", 1000, None),
        # a fraction is no whole minor unit: never rounded
        (AMOUNT_LINE + '"amount_minor": 12.5}', None, "amount_minor is not an integer"),
        # digits past a double's: 1000.0 as a double, not as written
        (
            AMOUNT_LINE + '"amount_minor": 1000.000000000000001}',
            None,
            "amount_minor is not an integer",
        ),
        # an exponent, as the tables refuse it: a number's spelling nobody writes for minor units
        (AMOUNT_LINE + '"amount_minor": 1e3}', None, "amount_minor is not an integer"),
        (AMOUNT_LINE + '"amount_minor": 0.0}', None, "amount_minor is not positive"),
        (AMOUNT_LINE + '"amount_minor": 1e16}', None, "amount_minor is not an integer"),
        (AMOUNT_LINE + '"amount_minor": 10000000000000001.0}', None, OUT_OF_RANGE),
    ],
)
def test_an_amount_is_a_whole_number_however_its_zero_fraction_is_written(
    tmp_path, line, amount, reason
):
    kind = "logfmt" if line.startswith("ts=") else "jsonl"
    con = stage(tmp_path, [line], sources={"log_format": {"kind": kind}})
    assert rows(con, "int_log_lines_bucketed", "line", "quarantine_reason", "amount_minor") == [
        (1, reason, amount)
    ]


NOT_MONEY = "currency {} is not money on {} (UTC): legal tender nowhere then (withdrawn, or not "


@pytest.mark.parametrize(
    ("currency", "window", "reason"),
    [
        ("USD", ("2025-01-07T14:15:00", "2025-01-07T16:00:00"), None),
        (
            "DEM",
            ("2025-01-07T14:15:00", "2025-01-07T16:00:00"),
            NOT_MONEY.format("DEM", "2025-01-07"),
        ),
        # Babel lists CNH (offshore yuan), but it is no territory's tender: not ISO 4217
        (
            "CNH",
            ("2025-01-07T14:15:00", "2025-01-07T16:00:00"),
            NOT_MONEY.format("CNH", "2025-01-07"),
        ),
        (
            "XYZ",
            ("2025-01-07T14:15:00", "2025-01-07T16:00:00"),
            NOT_MONEY.format("XYZ", "2025-01-07"),
        ),
        # the lev is money until its last day of legal tender, 2026-01-31 (the euro since the 1st)
        ("BGN", ("2025-12-30T12:00:00", "2025-12-30T13:00:00"), None),
        ("BGN", ("2026-01-31T12:00:00", "2026-01-31T13:00:00"), None),
        ("EUR", ("2026-01-31T12:00:00", "2026-01-31T13:00:00"), None),
        (
            "BGN",
            ("2026-02-02T12:00:00", "2026-02-02T13:00:00"),
            NOT_MONEY.format("BGN", "2026-02-02"),
        ),
        # a window across the change (23:00Z on the 31st to 01:00Z on 2 February, UTC days):
        # money on any of its days
        ("BGN", ("2026-01-31T18:00:00", "2026-02-01T20:00:00"), None),
        ("HRK", ("2023-01-14T12:00:00", "2023-01-15T12:00:00"), None),  # the kuna's last day
        (
            "HRK",
            ("2023-01-15T12:00:00", "2023-01-16T12:00:00"),
            NOT_MONEY.format("HRK", "2023-01-15 to 2023-01-16"),
        ),
    ],
)
def test_a_logged_currency_is_money_only_when_legal_tender_on_a_day_of_the_window(
    tmp_path, currency, window, reason
):
    start, end = window
    at = (datetime.fromisoformat(start) + timedelta(hours=5, minutes=30)).isoformat() + "Z"
    line = json.dumps(failure("t1", ts=at, currency=currency)).encode() + b"\n"
    con = stage(tmp_path, [line], top={"window_start": start, "window_end": end})
    found = quarantined(con)
    assert found == [(1, None if reason is None else reason + "ISO 4217)", found[0][2])]
    assert (found[0][2] == "quarantined") == (reason is not None)


HIDDEN = "txn_id holds {} (a control, format or space character other than"


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        # a no-break space after the id: the table's `t2` would be a second candidate, paid twice
        ({"txn_id": "t2\u00a0"}, "U+00A0"),
        ({"txn_id": "\u200bt2"}, "U+200B"),  # a zero-width space
        ({"txn_id": "\ufefft2"}, "U+FEFF"),  # a byte-order mark inside the id
        ({"txn_id": "t2\u2028"}, "U+2028"),  # a line separator
        ({"txn_id": "t\t2"}, "U+0009"),  # an ASCII control inside (the ends are trimmed)
        # ASCII white space at the ends is trimmed (txn_id) or kept as it is (customer_id), and
        # an ASCII space inside is part of the id: read as before
        ({"txn_id": " t2\t"}, None),
        # a hidden character in customer_id alone is read as written: it matches no customer
        # (unknown_customer, whose detail names it), while quarantining the line would only
        # lose its failure
        ({"txn_id": "t2", "customer_id": "c1\u00a0"}, None),
        ({"txn_id": "t2", "customer_id": "\u200bc1"}, None),
        ({"txn_id": "t 2", "customer_id": "c1 "}, None),
    ],
)
def test_an_id_with_a_hidden_character_is_quarantined_naming_it(tmp_path, fields, shown):
    line = json.dumps(failure(**fields), ensure_ascii=False).encode() + b"\n"
    con = stage(tmp_path, [GOOD + b"\n", line])
    ((number, reason, bucket),) = quarantined(con)[1:]
    if shown is None:
        assert (number, reason, bucket) == (2, None, "relevant")
    else:
        assert (number, bucket) == (2, "quarantined")
        assert reason.startswith(HIDDEN.format(shown))


SHAPE = "not one JSON object (shape check)"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # which error_code is meant? one reader takes the first, another the last
        (
            b'{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","txn_id":"t2",'
            b'"error_code":"CARD_DECLINED","error_code":"DB_POOL_TIMEOUT"}\n',
            "a key of the log contract appears twice in the JSON object",
        ),
        (
            b'{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","txn_id":"t2",'
            b'"event":"payment.succeeded"}\n',
            "a key of the log contract appears twice in the JSON object",
        ),
        # a key the contract does not read, twice: the line is read as before
        (
            b'{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","txn_id":"t2",'
            b'"level":"INFO","level":"ERROR"}\n',
            None,
        ),
    ],
)
def test_a_contract_key_twice_in_a_line_is_quarantined(tmp_path, line, reason):
    con = stage(tmp_path, [GOOD + b"\n", line], quality={"line_checks": "all"})
    bucket = "quarantined" if reason else "relevant"
    assert quarantined(con) == [(1, None, "relevant"), (2, reason, bucket)]


def test_a_contract_key_twice_on_a_logfmt_line_is_quarantined(tmp_path):
    lines = [
        b"ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1\n",
        b"ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t2 txn_id=t3\n",
    ]
    con = stage(tmp_path, lines, sources={"log_format": {"kind": "logfmt"}})
    assert quarantined(con) == [
        (1, None, "relevant"),
        (2, "a key of the log contract appears twice on the logfmt line", "quarantined"),
    ]


@pytest.mark.parametrize(
    ("ts", "zone", "expected"),
    [
        # RFC 3339's leap second: the last microsecond of its minute, its fraction dropped
        ("2016-12-31T23:59:60Z", "UTC", "2016-12-31 23:59:59.999999+00"),
        ("2016-12-31T23:59:60.5z", "UTC", "2016-12-31 23:59:59.999999+00"),
        ("2016-12-31T18:59:60-05:00", "UTC", "2016-12-31 23:59:59.999999+00"),
        ("2016-12-31 18:59:60.25", "America/New_York", "2016-12-31 23:59:59.999999+00"),
        ("2016-12-31T23:59:59.999Z", "UTC", "2016-12-31 23:59:59.999+00"),
        # no second 61, no minute 60
        ("2016-12-31T23:59:61Z", "UTC", None),
        ("2016-12-31T23:60:00Z", "UTC", None),
    ],
)
def test_a_leap_second_is_read_as_the_last_microsecond_of_its_minute(tmp_path, ts, zone, expected):
    line = json.dumps(failure("t2", ts=ts)).encode()
    con = stage(tmp_path, [line + b"\n"], sources={"logs_timezone": zone})
    got = con.sql("select ts_utc::varchar, quarantine_reason from int_log_lines_bucketed")
    reason = None if expected else "ts is not an RFC 3339 timestamp"
    assert got.fetchall() == [(expected, reason)]


@pytest.mark.parametrize(
    ("ts", "ts_format", "zone", "expected"),
    [
        # a strptime pattern's second 60 (its `%S`), as RFC 3339's: with an offset, a fraction,
        # or read in logs_timezone
        ("2016-12-31 23:59:60", "%Y-%m-%d %H:%M:%S", "UTC", "2016-12-31 23:59:59.999999+00"),
        (
            "31/Dec/2016:18:59:60.5 -0500",
            "%d/%b/%Y:%H:%M:%S.%f %z",
            "UTC",
            "2016-12-31 23:59:59.999999+00",
        ),
        (
            "2016-12-31 18:59:60",
            "%Y-%m-%d %H:%M:%S",
            "America/New_York",
            "2016-12-31 23:59:59.999999+00",
        ),
        # no second 61, no minute 60
        ("2016-12-31 23:59:61", "%Y-%m-%d %H:%M:%S", "UTC", None),
        ("2016-12-31 23:60:00", "%Y-%m-%d %H:%M:%S", "UTC", None),
    ],
)
def test_a_strptime_leap_second_is_read_as_rfc3339s(tmp_path, ts, ts_format, zone, expected):
    line = json.dumps(failure("t2", ts=ts)).encode()
    sources = {"logs_timezone": zone, "log_format": {"ts_format": ts_format}}
    con = stage(tmp_path, [line + b"\n"], sources=sources)
    got = con.sql("select ts_utc::varchar, quarantine_reason from int_log_lines_bucketed")
    reason = None if expected else "ts does not match sources.log_format.ts_format"
    assert got.fetchall() == [(expected, reason)]


@pytest.mark.parametrize(
    ("ts", "ts_format", "zone", "expected"),
    [
        # DuckDB's %n reads 9 decimals (fluentd's %N, Go's nanoseconds): truncated to the
        # microsecond, as RFC 3339's, never rounded into the next second (across a window edge)
        (
            "2025-01-07T23:14:59.999999999+0000",
            "%Y-%m-%dT%H:%M:%S.%n%z",
            "UTC",
            "2025-01-07 23:14:59.999999+00",
        ),
        (
            "2025-01-07 18:14:59.999999999",
            "%Y-%m-%d %H:%M:%S.%n",
            "America/New_York",
            "2025-01-07 23:14:59.999999+00",
        ),
        (
            "1960-01-07 20:00:00.999999999",
            "%Y-%m-%d %H:%M:%S.%n",
            "UTC",
            "1960-01-07 20:00:00.999999+00",
        ),
        # and a leap second's fraction stays in its minute
        (
            "2016-12-31 23:59:60.999999999",
            "%Y-%m-%d %H:%M:%S.%n",
            "UTC",
            "2016-12-31 23:59:59.999999+00",
        ),
        (
            "2016-12-31 23:59:60.999999999 +0000",
            "%Y-%m-%d %H:%M:%S.%n %z",
            "UTC",
            "2016-12-31 23:59:59.999999+00",
        ),
    ],
)
def test_a_strptime_nanosecond_is_truncated_to_the_microsecond(
    tmp_path, ts, ts_format, zone, expected
):
    line = json.dumps(failure("t2", ts=ts)).encode()
    sources = {"logs_timezone": zone, "log_format": {"ts_format": ts_format}}
    con = stage(tmp_path, [line + b"\n"], sources=sources)
    got = con.sql("select ts_utc::varchar, quarantine_reason from int_log_lines_bucketed")
    assert got.fetchall() == [(expected, None)]


# The window is 19:15Z to 23:15Z: the last nanosecond of its final second, and of the second
# before it opens, as epoch seconds with 9 decimals (as Fluent Bit or Go write them), in
# milliseconds, and with an exponent. Beyond a double's 16 digits: as a double,
# 1736291699.999999999 is 1736291700.0, past the edge.
SECONDS = ("1736291699.999999999", "1736277299.999999999")
MILLISECONDS = ("1736291699999.999999", "1736277299999.999999")
EXPONENT = ("1.736291699999999999e9", "17362772999999999990E-10")
FAILED = '"event": "payment.failed", "txn_id": "TXN"'


@pytest.mark.parametrize(
    ("template", "edges", "log_format"),
    [
        ('{"ts": TS, ' + FAILED + "}", SECONDS, {"ts_format": "epoch_s"}),
        ('{"ts":TS,' + FAILED + "}", MILLISECONDS, {"ts_format": "epoch_ms"}),
        ('{"ts": TS, ' + FAILED + "}", EXPONENT, {"ts_format": "epoch_s"}),
        # the key spelled with an escape; the key elsewhere, in another object and in a string;
        # a key that ends in it (`x"ts`), holding the double the time rounds to
        (
            '{"a": {"ts": 1}, "m": "\\"ts\\": 1736277300", "t\\u0073" :\tTS, ' + FAILED + "}",
            SECONDS,
            {"ts_format": "epoch_s"},
        ),
        ('{"x\\"ts": 1736277300, "ts": TS, ' + FAILED + "}", SECONDS, {"ts_format": "epoch_s"}),
        # a nested path
        ('{"at": {"ts": TS}, ' + FAILED + "}", SECONDS, {"ts_format": "epoch_s", "ts": "at.ts"}),
        # a text format's digits
        (
            "ts=TS event=payment.failed txn_id=TXN",
            SECONDS,
            {"ts_format": "epoch_s", "kind": "logfmt"},
        ),
        # the time of an envelope around the record (Fluent Bit's `json_date_format double`)
        (
            '{"date": TS, "log": "{\\"event\\": \\"payment.failed\\", \\"txn_id\\": \\"TXN\\"}"}',
            SECONDS,
            {"ts_format": "epoch_s", "payload": "log", "ts": "envelope.date"},
        ),
    ],
)
def test_an_epoch_number_is_read_from_its_own_digits_at_a_window_edge(
    tmp_path, template, edges, log_format
):
    # A failure logged in the window's last second stays in it; one logged a nanosecond before
    # the window opens stays out: the number's digits truncated, never the double's.
    lines = [template.replace("TS", ts).replace("TXN", f"t{i}") for i, ts in enumerate(edges, 1)]
    con = stage(tmp_path, lines, sources={"log_format": log_format}, quality={"line_checks": "all"})
    got = con.sql("select line, bucket, ts_utc::varchar from int_log_lines_bucketed order by line")
    assert got.fetchall() == [
        (1, "relevant", "2025-01-07 23:14:59.999999+00"),
        (2, "irrelevant", "2025-01-07 19:14:59.999999+00"),
    ]


@pytest.mark.parametrize(
    ("ts", "zone"),
    [
        ("0001-01-01T00:00:00", "Europe/Berlin"),  # a local year-1 time is year 0 in UTC
        ("0001-01-01T00:00:00+01:00", "UTC"),
        ("0000-01-01T00:00:00Z", "UTC"),
        ("9999-12-31T23:59:59-00:01", "UTC"),  # year 10000 in UTC
    ],
)
def test_a_line_stamped_outside_the_years_a_date_time_holds_is_quarantined(tmp_path, ts, zone):
    far = json.dumps(failure("t2", ts=ts)).encode()
    con = stage(tmp_path, [GOOD + b"\n", far + b"\n"], sources={"logs_timezone": zone})
    assert quarantined(con) == [
        (1, None, "relevant"),
        (2, "ts is out of range (UTC years 0001 to 9999)", "quarantined"),
    ]


@pytest.mark.parametrize(
    ("line", "reason", "bucket"),
    [
        # no failure event in the bytes: the shape check only
        (b"txn_id,amount\n", SHAPE, "quarantined"),
        (b'{"ts": "2025-01-07T20:00:00Z", "event": \n', SHAPE, "quarantined"),  # truncated
        (b"[1, 2]\n", SHAPE, "quarantined"),
        (b"42\n", SHAPE, "quarantined"),
        (b"\n", "blank line", "quarantined"),
        (b" \t\r\n", "blank line", "quarantined"),
        (b'{"ts": "yesterday", "event": "x"}\n', None, "irrelevant"),  # not parsed
        (b'{"ts": "2025-01-07T20:00:00Z"}\n', None, "irrelevant"),
        (b'{"a": 1 ,, }\n', None, "irrelevant"),
        (b' {"event": "x"} \r\n', None, "irrelevant"),  # blanks around one object
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "t": "t\xff"}\n',
            "invalid UTF-8 at byte 53 of the line",
            "quarantined",
        ),
        # a failure event in the bytes: the whole contract, as today
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed"}\n',
            "payment event without txn_id",
            "quarantined",
        ),
        (
            b'{"ts": "yesterday", "event": "payment.failed", "txn_id": "t2"}\n',
            "ts is not an RFC 3339 timestamp",
            "quarantined",
        ),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", \n',
            "not valid JSON",
            "quarantined",
        ),
        (
            b'{"ts": 1, "event": "x", "msg": "payment.failed"}\n',
            "ts is not a string",
            "quarantined",
        ),
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "msg": "payment.failed"}\n',
            None,
            "irrelevant",
        ),
        # an escape that could spell one: checked in full, and a failure it is
        (
            b'{"ts": "2025-01-07T20:00:00Z", "event": "payment\\u002efailed", "txn_id": "t2"}\n',
            None,
            "relevant",
        ),
        (b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "m": "\\u00e9"}\n', None, "irrelevant"),
        (
            b'{"ts": "yesterday", "event": "x", "m": "\\u00e9"}\n',
            "ts is not an RFC 3339 timestamp",
            "quarantined",
        ),
    ],
)
def test_only_failure_capable_lines_are_checked_in_full(tmp_path, line, reason, bucket):
    con = stage(tmp_path, [GOOD + b"\n", line])
    assert quarantined(con) == [(1, None, "relevant"), (2, reason, bucket)]


# Lines of one block and whether the screen checks them in full: a failure event written
# otherwise is in no line's bytes as written, only in its bytes folded.
SCREENED = [
    ('{"event": "payment.failed"}', True),  # as written
    ('{"event": "Payment.Failed"}', True),  # in another case
    ('{"event": "PAYMENT.FAILED"}', True),
    ('{"event": "pay\u200bment.failed"}', True),  # a hidden character inside (E2 80 8B)
    ('{"event": "payment.succeeded"}', False),  # another event
    ('{"event": "payment. failed"}', False),  # an inner space or tab: another name
    ('{"event": "payment.\tfailed"}', False),
    ('{"event": "http.request"}', False),
]


@pytest.mark.parametrize(
    "left_out",
    [
        (),
        ('{"event": "payment.failed"}',),  # the count of folded spellings meets none as written
        ('{"event": "pay\u200bment.failed"}',),  # ASCII only: nothing to drop (numpy's fold)
    ],
    ids=["all", "none-as-written", "ascii"],
)
@pytest.mark.parametrize("tail", [b"", b'{"event": "Payment.Failed", "cut": '])
def test_the_screen_finds_a_failure_event_written_otherwise_by_its_folded_bytes(left_out, tail):
    # Some of the lines in one block, and the next block's first bytes after the lines' end.
    lines = [(line, expected) for line, expected in SCREENED if line not in left_out]
    data = "".join(f"{line}\n" for line, _ in lines).encode()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    screen = Screen.of(("payment.failed",), incident.LogFormat())
    capable = screen.capable(data + tail, ends, len(data))
    assert capable.tolist() == [expected for _, expected in lines]
    assert [screen.capable_text(line) for line, _ in lines] == capable.tolist()
    values = [json.loads(line, strict=False) for line, _ in lines]  # a tab as it is
    assert [screen.capable_value(value) for value in values] == capable.tolist()


def test_an_event_beyond_ascii_is_screened_as_written_only():
    screen = Screen.of(("paiement.échoué",), incident.LogFormat(kind="logfmt"))
    data = "event=paiement.échoué\nevent=Paiement.Échoué\nevent=x\n".encode()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    assert screen.capable(data, ends, len(data)).tolist() == [True, False, False]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_line_over_one_mebibyte_holding_a_failure_event_stops_the_run(tmp_path, line_checks):
    # Quarantined, its failure was one item under the quarantine limit, never credited: a
    # service logging a failure with a large field (a request body) lost it unseen.
    huge = GOOD[:-1] + b', "body": "' + b"a" * (1 << 20) + b'"}\n'
    with pytest.raises(
        InputError,
        match=r"^logs/pod-a.jsonl: line 2 is 1048694 bytes, longer than the 1 MiB limit, "
        r"holding a failure event \(payment.failed\) in its first 4096 characters: quarantined",
    ):
        stage(tmp_path, [GOOD + b"\n", huge], quality={"line_checks": line_checks})


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("mib", [1, 9], ids=["in-a-block", "over-many-blocks"])
def test_a_line_over_one_mebibyte_holding_a_failure_after_its_preview_stops_the_run(
    tmp_path, mib, line_checks
):
    # The large field first, the event after it: beyond the 4096 characters kept as its
    # preview, the failure was quarantined unseen. The framing reads every byte of the line.
    huge = b'{"ts": "2025-01-07T20:00:00Z", "body": "' + b"a" * (mib << 20) + b'", '
    huge += b'"event": "payment.failed", "txn_id": "t2"}\n'
    with pytest.raises(
        InputError,
        match=rf"^logs/pod-a.jsonl: line 2 is {len(huge) - 1} bytes, longer than the 1 MiB "
        r"limit, holding a failure event \(payment.failed\) after its first 4096 characters: "
        "quarantined",
    ):
        stage(tmp_path, [GOOD + b"\n", huge, GOOD + b"\n"], quality={"line_checks": line_checks})


def test_a_line_over_one_mebibyte_naming_another_event_is_quarantined(tmp_path):
    # `payment.failed_retry` is another event's name, past the preview as in it
    huge = b'{"ts": "2025-01-07T20:00:00Z", "body": "' + b"a" * (1 << 20) + b'", '
    huge += b'"event": "payment.failed_retry"}\n'
    con = stage(tmp_path, [huge, GOOD + b"\n"])
    assert [row[2] for row in quarantined(con)] == ["quarantined", "relevant"]


def test_a_short_escape_in_a_failure_event_makes_every_escaped_line_capable(tmp_path):
    # `payment/failed` may be written `payment\/failed` in JSON: any backslash counts
    escaped = b'{"ts": "2025-01-07T20:00:00Z", "event": "payment\\/failed", "txn_id": "t2"}\n'
    con = stage(
        tmp_path,
        [GOOD.replace(b"payment.failed", b"payment/failed") + b"\n", escaped],
        policy={"failure_events": ["payment/failed"]},
    )
    assert quarantined(con) == [(1, None, "relevant"), (2, None, "relevant")]


def test_a_line_over_one_mebibyte_is_quarantined_with_a_preview(tmp_path):
    huge = b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "pad": "' + b"a" * (1 << 20) + b'"}\n'
    con = stage(tmp_path, [huge, GOOD + b"\n"])
    (line, reason, bucket), _ = quarantined(con)
    assert (line, bucket) == (1, "quarantined")
    assert reason.startswith("line is 1048631 bytes, longer than the 1 MiB limit")
    out = tmp_path / "quarantine.jsonl"
    write_quarantine(con, out)
    entry = json.loads(out.read_text().splitlines()[0])
    assert entry["file"] == "logs/pod-a.jsonl" and entry["line"] == 1
    assert len(entry["raw"]) == framed.QUARANTINE_PREVIEW_CHARS


def test_a_bom_and_crlf_line_ends_are_read_as_text(tmp_path):
    con = stage(
        tmp_path, [b"\xef\xbb\xbf" + GOOD + b"\r\n", json.dumps(failure("t2")).encode() + b"\r\n"]
    )
    assert quarantined(con) == [(1, None, "relevant"), (2, None, "relevant")]


@pytest.mark.parametrize("lines", [3, 20_000])  # the whole file one line, or one over 1 MiB
def test_lines_ended_by_a_cr_alone_stop_the_run_naming_the_file(tmp_path, lines):
    # Read by LF, the file was one line quarantined: its failures were lost under the
    # quarantine limit beside other files, and the run passed.
    with pytest.raises(InputError, match=r"^logs/pod-a.jsonl: its lines end in a CR alone"):
        stage(tmp_path, [b"\xef\xbb\xbf" + b"".join(GOOD + b"\r" for _ in range(lines))])


@pytest.mark.parametrize(
    ("data", "buckets"),
    [
        (GOOD + b"\r", ["relevant"]),  # one line without an LF: its CR ends it, as in CRLF
        # a CR between two keys is JSON's white space: a file with LF line ends is read by LF
        (
            b'{"ts": "2025-01-07T20:00:00Z",\r"event": "x"}\n' + GOOD + b"\n",
            ["irrelevant", "relevant"],
        ),
    ],
)
def test_a_file_with_lf_line_ends_or_one_line_is_read_whatever_its_crs(tmp_path, data, buckets):
    assert [row[2] for row in quarantined(stage(tmp_path, [data]))] == buckets


QUIET = [{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats", "n": i} for i in range(3)]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_json_array_holding_failure_events_stops_the_run_naming_its_line(tmp_path, line_checks):
    # 49 failures batched into one line (an HTTP output's JSON array) were one quarantined
    # line beside a file of quiet ones, under the gate's quarantine limits: never credited.
    batch = [failure(f"t{i}") for i in range(48)] + [{**QUIET[0], "msg": "payment.failed"}]
    batch.insert(3, failure("t48"))
    path = write_incident(
        tmp_path / "inc",
        lines=[*QUIET, json.dumps(batch).encode() + b"\n", *QUIET],
        quality={"line_checks": line_checks},
    )
    with pytest.raises(InputError) as raised:
        reconcile_incident(path, tmp_path)
    assert str(raised.value).startswith(
        "logs/pod-a.jsonl: line 4 is a JSON array of 50 records, 49 of them failure events "
        "(payment.failed): "
    )
    assert "one record (a JSON object) per line" in str(raised.value)


@pytest.mark.parametrize(
    ("head", "log_name"),
    [
        (json.dumps(QUIET[0]), "logs/pod-a.jsonl"),  # a whole record without its line feed
        ('{"ts": "2025-01-07T20:00:00Z", "event": "db.po', "logs/pod-a.jsonl"),  # cut mid-write
        ('{"ts": "2025-01-07T20:00:00Z", "event": "db.po', "logs/pod-a.jsonl.gz"),  # gzip members
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_glued_after_a_line_without_its_line_feed_stops_the_run(
    tmp_path, head, log_name, line_checks
):
    # Rotated files joined (cat a.log b.log, cat a.log.gz b.log.gz), the first not ending in a
    # line feed (its writer killed mid-line): the next file's first record is glued onto its
    # last line, quarantined as not valid JSON, its failure one item under the limit.
    rest = [
        json.dumps(failure("t1")).encode() + b"\n",
        *(json.dumps(q).encode() + b"\n" for q in QUIET),
    ]
    first = b"".join(json.dumps(q).encode() + b"\n" for q in QUIET) + head.encode()
    if log_name.endswith(".gz"):
        data = gzip.compress(first, mtime=0) + gzip.compress(b"".join(rest), mtime=0)
    else:
        data = first + b"".join(rest)
    path = write_incident(
        tmp_path / "inc", lines=[], quality={"line_checks": line_checks}, log_name=log_name
    )
    (tmp_path / "inc" / log_name).write_bytes(data)
    assert stopped(path, tmp_path).startswith(
        f"{log_name}: line 4 holds a record holding a failure event (payment.failed) after "
        "other text (not valid JSON): quarantined, it would be one item under the quarantine "
        "limit and its failure never credited. The text is the end of a file that did not end "
        "in a line feed, joined to the next"
    )


@pytest.mark.parametrize(
    "line",
    [
        '{"ts": "2025-01-07T20:00:00Z", "event": "db.po' + json.dumps(QUIET[0]),  # no failure
        '{"event": "payment.failed", "txn_id": "t1", {"x": 1}',  # the failure in the cut part
        '{"msg": "payment.failed {not json}"}x',  # no record after the cut
    ],
)
def test_a_line_without_a_glued_failure_record_is_quarantined(tmp_path, line):
    path = write_incident(tmp_path / "inc", lines=[line], quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select bucket, quarantine_reason from int_log_lines_bucketed").fetchall() == [
        ("quarantined", "not valid JSON")
    ]


RED, RESET = "\x1b[31m", "\x1b[0m"  # a terminal's colour codes (SGR), as loggers write them
WORDS = r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"


@pytest.mark.parametrize(
    ("line", "log_format"),
    [
        (RED + json.dumps(failure("t1")) + RESET, {}),  # a logger colouring its error lines red
        (RED + json.dumps(failure("t1")), {}),  # its reset on the next line
        (json.dumps(failure("t1")).replace('"payment', RED + '"payment', 1), {}),  # a field only
        (
            f"{RED}2025-01-07T20:00:00Z payment.failed t1{RESET}",
            {"kind": "regex", "pattern": WORDS},
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_in_colour_codes_stops_the_run(tmp_path, line, log_format, line_checks):
    # Colour codes make the line no record (not valid JSON, no match): quarantined beside the
    # service's other lines, its failure was one item under the quarantine limit.
    path = write_incident(
        tmp_path / "inc",
        lines=[*QUIET, line],
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
    )
    assert stopped(path, tmp_path).startswith(
        "logs/pod-a.jsonl: line 4 holds a failure event (payment.failed) among terminal colour "
        "codes (ESC [ ... m): quarantined, it would be one item under the quarantine limit and "
        "its failure never credited. Have the service log without colour"
    )


def test_a_line_in_colour_codes_without_a_failure_is_quarantined(tmp_path):
    line = RED + json.dumps(QUIET[0]) + RESET
    path = write_incident(tmp_path / "inc", lines=[line], quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select bucket from int_log_lines_bucketed").fetchall() == [("quarantined",)]


@pytest.mark.parametrize(
    ("line", "log_format"),
    [
        # the service's own text naming the event, each no failure record: a coloured
        # traceback, a stats line ending in an object, a debug dump over many lines
        (f"{RED}ERROR{RESET} retry after payment.failed t1", {}),
        (RED + json.dumps({"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}), {}),
        (
            f"{RED}2025-01-07T20:00:00Z db.retry payment.failed{RESET}",
            {"kind": "regex", "pattern": WORDS},
        ),
        ('stats {"payment.failed": 3, "payment.succeeded": 120}', {}),
        ('notify {"msg": "after payment.failed"}', {}),
        ('    "payment.failed": 12,', {}),
        ('  "type" : "payment.failed",', {}),
    ],
)
def test_text_naming_a_failure_event_that_is_no_failure_record_is_quarantined(
    tmp_path, line, log_format
):
    # Only a failure record that the quarantine would hide stops a run: a line that merely
    # names the event is the service's own text, quarantined as its uncoloured form would be
    path = write_incident(
        tmp_path / "inc",
        lines=[*QUIET, line],
        sources={"log_format": log_format},
        quality={"line_checks": "all"},
    )
    con = reconcile_incident(path, tmp_path)
    buckets = con.sql("select line, bucket from int_log_lines_bucketed order by line").fetchall()
    assert buckets[-1] == (4, "quarantined")


GCLOUD_ENTRY = {"insertId": "a1", "jsonPayload": failure("t1"), "timestamp": "2025-01-07T20:00:00Z"}
GCLOUD_TEXT_ENTRY = {"insertId": "a2", "textPayload": json.dumps(failure("t1"))}
CLOUDWATCH_EVENT = {"timestamp": 1736280000000, "message": json.dumps(failure("t1"))}


@pytest.mark.parametrize(
    ("text", "log_format", "line"),
    [
        # gcloud logging read --format=json: an array, each entry over many lines
        (json.dumps([GCLOUD_ENTRY], indent=2), {"event": "jsonPayload.event"}, 6),
        # jq . (without -c) of the service's JSON lines
        (json.dumps(failure("t1"), indent=2), {}, 3),
        # journalctl -o json-pretty: tab-indented, `"KEY" : value`
        (
            "{\n\t" + json.dumps("MESSAGE") + " : " + json.dumps(json.dumps(failure("t1"))) + "\n}",
            {"payload": "MESSAGE"},
            2,
        ),
        # ... a failure record as a member's text, whatever the payload setting: the AWS CLI's
        # default output of aws logs get-log-events, a text entry of gcloud logging read
        (json.dumps({"events": [CLOUDWATCH_EVENT], "nextForwardToken": "f/1"}, indent=4), {}, 5),
        (json.dumps([GCLOUD_TEXT_ENTRY], indent=2), {}, 4),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_pretty_printed_json_holding_a_failure_stops_the_run(
    tmp_path, text, log_format, line, line_checks
):
    # Each line of a document printed over many lines is quarantined: the failure, on one of
    # them, was one item under the quarantine limit beside a file of the service's lines.
    path = write_incident(
        tmp_path / "inc",
        lines=[*QUIET[:1], *text.splitlines()],
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
    )
    message = stopped(path, tmp_path)
    assert message.startswith(
        f"logs/pod-a.jsonl: line {line + 1} is a line of a JSON document printed over many "
        "lines, holding a failure event (payment.failed): quarantined, it would be one item "
        "under the quarantine limit and its failure never credited."
    )
    assert "jq -c" in message


@pytest.mark.parametrize(
    ("wrap", "log_format"),
    [
        (lambda line: f"2025-01-07T20:00:00.1Z stdout F {line}", {"envelope": "cri"}),
        (lambda line: json.dumps({"date": 1736280000.5, "log": line}), {"payload": "log"}),
    ],
)
def test_a_service_printing_its_records_over_many_lines_is_told_to_write_one_a_line(
    tmp_path, wrap, log_format
):
    # The collector kept each line the service printed: no export of the file makes a record
    # of them (the message once told to run jq over the file, as for an export); the service
    # must log one record a line
    lines = [wrap(line) for line in json.dumps(failure("t1"), indent=2).splitlines()]
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format})
    message = stopped(path, tmp_path)
    assert "is a line of a JSON document printed over many lines" in message
    assert message.endswith(
        "The service printed each record over many lines, each kept as a record of its own by "
        "the collector: have it log each record on one line (compact JSON), then run again"
    ), message


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([{"insertId": "a1", "jsonPayload": QUIET[0]}], indent=2),  # no failure
        '  "event": "payment.failed_retry",',  # another event, whose name starts so
        '    "message": "payment.failed t1",',  # the service's text naming it: no record
    ],
)
def test_pretty_printed_json_without_a_failure_is_quarantined(tmp_path, text):
    path = write_incident(tmp_path / "inc", lines=text.splitlines(), quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert {row[0] for row in con.sql("select bucket from int_log_lines_bucketed").fetchall()} == {
        "quarantined"
    }


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_json_array_of_json_lines_holding_a_failure_stops_the_run(tmp_path, line_checks):
    # A batch of the service's lines kept as strings (an output's array of raw messages):
    # quarantined, its failure was one line under the quarantine limit.
    batch = json.dumps([json.dumps(QUIET[0]), json.dumps(failure("t1"))]).encode()
    path = write_incident(
        tmp_path / "inc", lines=[*QUIET, batch + b"\n"], quality={"line_checks": line_checks}
    )
    with pytest.raises(InputError, match=r"^logs/pod-a.jsonl: line 4 is a JSON array of 2 "):
        reconcile_incident(path, tmp_path)


@pytest.mark.parametrize(
    "line",
    [
        b"[1, 2]\n",  # no record in it
        b'[[{"event": "payment.failed"}]]\n',  # none at its top level
        # records, none a failure event (the name elsewhere makes the line failure-capable)
        json.dumps([{**QUIET[0], "msg": "payment.failed"}, {"event": "payment.sent"}]).encode(),
        json.dumps(QUIET).encode(),  # quiet records: the shape check's, unparsed
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_json_array_holding_no_failure_event_is_quarantined(tmp_path, line, line_checks):
    con = stage(tmp_path, [*QUIET, line], quality={"line_checks": line_checks})
    assert [row[1:] for row in quarantined(con) if row[0] == 4] == [
        (
            "not one JSON object (shape check)"
            if line_checks == "failure_capable" and b"payment.failed" not in line
            else "JSON array, not an object",
            "quarantined",
        )
    ]


def test_non_payment_events_need_only_ts_and_event(tmp_path):
    con = stage(
        tmp_path,
        [b'{"ts": "2025-01-07T20:00:00Z", "event": "http.request", "amount_minor": "x"}\n'],
    )
    assert quarantined(con) == [(1, None, "irrelevant")]


def test_quarantine_file_names_file_line_reason_and_raw_text(tmp_path):
    con = stage(tmp_path, [GOOD + b"\n", b"oops\n"], log_name="logs/pod-a.jsonl.gz")
    out = tmp_path / "quarantine.jsonl"
    assert write_quarantine(con, out) == 1
    assert json.loads(out.read_text()) == {
        "file": "logs/pod-a.jsonl.gz",
        "line": 2,
        "reason": "not one JSON object (shape check)",
        "raw": "oops",
    }


def test_a_truncated_gzip_names_the_file_and_the_last_good_line(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"] * 2000, log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    log.write_bytes(log.read_bytes()[:-30])
    with pytest.raises(
        InputError, match=r"logs/a.jsonl.gz: the gzip stream is truncated or corrupt after line \d+"
    ):
        reconcile_incident(path, tmp_path)


def test_a_corrupt_gzip_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    data = bytearray(log.read_bytes())
    data[20:30] = b"\x00" * 10
    log.write_bytes(bytes(data))
    with pytest.raises(
        InputError, match=r"logs/a.jsonl.gz: the gzip stream is truncated or corrupt"
    ):
        reconcile_incident(path, tmp_path)


@pytest.mark.parametrize(
    ("junk", "shown"),
    [
        (b"junk", "6a 75 6e 6b"),  # shorter than a gzip header: was "ends before its end marker"
        (b"\x00\x00tail of a log\n", "74 61 69 6c 20 6f 66 20"),  # zero padding, then text
    ],
)
def test_bytes_after_the_end_of_a_gzip_stream_are_named_as_such(tmp_path, junk, shown):
    # Every member was read to its end marker: "truncated or corrupt" was untrue. The bytes may
    # be a damaged member holding lines, so the run still stops (exit 2), naming them.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    log.write_bytes(log.read_bytes() + junk)
    with pytest.raises(InputError) as raised:
        reconcile_incident(path, tmp_path)
    assert str(raised.value).startswith(
        f"logs/a.jsonl.gz: has bytes after the end of its gzip stream that are not gzip ({shown}"
    )
    assert "after line 1" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (bytes(range(256)) * 40, "binary data, not gzip's 1f 8b"),  # junk, not text
        (b"BZh91AY&SY" + bytes(range(128, 256)) * 10, "bzip2 data"),  # another compressor
    ],
)
def test_a_gz_file_that_is_not_gzip_names_the_file_and_what_it_holds(tmp_path, content, named):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    (tmp_path / "inc/logs/a.jsonl.gz").write_bytes(content)
    with pytest.raises(
        InputError, match=rf"logs/a.jsonl.gz: named .gz but it is not gzip \({named}\)"
    ):
        reconcile_incident(path, tmp_path)


@pytest.mark.parametrize(
    ("compress", "named"),
    [
        (bz2.compress, "bzip2 data"),
        (lzma.compress, "xz data"),
        (lambda data: b"\x28\xb5\x2f\xfd" + data, "zstd data"),  # the OTel exporter's
        (lambda data: data.decode().encode("utf-16"), "UTF-16 text"),  # with its BOM
        # UTF-32's BOM starts as UTF-16 LE's: it was named "UTF-16 text"
        (lambda data: data.decode().encode("utf-32"), "UTF-32 text"),  # little-endian
        (lambda data: b"\0\0\xfe\xff" + data.decode().encode("utf-32-be"), "UTF-32 text"),
    ],
)
@pytest.mark.parametrize("envelope", ["none", "otlp"])
def test_a_file_of_any_name_holding_another_compressor_s_data_stops_the_run(
    tmp_path, compress, named, envelope
):
    # Read as text, 20 failures were two junk lines, under the quarantine limit: not paid.
    path = write_incident(
        tmp_path / "inc",
        lines=[GOOD + b"\n"],
        log_name="logs/b.log.zst",
        sources={"log_format": {"envelope": envelope}} if envelope != "none" else None,
    )
    (tmp_path / "inc/logs/b.log.zst").write_bytes(compress((GOOD + b"\n") * 20))
    with pytest.raises(InputError, match=rf"logs/b.log.zst: holds {named}, which is not read as"):
        reconcile_incident(path, tmp_path)


JUNK = b"\x00\x01\x02binary\xfe\n"  # a line of binary junk
NOT_TEXT = bytes(range(256)) * 4  # binary data: lines of control characters and non-UTF-8


def _read(tmp_path, data: bytes, name: str = "pod-a.jsonl") -> bytes | str:
    """The file's bytes as the framing reads them, or the message of the run's error."""
    log = tmp_path / name
    log.write_bytes(data)
    try:
        return b"".join(source.Source(log).pieces())
    except source.STREAM_ERRORS as error:
        return str(source.stream_error(f"logs/{name}", error, "line 0"))


@pytest.mark.parametrize(
    "data",
    [
        NOT_TEXT,  # not one line of text
        NOT_TEXT * 4 + (GOOD + b"\n") * 10,  # more than half the lines, text after them
        gzip.compress(NOT_TEXT),  # inside gzip
        JUNK,  # a file of one junk line
        JUNK * 2 + GOOD + b"\n",  # more than half its lines
        b"\x00" * 20 + NOT_TEXT,  # after zero padding, binary all the same
    ],
)
def test_a_log_file_that_is_binary_stops_the_run(tmp_path, data):
    # Read as lines, binary data was a few junk lines quarantined, under the gate's
    # min_quarantined_lines: a small file's failures were lost unseen.
    message = _read(tmp_path, data)
    assert isinstance(message, str)
    assert message.startswith("logs/pod-a.jsonl: looks like binary data, not text (")
    assert message.endswith(
        "convert it to UTF-8 text (plain or gzip), or leave it out of sources.logs"
    )


@pytest.mark.parametrize(
    "data",
    [
        JUNK + (GOOD + b"\n") * 3,  # a junk line among text lines: quarantined, as before
        JUNK + GOOD + b"\n",  # half its lines: not more
        (GOOD + b"\n") * 3 + b"\x00" * 5000 + GOOD + b"\n",  # a crash's zero padding
        b"\x00" * 8192 + (GOOD + b"\n") * 3,  # copytruncate: a writer at its old offset
        b"\x00" * 16 + GOOD + b"\n",  # the shortest padding set aside
        b"\x1b[31m" + GOOD + b"\x1b[0m\n",  # colour codes (ESC) are text
        "caf\u00e9".encode("latin-1") + b"\n",  # Latin-1: not UTF-8, quarantined line by line
        # 4 KiB of damage at the start of a long file: its 17 lines among 100 are quarantined,
        # as the same damage of 512 bytes is (it was refused whole, judged on 4096 bytes)
        NOT_TEXT * 4 + (GOOD + b"\n") * 100,
        # a bell, a backspace, a shift out and in: a terminal's, in text lines a service wrote
        b'level=warn msg="ding\x07 b\x08B \x0e\xe2\x94\x80\x0f"\n' * 3,
        b"",  # an empty file
    ],
)
def test_text_with_a_few_bad_lines_or_zero_padding_is_read(tmp_path, data):
    assert _read(tmp_path, data) == data


TEXT = (GOOD + b"\n") * 40  # text lines enough that a few junk ones are not binary data


def _framing_error(tmp_path, data: bytes, screen: Screen | None = None) -> str | None:
    """The message of the error framing `data` stops at, None when it reads to the end."""
    log = tmp_path / "pod-a.log"
    log.write_bytes(data)
    framer = framing.Framer(1, "logs/pod-a.log", source.Source(log), screen)
    for _ in framer.blocks():
        pass
    return None if framer.error is None else str(framer.error)


def test_a_block_of_many_short_lines_is_framed_in_parts(tmp_path, monkeypatch):
    # A gzip of 100 KB that is 100 M blank lines (a decompression bomb) was framed 4 MiB, 4 M
    # lines, at a time: 1.5 GB of the framing's arrays. Each part holds at most the limit,
    # numbered on from the one before; a line longer than a part's bytes is whole in one.
    monkeypatch.setattr(framing, "MAX_BLOCK_LINES", 100)
    lines = [GOOD, *[b""] * 1000, b"x" * 5000, *[b"x"] * 7, GOOD]
    log = tmp_path / "pod-a.log"
    log.write_bytes(b"".join(line + b"\n" for line in lines))
    framer = framing.Framer(1, "logs/pod-a.log", source.Source(log))
    blocks = list(framer.blocks())
    assert max(block.num_rows for block in blocks) <= 100
    rows = pa.Table.from_batches(blocks, framed.FRAMED_SCHEMA).to_pylist()
    assert [row["line"] for row in rows] == list(range(1, len(lines) + 1))
    assert [row["raw"] for row in rows] == [line.decode() + "\n" for line in lines]


@pytest.mark.parametrize(
    "compress",
    [
        gzip.compress,
        bz2.compress,
        lzma.compress,
        lambda data: b"\x28\xb5\x2f\xfd\x04\x58" + data,  # zstd's magic and frame header
    ],
    ids=["gzip", "bzip2", "xz", "zstd"],
)
def test_a_compressed_file_appended_to_a_text_one_stops_the_run(tmp_path, compress):
    # 300 failures gzipped between text lines were 5 junk lines, under the gate's
    # min_quarantined_lines: lost unseen. The line holding its magic bytes names it.
    data = TEXT + compress((GOOD + b"\n") * 300) + TEXT
    message = _framing_error(tmp_path, data)
    assert message is not None
    assert message.startswith(
        "logs/pod-a.log: holds compressed data at line 41: a compressed file was appended to a "
        "text one ("
    )


@pytest.mark.parametrize(
    "junk",
    [
        b"\x00\x01\x02binary\xfe",  # junk of no compressor: quarantined as before
        b"\x1f\x8b BZh9 \xfd7zX \xff",  # a magic's first bytes alone
        b"BZh91AY&SY",  # bzip2's header in a line that is text: not quarantined by the framing
    ],
)
def test_a_junk_line_without_a_compressor_s_magic_is_framed(tmp_path, junk):
    assert _framing_error(tmp_path, TEXT + junk + b"\n" + TEXT) is None


def test_compressed_data_in_an_otlp_file_stops_the_run_naming_its_line(tmp_path):
    path = write_incident(
        tmp_path / "inc",
        lines=[TEXT + gzip.compress(TEXT * 10) + TEXT],
        sources={"log_format": {"envelope": "otlp"}},
    )
    with pytest.raises(InputError, match=r"pod-a.jsonl: holds compressed data at lines 41-"):
        reconcile_incident(path, tmp_path)


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_zero_padding_before_a_line_is_skipped_and_the_line_read(tmp_path, line_checks):
    # A copytruncate rotation (the writer at its old offset) or a crash (the file extended, its
    # data never written) leaves NUL bytes glued to the next line: quarantined, a failure
    # there was one line under the quarantine limit, never credited. They are no record's.
    quiet = b'{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}'
    lines = [
        GOOD + b"\n",  # a line before the padding: read as ever
        b"\x00" * 5000 + GOOD.replace(b"t1", b"t2") + b"\r\n",  # a failure after padding
        b"\x00" * (9 << 20) + GOOD.replace(b"t1", b"t4") + b"\n",  # a hole past the line limit
        b"\x00" + quiet + b"\n",  # a quiet line after one NUL: irrelevant, not quarantined
        b"\x00" * 4096,  # padding alone at the end: a line of no text
    ]
    con = stage(tmp_path, lines, quality={"line_checks": line_checks})
    assert quarantined(con) == [
        (1, None, "relevant"),
        (2, None, "relevant"),
        (3, None, "relevant"),
        (4, None, "irrelevant"),
        (5, "not valid JSON" if line_checks == "all" else SHAPE, "quarantined"),
    ]
    # the irrelevant and the quarantined line carry no id
    assert rows(con, "int_log_lines_bucketed", "txn_id") == [
        ("t1",),
        ("t2",),
        ("t4",),
        (None,),
        (None,),
    ]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_byte_order_mark_at_a_lines_start_is_skipped(tmp_path, line_checks):
    # Files that each began with a BOM, concatenated (`cat a.log b.log`, gzip members): the
    # second file's first line was quarantined as not valid JSON, a failure there lost.
    bom = b"\xef\xbb\xbf"
    quiet = b'{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}'
    lines = [bom + GOOD + b"\n", bom + GOOD.replace(b"t1", b"t2") + b"\n", bom + quiet + b"\n"]
    con = stage(tmp_path, lines, quality={"line_checks": line_checks})
    assert quarantined(con) == [
        (1, None, "relevant"),
        (2, None, "relevant"),
        (3, None, "irrelevant"),
    ]


@pytest.mark.parametrize("screened", [False, True], ids=["all", "failure_capable"])
@pytest.mark.parametrize(
    ("padded", "error"),
    [
        # a line the crash cut, its padding, then the line written after it: one line, quarantined
        # whole, and a failure after the padding lost under the quarantine limit
        (GOOD[:-9] + b"\x00" * 64 + GOOD + b"\n", "line 2 holds zero padding between "),
        # however few the NULs: a crash's unwritten tail is of any length
        (GOOD[:-9] + b"\x00" * 15 + GOOD + b"\n", "line 2 holds zero padding between "),
        (GOOD[:-9] + b"\x00" + GOOD + b"\n", "line 2 holds zero padding between "),
        (GOOD[:-9] + b"\x00" * 64 + b"\n", None),  # a cut line and its padding: quarantined
        (b"cut" + b"\x00" * 16 + b"x\n", None),  # no record after the NULs: quarantined
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 24 + b"\x02\x00>\x00\n", None),  # binary junk
    ],
)
def test_zero_padding_after_a_cut_line_stops_the_run(tmp_path, padded, error, screened):
    screen = Screen.of(("payment.failed",), incident.LogFormat()) if screened else None
    got = _framing_error(tmp_path, GOOD + b"\n" + padded + GOOD + b"\n", screen)
    if error is None:
        assert got is None
    else:
        assert got is not None
        assert got.startswith("logs/pod-a.log: " + error)
        assert "tr -s '\\000' '\\n'" in got


@pytest.mark.parametrize("screened", [False, True], ids=["all", "failure_capable"])
@pytest.mark.parametrize("message", [GOOD + b"\r", GOOD + b" " * 300 + b"\r"])
def test_a_binary_field_of_journalctl_export_is_named_so(tmp_path, message, screened):
    # journalctl -o export writes a field holding a control character (a CRLF line's CR) as its
    # name on a line, then its length in 8 bytes (little-endian) and its bytes: once named zero
    # padding after a cut line, to be split with tr, which made no record of it
    entry = b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1736280000500000\nPRIORITY=6\n"
    entry += b"MESSAGE\n" + len(message).to_bytes(8, "little") + message + b"\n_PID=42\n\n"
    screen = Screen.of(("payment.failed",), incident.LogFormat()) if screened else None
    got = _framing_error(tmp_path, entry, screen)
    assert got is not None
    assert got.startswith(
        "logs/pod-a.log: line 5 is a binary field of journalctl -o export (its name, MESSAGE, "
        "on line 4, then its length in 8 bytes and its bytes), which no setting reads: export "
        'with journalctl -o json and set payload = "MESSAGE"'
    ), got


def _tar(data: bytes) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo("pod-a.jsonl")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "pack", "named"),
    [
        ("b.log.gz", lambda d: gzip.compress(bz2.compress(d)), "bzip2 data inside gzip"),
        ("b.log.gz", lambda d: gzip.compress(d.decode().encode("utf-16")), "UTF-16 text inside"),
        ("b.tar.gz", lambda d: gzip.compress(_tar(d)), "a tar archive inside gzip"),
        ("b.tar", _tar, "a tar archive"),
    ],
)
def test_what_a_gzip_stream_or_a_tar_holds_is_sniffed_too(tmp_path, name, pack, named):
    # The tar header glued to the first line, one failure per member lost under the limit.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name=f"logs/{name}")
    (tmp_path / "inc/logs" / name).write_bytes(pack((GOOD + b"\n") * 20))
    with pytest.raises(InputError, match=rf"logs/{name}: holds {named}"):
        reconcile_incident(path, tmp_path)


@pytest.mark.parametrize("layers", [2, 3])
@pytest.mark.parametrize("members", [1, 3])
def test_gzip_inside_gzip_is_read_through(tmp_path, layers, members):
    # Firehose's own GZIP over CloudWatch's: read as text it was one junk line, 20 failures
    # under the quarantine limit, the run passed without them.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/b.log.gz")
    lines = [f'{{"n": {n}}}\n'.encode() for n in range(members - 1)] + [GOOD + b"\n"] * 20
    packed = b"".join(gzip.compress(line) for line in lines)  # one member a record, as CloudWatch
    for _ in range(layers - 1):
        packed = gzip.compress(packed)
    (tmp_path / "inc/logs/b.log.gz").write_bytes(packed)
    con = reconcile_incident(path, tmp_path)
    assert con.execute("select count(*) from stg_failures").fetchall() == [(1,)]  # one payment
    profile = con.table("int_file_profile").select(
        "lines", "irrelevant", "duplicates", "quarantined"
    )
    assert profile.fetchall() == [(members + 19, members - 1, 19, 0)]


def test_gzip_nested_deeper_than_read_stops_the_run(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/b.log.gz")
    packed = (GOOD + b"\n") * 20
    for _ in range(4):
        packed = gzip.compress(packed)
    (tmp_path / "inc/logs/b.log.gz").write_bytes(packed)
    with pytest.raises(InputError, match=r"logs/b.log.gz: holds gzip inside gzip 3 times over"):
        reconcile_incident(path, tmp_path)


def test_a_text_log_starting_with_bzh_is_read_as_text(tmp_path):
    line = b'BZh9 {"ts": "x"}\n'  # "BZh" and a digit, then no bzip2 block
    path = write_incident(tmp_path / "inc", lines=[line, GOOD + b"\n"], log_name="logs/a.log")
    con = reconcile_incident(path, tmp_path)
    assert con.execute("select count(*) from stg_failures").fetchone()[0] == 1


def test_a_plain_text_log_named_gz_is_still_read(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    (tmp_path / "inc/logs/a.jsonl.gz").write_bytes(GOOD + b"\n")  # mislabelled, but text
    con = reconcile_incident(path, tmp_path)
    assert con.execute("select count(*) from stg_failures").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("glob", "hint"),
    [
        ("logs", "it names a folder, whose files a glob names: 'logs/*' (or 'logs/**/*')"),
        ("logs/", "it names a folder, whose files a glob names: 'logs/*' (or 'logs/**/*')"),
        ("~/logs/*", "~ and $VARIABLES are not expanded: write the folder's path itself"),
        ("$LOGS/*.gz", "~ and $VARIABLES are not expanded: write the folder's path itself"),
    ],
)
def test_a_glob_matching_no_file_says_what_it_may_have_meant(tmp_path, glob, hint):
    # `logs = ["logs"]` matched the folder, and said only "matches no file"
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": [glob]})
    with pytest.raises(InputError, match=r"matches no file") as raised:
        logs.expand(incident.load(path).sources.logs, path.parent)
    assert str(raised.value).endswith(f"; {hint}")


def test_a_glob_matching_no_file_is_an_input_error(tmp_path):
    path = write_incident(
        tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["nothing/*.gz"]}
    )
    with pytest.raises(
        InputError, match=r"sources.logs: 'nothing/\*.gz' matches no file"
    ) as raised:
        logs.expand(incident.load(path).sources.logs, path.parent)
    assert f"(looked in {path.parent}; a path in the incident file is read from" in str(
        raised.value
    )


@pytest.mark.parametrize(
    ("folder", "sibling"),
    [
        ("INC [2025]", None),  # read as a pattern: `[2025]` is one of 2, 0, 5, so no file matched
        ("INC *", "INC other"),  # read as a pattern: it read the other incident's logs too
    ],
)
def test_the_incident_folders_name_is_no_pattern(tmp_path, folder, sibling):
    path = write_incident(tmp_path / folder, lines=[GOOD + b"\n"])
    if sibling:
        write_incident(tmp_path / sibling, lines=[GOOD + b"\n"], log_name="logs/pod-b.jsonl")
    found = logs.expand(incident.load(path).sources.logs, path.parent)
    assert found == [path.parent / "logs" / "pod-a.jsonl"]


@pytest.mark.parametrize("kind", ["broken", "loop"])
def test_a_log_that_is_a_dangling_symbolic_link_is_an_input_error(tmp_path, kind):
    # Kubernetes' /var/log/containers/*.log are links: one whose pod log is gone is not skipped
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["logs/*"]})
    folder = path.parent / "logs"
    if kind == "broken":
        (folder / "gone.jsonl").symlink_to("nothere.jsonl")
    else:
        (folder / "loop1.jsonl").symlink_to("loop2.jsonl")
        (folder / "loop2.jsonl").symlink_to("loop1.jsonl")
    with pytest.raises(InputError, match=r"sources.logs: logs/(gone|loop\d).jsonl is a symbolic"):
        logs.expand(incident.load(path).sources.logs, path.parent)


def test_a_log_whose_name_is_not_utf8_is_an_input_error_naming_it(tmp_path):
    # A file copied from a Latin-1 share (`pod-\xe9.jsonl`): its name reached the listing as
    # text Arrow cannot encode, a UnicodeEncodeError's traceback (exit 1).
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["logs/*"]})
    folder = bytes(path.parent / "logs")
    os.rename(folder + b"/pod-a.jsonl", folder + b"/pod-\xe9.jsonl")
    with pytest.raises(InputError, match=r"^sources.logs: logs/pod-\\xe9.jsonl: its name is not"):
        logs.expand(incident.load(path).sources.logs, path.parent)


@pytest.mark.parametrize(
    ("glob", "folder", "read"),
    [
        ("logs/*", "x.jsonl", None),
        ("logs/*.gz", "pod-b.2025-01-07T20.jsonl.gz", None),
        # a folder beside the logs, as any glob's: passed over
        ("logs/*", "archive", ["pod-a.jsonl.gz"]),
        ("logs/*", "2025.01.07", ["pod-a.jsonl.gz"]),
        # a recursive glob reads into the folder: what it matched there is what was asked for
        ("logs/**/*.jsonl", "x.jsonl", ["x.jsonl/inner.jsonl"]),
        ("logs/**/*", "x.jsonl", ["pod-a.jsonl.gz", "x.jsonl/inner.jsonl"]),
    ],
)
def test_a_folder_named_as_a_log_file_is_an_input_error(tmp_path, glob, folder, read):
    # A folder `x.jsonl` the glob matched (a log unpacked into one) was passed over unread.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": [glob]})
    (path.parent / "logs" / "pod-a.jsonl").rename(path.parent / "logs" / "pod-a.jsonl.gz")
    (path.parent / "logs" / folder).mkdir()
    (path.parent / "logs" / folder / "inner.jsonl").write_bytes(GOOD + b"\n")
    if read is not None:
        expected = [path.parent / "logs" / name for name in read]
        assert logs.expand([glob], path.parent) == expected
        return
    with pytest.raises(InputError) as raised:
        logs.expand([glob], path.parent)
    assert str(raised.value) == (
        f"sources.logs: logs/{folder} is a folder named as a log file is: its files would go "
        f"unread; name them with a glob ('logs/{folder}/*'), or rename it, or narrow the glob"
    )


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_log_that_is_no_regular_file_is_an_input_error(tmp_path, kind):
    # A named pipe (or a link to /dev/null) the glob matched was left out without a word.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["logs/*"]})
    folder = path.parent / "logs"
    if kind == "fifo":
        os.mkfifo(folder / "b.jsonl")
    else:
        (folder / "b.jsonl").symlink_to("/dev/null")
    with pytest.raises(InputError, match=r"sources.logs: logs/b.jsonl is not a regular file"):
        logs.expand(incident.load(path).sources.logs, path.parent)


@pytest.mark.parametrize(
    "pattern", ["logs/**/*.jsonl", "logs/*/api/*.jsonl", "logs/*/*/*", "logs/*/*", "logs/pod-b/*"]
)
def test_a_folder_a_glob_cannot_list_is_the_machine_refusing(tmp_path, monkeypatch, pattern):
    # glob passes over a folder it may not list without a word: its pod's logs went unread.
    # The folder holding the files was not looked at (`logs/*/*.jsonl` skipped pod-b's logs
    # when pod-a's matched; `logs/pod-b/*` matched no file, exit 2)
    path = write_incident(
        tmp_path / "inc",
        lines=[GOOD + b"\n"],
        log_name="logs/pod-a/api/0.jsonl",
        sources={"logs": [pattern]},
    )
    (path.parent / "logs/pod-b/api").mkdir(parents=True)
    (path.parent / "logs/pod-b/api/0.jsonl").write_bytes(GOOD + b"\n")
    # As a user without the read and search permissions on pod-b (the tests run as root)
    refused, real_scandir, real_access = path.parent / "logs/pod-b", os.scandir, os.access

    def scandir(folder="."):
        where = os.readlink(f"/proc/self/fd/{folder}") if isinstance(folder, int) else folder
        if os.path.abspath(where) == str(refused):
            raise PermissionError(13, "Permission denied", str(where))
        return real_scandir(folder)

    def access(folder, mode, **kwargs):
        return os.path.abspath(folder) != str(refused) and real_access(folder, mode, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StorageError, match=r"^sources.logs: logs/pod-b cannot be listed \(Perm"):
        logs.expand(incident.load(path).sources.logs, path.parent)


@pytest.mark.parametrize("pattern", ["logs/pod-b/*", "logs/*/*.jsonl", "logs/**/*.jsonl"])
def test_a_folder_a_glob_may_list_but_not_pass_through_is_the_machine_refusing(
    tmp_path, monkeypatch, pattern
):
    # A folder with read but no search permission (0600): glob lists its names, but no file in
    # it can be looked at, and the first stat stopped the run with a PermissionError
    # (exit 4 advising to free space or make the folder writable).
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/pod-a/0.jsonl")
    path = with_sources(path, "glob.toml", logs=[pattern])
    (path.parent / "logs/pod-b").mkdir()
    (path.parent / "logs/pod-b/0.jsonl").write_bytes(GOOD + b"\n")
    # As a user without the search permission on pod-b (the tests run as root)
    refused, real_access = path.parent / "logs/pod-b", os.access

    def access(folder, mode, **kwargs):
        searched = os.path.abspath(folder) == str(refused) and mode & os.X_OK
        return not searched and real_access(folder, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StorageError, match=r"^sources.logs: logs/pod-b cannot be passed through"):
        logs.expand(incident.load(path).sources.logs, path.parent)


def test_every_line_is_in_one_bucket_per_file(tmp_path):
    lines = [
        GOOD + b"\n",
        GOOD + b"\n",
        b"bad\n",
        b'{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}\n',
    ]
    con = stage(tmp_path, lines)
    profile = (
        con.table("int_file_profile")
        .select(
            "lines", "parsed", "relevant", "irrelevant", "duplicates", "quarantined", "accounted"
        )
        .fetchall()
    )
    assert profile == [(4, 2, 1, 1, 1, 1, 4)]


def test_an_editors_backup_of_a_log_is_profiled_as_a_copy_not_as_no_payment_log(tmp_path):
    # `logs/*` read `pod-a.jsonl~` too: its lines all duplicates, it was warned about as "no
    # known payment event at all", not as the copy it is
    lines = [GOOD + b"\n", b'{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}\n']
    path = write_incident(tmp_path / "inc", lines=lines)
    (tmp_path / "inc/logs/pod-a.jsonl~").write_bytes(b"".join(lines))
    profile = reconcile_incident(path, tmp_path).table("int_file_profile")
    assert profile.select("file", "copied_share", "unknown_event_share").order(
        "file"
    ).fetchall() == [
        ("logs/pod-a.jsonl", 0.0, 0.0),
        ("logs/pod-a.jsonl~", 1.0, 0.0),  # a copy: said once, by its own warning
    ]


def test_a_rotated_log_re_sending_its_predecessors_last_lines_is_no_copy(tmp_path):
    # at-least-once shipping re-sends the last failure of pod-a-1 at the top of pod-a-2, whose
    # other lines are checked by shape only: copied_share was 1.0, warned as a copy
    stats = '{"ts": "2025-01-07T20:%02d:00Z", "event": "db.pool.stats"}\n'
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/pod-a-1.jsonl")
    later = [GOOD + b"\n", *(stats.encode() % m for m in range(1, 6))]
    (tmp_path / "inc/logs/pod-a-2.jsonl").write_bytes(b"".join(later))
    profile = reconcile_incident(path, tmp_path).table("int_file_profile")
    assert profile.select("file", "duplicates", "copied_share").order("file").fetchall() == [
        ("logs/pod-a-1.jsonl", 0, 0.0),
        ("logs/pod-a-2.jsonl", 1, 0.0),  # one line re-sent, not a copy of pod-a-1
    ]


def test_an_empty_file_gets_a_profile_row_with_no_lines(tmp_path):
    con = stage(tmp_path, [])
    assert con.table("int_file_profile").select("file", "lines", "accounted").fetchall() == [
        ("logs/pod-a.jsonl", 0, 0)
    ]


def test_gzip_and_plain_files_give_the_same_lines(tmp_path):
    lines = [GOOD + b"\n", b"oops\n"]
    plain = stage(tmp_path / "a", lines)
    zipped = stage(tmp_path / "b", lines, log_name="logs/pod-a.jsonl.gz")
    assert quarantined(plain) == quarantined(zipped)
    assert gzip.decompress((tmp_path / "b/inc/logs/pod-a.jsonl.gz").read_bytes()) == b"".join(lines)


# -- framing in blocks, pruning, partitions, clock skew ------------------------------------------


def all_lines(con) -> list[tuple]:
    return con.sql(
        "select file_id, line, bucket, quarantine_reason, raw, txn_id "
        "from int_log_lines_bucketed order by file_id, line"
    ).fetchall()


TRICKY = [
    b"\xef\xbb\xbf" + GOOD + b"\r\n",  # a BOM, then CRLF
    b"oops\n",
    json.dumps(failure("t2")).encode() + b"\r\n",
    b"\n",
    b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "pad": "' + b"a" * 300 + b'"}\n',  # "long"
    b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "bad": "\xff\xfe"}\n',
    GOOD + b"\n",  # a duplicate of line 1 (after its BOM and CRLF)
    json.dumps(failure("t3")).encode(),  # no line end at the end of the file
]


@pytest.mark.parametrize("log_name", ["logs/pod-a.jsonl", "logs/pod-a.jsonl.gz"])
def test_tiny_blocks_frame_the_same_lines_as_one_block(tmp_path, monkeypatch, log_name):
    monkeypatch.setattr(framed, "MAX_LINE_BYTES", 200)
    whole = all_lines(stage(tmp_path / "a", TRICKY, log_name=log_name))
    # Pieces and blocks far smaller than a line: every line crosses a block boundary.
    monkeypatch.setattr(source, "BLOCK_BYTES", 7)
    monkeypatch.setattr(source, "READ_BYTES", 5)
    assert all_lines(stage(tmp_path / "b", TRICKY, log_name=log_name)) == whole
    assert [(line, bucket) for _, line, bucket, *_ in whole] == [
        (1, "relevant"),
        (2, "quarantined"),
        (3, "relevant"),
        (4, "quarantined"),
        (5, "quarantined"),
        (6, "quarantined"),
        (7, "duplicate"),
        (8, "relevant"),
    ]
    assert whole[4][3] == "line is 355 bytes, longer than the 1 MiB limit"
    assert whole[5][3] == "invalid UTF-8 at byte 54 of the line"
    assert whole[5][4].endswith('"bad": "\\xff\\xfe"}')


def test_a_gzip_file_of_several_members_and_zero_padding_is_read_whole(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    second = json.dumps(failure("t2")).encode() + b"\n"
    log.write_bytes(log.read_bytes() + gzip.compress(second, mtime=0) + b"\x00" * 16)
    con = reconcile_incident(path, tmp_path)
    assert [row[5] for row in all_lines(con)] == ["t1", "t2"]


def test_a_file_holding_only_a_bom_is_one_blank_line(tmp_path):
    con = stage(tmp_path, [b"\xef\xbb\xbf"])
    assert quarantined(con) == [(1, "blank line", "quarantined")]


def test_partitions_and_file_order_do_not_change_a_line_bucket(tmp_path):
    lines = [GOOD + b"\n", b"oops\n", json.dumps(failure("t2")).encode() + b"\n"]
    path = write_incident(tmp_path / "inc", lines=lines, log_name="logs/a.jsonl")
    for name in ("b.jsonl", "c.jsonl.gz", "d.jsonl"):
        data = b"".join(lines[::-1])
        (tmp_path / "inc/logs" / name).write_bytes(
            gzip.compress(data) if name.endswith("gz") else data
        )
    loaded = incident.load(path)
    found = []
    for partitions in (1, 3):
        con = db.connect()
        read = logs.stage(
            con, loaded, tmp_path / f"work{partitions}", partitions=partitions, min_bytes=0
        )
        found.append((all_lines(con), [(f.name, f.lines, f.sha256) for f in read]))
    assert found[0] == found[1]
    buckets = [row[2] for row in found[0][0]]
    assert buckets.count("duplicate") == 6  # every line of b, c and d repeats one of a
    assert buckets.count("quarantined") == 4  # a malformed line is never a duplicate


def test_a_partition_rerun_is_never_spoiled_by_its_first_attempt(tmp_path, monkeypatch):
    # A Dask worker presumed dead may come back to life and write its partition again after the
    # rerun finished: each attempt writes its own folder and renames whole files into place.
    import threading

    import pyarrow.parquet as pq

    lines = [json.dumps(failure(f"t{i}")).encode() + b"\n" for i in range(2000)] + [b"oops\n"]
    loaded = incident.load(write_incident(tmp_path / "inc", lines=lines))
    (partition,) = logs.plan(loaded, 1).partitions
    reading, out = logs.Reading.of(loaded), tmp_path / "extracts"
    writing, resume = threading.Event(), threading.Event()
    write = mapper._Writers.write

    def stalled(writers, staged):
        if threading.current_thread().name == "late":
            writing.set()
            resume.wait(30)
        return write(writers, staged)

    monkeypatch.setattr(mapper._Writers, "write", stalled)
    rerun = logs.extract(partition, reading, out)
    late = threading.Thread(target=logs.extract, args=(partition, reading, out), name="late")
    late.start()
    assert writing.wait(30)  # the late attempt has its files open, half written
    counts = [pq.read_table(rerun.path(name)).num_rows for name in ("events", "quarantine")]
    resume.set()
    late.join(30)
    assert counts == [2000, 1]
    assert [p.name for p in out.iterdir()] == [rerun.folder.name]  # no attempt left behind


# A name's hour is trusted to an hour (`NAME_SLACK`): a file named by its rotation time holds
# the hour before its name, one closed late some of the next.
HOURLY = [
    ("logs/api.2025-01-07T17.jsonl", False),  # 17:00-18:00Z, an hour on, still before 19:15Z
    ("logs/api.2025-01-07T18.jsonl", True),  # rotated at 19:00Z, it may hold 19:15Z's lines
    ("logs/api.2025-01-07T19.jsonl", True),  # overlaps the window's start
    ("logs/api.2025-01-07T23.jsonl", True),  # overlaps its end (23:15Z)
    ("logs/dt=2025-01-08/hour=00/api.jsonl", True),  # named 00Z, it may hold 23:00-23:15Z
    ("logs/dt=2025-01-08/hour=01/api.jsonl", False),  # a hive path, after the window
    ("logs/api.jsonl", True),  # no hour in the name: always read
    # a folder named by an export's time says nothing of its files' lines
    ("logs/export-2025-01-08T03.00.00/b.jsonl", True),
    # a time of day, not an hour: a size-based rotation's file may hold any earlier hour
    ("logs/api.2025-01-08T03.15.22.jsonl", True),
]


def test_files_dated_outside_the_window_are_pruned_unopened(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["logs/**/*"]})
    (tmp_path / "inc/logs/pod-a.jsonl").unlink()
    for name, _ in HOURLY:
        (tmp_path / "inc" / name).parent.mkdir(parents=True, exist_ok=True)
        # Pruned files are corrupt gzip: opening one would stop the run.
        (tmp_path / "inc" / name).write_bytes(GOOD + b"\n" if _ else b"\x1f\x8bgarbage")
    con = db.connect()
    read = logs.stage(con, incident.load(path), tmp_path / "work")
    assert sorted((f.name, not f.pruned) for f in read) == sorted(HOURLY)
    assert all(f.lines == 0 and f.sha256 == "" for f in read if f.pruned)
    assert con.table("int_file_profile").count("*").fetchall() == [(7,)]


@pytest.mark.parametrize(
    ("name", "pruned"),
    [
        ("logs/api.2025-01-07T19.jsonl", False),  # 19Z in the window; 19 New York is not
        ("logs/api.2025-01-07T14.jsonl", False),  # 14 New York is 19Z: in the window
        ("logs/api.2025-01-07T12.jsonl", True),  # neither 12Z nor 17Z is an hour of 19:15Z
    ],
)
def test_a_name_s_hour_is_read_in_utc_and_in_the_logs_time_zone(tmp_path, name, pruned):
    # `logs_timezone` is for times without an offset; collectors name files in UTC as often as
    # in local time: a file is pruned only when neither reading can hold a line of the window.
    path = write_incident(
        tmp_path / "inc",
        lines=[GOOD + b"\n"],
        log_name=name,
        sources={"logs_timezone": "America/New_York"},
    )
    read = logs.stage(db.connect(), incident.load(path), tmp_path / "work")
    assert [f.pruned for f in read] == [pruned]


@pytest.mark.parametrize(("skew", "pruned"), [("0s", True), ("20min", False)])
def test_a_clock_skew_keeps_files_near_the_window(tmp_path, skew, pruned):
    path = write_incident(
        tmp_path / "inc",
        lines=[GOOD + b"\n"],
        log_name="logs/api.2025-01-07T17.jsonl",  # 17:00-18:00Z, 18:15Z with its hour's slack
        sources={"log_clock_skew": skew},
    )
    read = logs.stage(db.connect(), incident.load(path), tmp_path / "work")
    assert [f.pruned for f in read] == [pruned]


@pytest.mark.parametrize(
    ("reach", "pruned"),
    [
        (0, True),  # 17:00-18:00Z, with its hour's slack, ends 15 min before the window
        (16, False),  # reached: read (`credits window` reads around the window)
        (15, True),  # it ends just where the widened window starts: still pruned
    ],
)
def test_the_reach_widens_what_the_plan_reads(tmp_path, reach, pruned):
    path = write_incident(
        tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/api.2025-01-07T17.jsonl"
    )
    reach_td = timedelta(minutes=reach)
    read = logs.stage(db.connect(), incident.load(path), tmp_path / "work", reach=reach_td)
    assert [f.pruned for f in read] == [pruned]


def test_every_mapper_stages_the_same_lines(tmp_path):
    lines = [GOOD + b"\n", b"oops\n", json.dumps(failure("t2")).encode() + b"\n"]
    path = write_incident(tmp_path / "inc", lines=lines, log_name="logs/a.jsonl")
    for name in ("b.jsonl", "c.jsonl"):
        (tmp_path / "inc/logs" / name).write_bytes(b"".join(lines[1:]))
    loaded = incident.load(path)
    found = []
    for map_partitions in (logs.in_this_thread, logs.on_threads):
        con = db.connect()
        work = tmp_path / map_partitions.__name__
        read = logs.stage(con, loaded, work, map_partitions, partitions=3, min_bytes=0)
        found.append((all_lines(con), [(f.name, f.lines, f.sha256) for f in read]))
        assert len(list((work / "log_extracts").iterdir())) == 3  # one extract per partition
    assert found[0] == found[1]
    assert len(found[0][0]) == 7


@pytest.mark.parametrize(
    ("ts", "bucket", "edge"),
    [
        ("2025-01-07T19:14:20Z", "irrelevant", None),  # before the start less the skew
        ("2025-01-07T19:14:30Z", "relevant", True),  # within the skew before the start
        ("2025-01-07T19:15:29.999999Z", "relevant", True),  # within the skew after the start
        ("2025-01-07T19:15:30Z", "relevant", False),  # inside, clear of the edge
        ("2025-01-07T23:15:29.999999Z", "relevant", True),  # within the skew after the end
        ("2025-01-07T23:15:30Z", "irrelevant", None),  # the widened end is exclusive
    ],
)
def test_a_clock_skew_widens_the_window_and_marks_edge_failures(tmp_path, ts, bucket, edge):
    path = write_incident(
        tmp_path / "inc",
        lines=[failure("t1", ts=ts)],
        transactions=[txn("t1", status="succeeded")],
        sources={"log_clock_skew": "30s"},
    )
    con = reconcile_incident(path, tmp_path)
    assert [(row[2]) for row in all_lines(con)] == [bucket]
    evidence = con.sql("select edge from evidence where txn_id = 't1'").fetchall()
    assert evidence == ([(edge,)] if edge is not None else [])


def test_without_a_clock_skew_no_failure_is_at_an_edge(tmp_path):
    lines = [failure("t1", ts="2025-01-07T19:15:00Z"), failure("t2", ts="2025-01-07T23:14:59Z")]
    path = write_incident(tmp_path / "inc", lines=lines, transactions=[txn("t1"), txn("t2")])
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select txn_id, edge from evidence order by 1").fetchall() == [
        ("t1", False),
        ("t2", False),
    ]


@pytest.mark.parametrize("compress", [False, True])
def test_lines_appended_after_a_file_was_read_are_not_in_its_hash(tmp_path, compress):
    # A writer still at it: the manifest hashed the appended bytes, which no bucket counted.
    import hashlib

    data = (GOOD + b"\n") * 3
    data = gzip.compress(data) if compress else data
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    read = source.Source(path)
    assert b"".join(read.pieces())  # read to the end
    with open(path, "ab") as log:
        log.write(GOOD + b"\n")
    assert read.finish() == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_log_file_removed_after_the_plan_listed_it_stops_the_run_naming_it(tmp_path, monkeypatch):
    # DuckDB reported the FileNotFoundError of the map's reader: a bug's exit 1, 290 lines.
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl")
    real_source = source.Source

    class Vanishing(real_source):
        def _pieces(self):
            self.path.unlink(missing_ok=True)  # gone between the listing and the read
            yield from super()._pieces()

    monkeypatch.setattr(mapper, "Source", Vanishing)
    with pytest.raises(InputError, match=r"logs/a.jsonl: removed after the run listed the log"):
        reconcile_incident(path, tmp_path)


def _rotated(path):  # logrotate's `create`: renamed, a new file made in its place
    path.rename(path.with_name(path.name + ".1"))
    path.write_bytes(b"")


def _copytruncated(path):  # logrotate's `copytruncate`: copied aside, then emptied in place
    path.write_bytes(GOOD[:20])


def _made_a_directory(path):
    path.unlink()
    path.mkdir()


def _made_a_named_pipe(path):
    path.unlink()
    os.mkfifo(path)
    # A writer that opens it, then closes: the reader (if it blocks on the pipe) reads nothing.
    threading.Thread(target=lambda: os.close(os.open(path, os.O_WRONLY)), daemon=True).start()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # Both lines were read from a new empty file: the run passed, its failures lost.
        (_rotated, r"replaced by another file \(rotated\?\)"),
        (_copytruncated, r"shorter \(20 bytes\) than the \d+ bytes listed \(truncated"),
        (_made_a_directory, r"no longer a regular file \(a directory\)"),  # was exit 4's
        (_made_a_named_pipe, r"no longer a regular file \(a named pipe\)"),  # it waited on it
    ],
)
def test_a_log_file_changed_after_the_plan_listed_it_stops_the_run_naming_it(
    tmp_path, monkeypatch, change, reason
):
    lines = [GOOD + b"\n", GOOD.replace(b'"t1"', b'"t2"') + b"\n"]
    path = write_incident(tmp_path / "inc", lines=lines, log_name="logs/a.jsonl")
    real_source = source.Source

    class Changing(real_source):
        def _pieces(self):
            change(self.path)  # between the listing and the read
            yield from super()._pieces()

    monkeypatch.setattr(mapper, "Source", Changing)
    try:
        with pytest.raises(InputError, match=rf"^logs/a.jsonl: {reason}.* run again once"):
            reconcile_incident(path, tmp_path)
    finally:
        log = path.parent / "logs/a.jsonl"
        if log.is_fifo():  # let a writer still waiting for a reader finish
            os.close(os.open(log, os.O_RDONLY | os.O_NONBLOCK))


def test_a_log_file_truncated_while_the_run_read_it_stops_the_run(tmp_path):
    # copytruncate during the read: the reader's next read at its old offset finds the end, and
    # the rest of the file (copied aside, perhaps to a name no glob matches) was never read.
    path = tmp_path / "a.jsonl"
    path.write_bytes((GOOD + b"\n") * 100_000)  # more than the first block the reader takes
    pieces = source.Source(path).pieces()
    assert next(pieces)
    path.write_bytes(b"")
    with pytest.raises(source.STREAM_ERRORS) as raised:
        list(pieces)
    error = source.stream_error("logs/a.jsonl", raised.value, "line 9")
    assert re.match(
        r"logs/a.jsonl: shorter \(0 bytes\) than the \d+ bytes read \(truncated while the run read",
        str(error),
    )


def test_a_log_file_this_user_cannot_read_is_the_machine_refusing():
    error = source.stream_error(
        "logs/a.jsonl", source._Unreadable(PermissionError(13, "Permission denied")), "line 0"
    )
    assert isinstance(error, StorageError) and error.exit_code == 4
    assert str(error) == (
        "logs/a.jsonl: cannot be read (Permission denied); make it readable by this user, then "
        "run again"
    )


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_run_whose_log_holds_a_cut_line_then_a_failure_stops_naming_the_line(
    tmp_path, line_checks
):
    # the framer's error ends the run (exit 2, an InputError), naming the file and the line
    cut = GOOD[:-9] + b"\x00" * 3 + GOOD.replace(b"t1", b"t2") + b"\n"
    path = write_incident(
        tmp_path / "inc",
        lines=[GOOD + b"\n", cut],
        log_name="logs/a.jsonl",
        quality={"line_checks": line_checks},
    )
    with pytest.raises(InputError, match=r"^logs/a.jsonl: line 2 holds zero padding between "):
        reconcile_incident(path, tmp_path)


FLUENTD = "a time as fluentd writes it, its offset without a colon"
FLUENTD_TIMES = [
    # fluentd's default time format (its own log, out_stdout, a record's time injected as text)
    ("2025-01-07 20:00:00 +0000", "%Y-%m-%d %H:%M:%S %z", FLUENTD),
    ("2025-01-07 15:00:00.250 -0500", "%Y-%m-%d %H:%M:%S.%f %z", FLUENTD),
    # fluentd's out_file (%z without a colon), and a space before an offset with one
    ("2025-01-07T20:00:00+0000", "%Y-%m-%dT%H:%M:%S%z", FLUENTD),
    ("2025-01-07 20:00:00 +00:00", "%Y-%m-%d %H:%M:%S %z", "a time with a space before its offset"),
    # fluentd's %N (time_format ...%S.%N%z): 9 decimals, read by DuckDB's %n
    ("2025-01-07T14:59:59.999999999-0500", "%Y-%m-%dT%H:%M:%S.%n%z", FLUENTD),
]


@pytest.mark.parametrize(("ts", "ts_format", "looks"), FLUENTD_TIMES)
def test_a_time_a_ts_format_reads_is_quarantined_naming_that_setting(
    tmp_path, ts, ts_format, looks
):
    # It was quarantined as `ts is not an RFC 3339 timestamp` alone: no hint of the setting
    odd = json.dumps(failure("t2", ts=ts)).encode() + b"\n"
    con = stage(tmp_path / "default", [GOOD + b"\n", odd])
    assert quarantined(con)[1] == (
        2,
        f"ts is not an RFC 3339 timestamp (the line looks like {looks}: set "
        f'ts_format = "{ts_format}" in [sources.log_format])',
        "quarantined",
    )
    # the setting named reads it, at the time it says
    con = stage(tmp_path / "set", [odd], sources={"log_format": {"ts_format": ts_format}})
    got = con.sql("select ts_utc, quarantine_reason from int_log_lines_bucketed").fetchall()
    # (sub-microsecond digits truncated)
    written = ts.replace(" +", "+").replace(" -", "-").replace("999999999", "999999")
    assert got == [(datetime.fromisoformat(written), None)]


def test_a_file_all_of_whose_times_need_a_ts_format_stops_the_run_naming_it(tmp_path):
    # Each failure was quarantined and the run rejected for its quarantined share, the reason
    # `ts is not an RFC 3339 timestamp (3)` naming no setting
    lines = [json.dumps(failure(t, ts="2025-01-07 20:00:00 +0000")).encode() for t in "123"]
    with pytest.raises(InputError) as stopped_run:
        stage(tmp_path, [line + b"\n" for line in lines])
    said = str(stopped_run.value)
    assert said.startswith("logs/pod-a.jsonl: no line of it is a record"), said
    assert 'set ts_format = "%Y-%m-%d %H:%M:%S %z" in [sources.log_format]' in said


@pytest.mark.parametrize(
    "ts",
    [
        "2025-01-07T20:00:00+00:00",
        "2025-01-07T20:00:00Z",
        "2025-01-07T20:00:00.123456Z",
        "2025-01-07T15:00:00.123456789-05:00",  # nanoseconds truncated
        "2025-01-07 20:00:00.5+00:00",
    ],
)
def test_rfc3339_times_are_read_with_no_ts_format(tmp_path, ts):
    con = stage(tmp_path, [json.dumps(failure("t2", ts=ts)).encode() + b"\n"])
    got = con.sql("select ts_utc, quarantine_reason from int_log_lines_bucketed").fetchall()
    expected = datetime.fromisoformat(ts.replace("123456789", "123456"))
    assert got == [(expected, None)]


def test_fluentd_s_own_time_read_without_its_ts_format_names_it(tmp_path):
    # out_file's prefix time, `ts = "envelope.time"` set and its ts_format not: each line was
    # quarantined as `ts is not an RFC 3339 timestamp`, the run rejected
    record = json.dumps({k: v for k, v in failure("t2").items() if k != "ts"})
    line = f"2025-01-07T20:00:00+0000\tpayments.api\t{record}\n".encode()
    log_format = {"envelope": "fluentd", "ts": "envelope.time"}
    with pytest.raises(InputError) as stopped_run:
        stage(tmp_path, [line], sources={"log_format": log_format})
    assert f'line 1 looks like {FLUENTD}: set ts_format = "%Y-%m-%dT%H:%M:%S%z" in' in str(
        stopped_run.value
    )
