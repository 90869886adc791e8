"""`envelope = "syslog"`: the service's records as the MSG of syslog lines (RFC 3164, with or
without a PRI, rsyslog's high-precision file format, journalctl's text output, RFC 5424), the
header's time read as `envelope.time`, a line that is not syslog quarantined, a record the
daemon cut at its maximum message size quarantined saying so (a failure in it warned of).
(The sample so wrapped gives the plain run's outputs: `test_log_formats`.)"""

from __future__ import annotations

import json

import pytest

from tests.builders import failure, reconcile_incident, write_incident
from tests.transforms.ingest.test_log_envelopes import RELEVANT, staged
from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.ingest.logs import hints, screen, syslog

RECORD = json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z"), separators=(",", ":"))
SPACED = json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z"))
NO_TIME = json.dumps({"event": "payment.failed", "txn_id": "t1"})
QUIET = json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "http.request"})
AT_TIME = {"envelope": "syslog", "ts": "envelope.time"}
NOT_SYSLOG = 'not a syslog line (envelope = "syslog")'


def logplex(message: str, procid: str = "web.1") -> str:
    """A message as Heroku's logplex frames it in an HTTPS drain's body (without its LF)."""
    framed = f"<190>1 2025-01-07T20:00:00.123456+00:00 host app {procid} - {message}\n"
    return f"{len(framed.encode())} {framed[:-1]}"


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    "line",
    [
        # RFC 3164 as rsyslog's traditional file format writes it (/var/log/syslog), with the
        # pid or without, and as received (its PRI first)
        f"Jan  7 20:00:00 node-1 payments[42]: {RECORD}",
        f"Jan  7 20:00:00 node-1 payments: {RECORD}",
        f"<134>Jan  7 20:00:00 node-1 payments[42]: {RECORD}",
        # journalctl's default output (the day zero-padded), -o short-precise, -o short-iso
        f"Jan 07 20:00:00 node-1 payments[42]: {RECORD}",
        f"Jan 07 20:00:00.123456 node-1 payments[42]: {RECORD}",
        f"2025-01-07T20:00:00+0000 node-1 payments[42]: {RECORD}",
        # rsyslog's high-precision format (RSYSLOG_FileFormat), and its forwarding format
        f"2025-01-07T20:00:00.123456+00:00 node-1 payments[42]: {RECORD}",
        f"<134>2025-01-07T20:00:00.123456+00:00 node-1 payments[42]: {RECORD}",
        # a tag with a colon or a slash in it; the record after the first `: ` that ends it
        f"Jan  7 20:00:00 node-1 docker/pay:api[42]: {RECORD}",
        # RFC 5424: without structured data, with it (a quote and a `]` escaped in a value),
        # with a byte-order mark before the MSG (its UTF-8 marker)
        f"<134>1 2025-01-07T20:00:00.123Z node-1 payments 42 - - {RECORD}",
        f"<134>1 2025-01-07T20:00:00.123Z node-1 payments 42 ID47 "
        f'[exampleSDID@32473 iut="3" note="a \\"quoted\\] value"][meta x="1"] {RECORD}',
        f"<134>1 2025-01-07T20:00:00.123Z - - - - - \ufeff{RECORD}",
        # Heroku's logplex (its HTTPS drains' frames, one a line): an octet count (RFC 6587,
        # the message's bytes with its LF), then RFC 5424 without structured data
        logplex(RECORD),
        logplex(RECORD).split(" ", 1)[1],
        # `heroku logs`' output: `<time> <source>[<dyno>]: `, no host
        f"2025-01-07T20:00:00.123456+00:00 app[web.1]: {RECORD}",
    ],
)
def test_the_record_after_a_syslog_header_is_read(tmp_path, line, line_checks):
    got = staged(tmp_path, [line], line_checks, envelope="syslog")
    assert [row[1:5] for row in got] == [RELEVANT[:4]]


@pytest.mark.parametrize(
    ("line", "log_format", "ts"),
    [
        # RFC 3164 has no zone: read in sources.logs_timezone (UTC by default)
        (f"Jan  7 20:00:00 node-1 payments[42]: {NO_TIME}", {}, "2025-01-07 20:00:00+00"),
        (
            f"Jan  7 15:00:00.5 node-1 payments[42]: {NO_TIME}",
            {"logs_timezone": "America/New_York"},
            "2025-01-07 20:00:00.5+00",
        ),
        # the high-precision time and RFC 5424's carry their offset (journalctl's without a colon)
        (f"2025-01-07T15:00:00-0500 node-1 payments[42]: {NO_TIME}", {}, "2025-01-07 20:00:00+00"),
        (
            f"<134>1 2025-01-07T21:00:00.5+01:00 node-1 payments 42 - - {NO_TIME}",
            {"logs_timezone": "America/New_York"},
            "2025-01-07 20:00:00.5+00",
        ),
        (f"2025-01-07T20:00:00.5+00:00 app[web.1]: {NO_TIME}", {}, "2025-01-07 20:00:00.5+00"),
    ],
)
def test_the_headers_time_is_envelope_time(tmp_path, line, log_format, ts):
    path = write_incident(
        tmp_path / "inc", lines=[line], sources={"log_format": AT_TIME, **log_format}
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql("select bucket, txn_id, ts_utc::varchar from int_log_lines_bucketed").fetchall()
    assert got == [("relevant", "t1", ts)]


@pytest.mark.parametrize(
    ("day", "ts"),
    [
        # The window is in January 2025: a date of December is the year before's (a file that
        # runs over the new year), one of July still 2025's (within six months), one of August
        # the year before's (a date more than six months from the window's month)
        ("Dec 31 23:59:59", "2024-12-31 23:59:59+00"),
        ("Jan  1 00:00:01", "2025-01-01 00:00:01+00"),
        ("Jul  7 20:00:00", "2025-07-07 20:00:00+00"),
        ("Aug  7 20:00:00", "2024-08-07 20:00:00+00"),
        # February 29th, which 2025 lacks: the leap year's before (out of the window however
        # near), not quarantined as a time that is none
        ("Feb 29 20:00:00", "2024-02-29 20:00:00+00"),
    ],
)
def test_an_rfc_3164_date_takes_the_year_nearest_the_window(tmp_path, day, ts):
    got = staged(tmp_path, [f"{day} node-1 payments[42]: {NO_TIME}"], "all", **AT_TIME)
    assert [row[1:5] for row in got] == [("irrelevant", None, "t1", ts)]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("ts", ["envelope.time", "ts"], ids=["header-time", "record-time"])
@pytest.mark.parametrize(
    ("day", "named"),
    [
        # no such day: with the time read from the header it was quarantined as "ts is not an
        # RFC 3339 timestamp" (the record has none); with the record's time, read unseen
        ("Feb 30 20:00:00", '"Feb 30" (no such day in 2025)'),
        ("Apr 31 20:00:00", '"Apr 31" (no such day in 2025)'),
        ("Jun 31 20:00:00", '"Jun 31" (no such day in 2025)'),
        ("Jan 32 20:00:00", '"Jan 32" (no such day in 2025)'),
        ("Jan 00 20:00:00", '"Jan 00" (no such day in 2025)'),
        ("<134>Sep 31 20:00:00", '"Sep 31" (no such day in 2024)'),
    ],
)
def test_an_impossible_rfc_3164_date_is_quarantined_naming_it(
    tmp_path, day, named, ts, line_checks
):
    got = staged(
        tmp_path, [f"{day} node-1 payments[42]: {RECORD}"], line_checks, envelope="syslog", ts=ts
    )
    assert [row[1:5] for row in got] == [
        ("quarantined", f"impossible date in the syslog header: {named}", None, None)
    ]
    assert got[0][5] == f"{day} node-1 payments[42]: {RECORD}"  # the whole line, to see


def test_a_window_over_the_new_year_reads_each_side_in_its_year(tmp_path):
    days = ("Dec 31 23:59:59", "Jan  1 00:00:01")
    lines = [f"{day} node-1 payments[42]: {NO_TIME}" for day in days]
    path = write_incident(
        tmp_path / "inc",
        lines=[line.replace("t1", f"t{i}") for i, line in enumerate(lines)],
        sources={"log_format": AT_TIME},
        top={
            "timezone": "UTC",
            "window_start": "2025-12-31T23:00:00",
            "window_end": "2026-01-01T01:00:00",
        },
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql("select bucket, ts_utc::varchar from int_log_lines_bucketed order by line")
    assert got.fetchall() == [
        ("relevant", "2025-12-31 23:59:59+00"),
        ("relevant", "2026-01-01 00:00:01+00"),
    ]


def test_an_rfc_5424_line_without_a_time_has_no_envelope_time(tmp_path):
    got = staged(tmp_path, [f"<134>1 - node-1 payments 42 - - {NO_TIME}"], "all", **AT_TIME)
    assert got[0][1] == "quarantined"
    assert got[0][2].startswith("missing ts")


EXPECTED = (
    NOT_SYSLOG + ': expected RFC 5424 ("<PRI>1 <time> <host> <app> <procid> <msgid> '
    '<structured data> <message>") or RFC 3164 ("[<PRI>]<Mmm dd hh:mm:ss> <host> '
    "<tag>[<pid>]: <message>\", the time RFC 3339's in rsyslog's high-precision format)"
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # not syslog: checked in full (it names a failure event) or by its shape
        (f"payment.failed {RECORD}", ("quarantined", EXPECTED)),
        (RECORD, ("quarantined", EXPECTED)),
        (f"Jan  7 20:00:00 payments[42] {RECORD}", ("quarantined", EXPECTED)),  # no host
        # no host, the record's `": ` not taken for the end of a tag `{"ts"` (the host being
        # `payments[42]:`): a record written with spaces, as Python's json.dumps writes it
        (f"Jan  7 20:00:00 payments[42]: {SPACED}", ("quarantined", EXPECTED)),
        (f"Jan  7 20:00:00 payments: {SPACED}", ("quarantined", EXPECTED)),
        (f"Foo  7 20:00:00 node-1 payments[42]: {RECORD}", ("quarantined", EXPECTED)),
        (f"<134>1 2025-01-07T20:00:00Z node-1 payments 42 - x {RECORD}", ("quarantined", EXPECTED)),
        # without structured data (Heroku's), a MSG that is no JSON object: its first word
        # would be taken for the structured data
        (logplex("payment.failed t1"), ("quarantined", EXPECTED)),
        # `heroku logs`' header without its dyno: no host, no syslog
        (f"2025-01-07T20:00:00Z payments: {RECORD}", ("quarantined", EXPECTED)),
        ("retrying {}", ("quarantined", NOT_SYSLOG[:-1] + ", shape check)")),
        # a syslog line's MSG gets the record's shape check
        ("Jan  7 20:00:00 node-1 payments[42]: retrying", ("quarantined", screen.SHAPE_NOT_OBJECT)),
        ("Jan  7 20:00:00 node-1 payments[42]: {}", ("irrelevant", None)),
        # another program's text naming a failure event is quarantined, not read
        (
            "Jan  7 20:00:00 node-1 cron[7]: retried payment.failed t1",
            ("quarantined", "not valid JSON"),
        ),
    ],
)
def test_a_line_that_is_not_syslog_is_quarantined_with_its_reason(tmp_path, line, expected):
    # after a quiet syslog line: a file none of whose lines is syslog stops the run on a
    # failure (`test_logs_lost`)
    quiet = f"Jan  7 20:00:00 node-1 payments[42]: {QUIET}"
    got = staged(tmp_path, [quiet, line], "failure_capable", envelope="syslog")
    assert [row[1:3] for row in got] == [("irrelevant", None), expected]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    "line",
    [
        # a header and no MSG: "not a syslog line" without the space after the tag's colon,
        # "blank line" with it, and an RFC 5424 header "blank line" either way
        "Jan  7 20:00:00 node-1 payments[42]:",
        "Jan  7 20:00:00 node-1 payments[42]: ",
        "Jan  7 20:00:00 node-1 payments[42]:  \t",
        "<134>Jan  7 20:00:00 node-1 payments[42]:",
        "<134>Jan  7 20:00:00 node-1 payments[42]: ",
        "Jan  7 20:00:00 node-1 payments:",
        "2025-01-07T20:00:00.123456+00:00 node-1 payments[42]:",
        "2025-01-07T20:00:00.123456+00:00 node-1 payments[42]: ",
        "<134>1 2025-01-07T20:00:00Z node-1 payments 42 - -",
        "<134>1 2025-01-07T20:00:00Z node-1 payments 42 - - ",
        "<134>1 2025-01-07T20:00:00Z node-1 payments 42 - - \ufeff",
        '<134>1 2025-01-07T20:00:00Z node-1 payments 42 ID47 [meta x="1"]',
    ],
)
def test_a_syslog_header_without_a_message_is_quarantined_for_one_reason(
    tmp_path, line, line_checks
):
    got = staged(tmp_path, [line], line_checks, envelope="syslog")
    assert [row[1:3] for row in got] == [("quarantined", syslog.NO_MESSAGE)]
    assert got[0][5] == line  # the whole line, not the empty message


CUT = hints.SYSLOG_CUT[1]


def test_a_record_the_daemon_cut_is_quarantined_saying_so(tmp_path):
    # rsyslog cuts a message over its maxMessageSize (8 KiB): the head and, from imfile, the
    # rest as a message of its own; both quarantined, the head saying why.
    head = f"Jan  7 20:00:00 node-1 payments[42]: {QUIET[:30]}"
    rest = f"Jan  7 20:00:00 node-1 payments[42]: {QUIET[30:]}"
    got = staged(tmp_path, [head, rest], "all", envelope="syslog")
    assert [row[1:3] for row in got] == [
        ("quarantined", "not valid JSON" + CUT),
        ("quarantined", "not valid JSON"),
    ]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("cut", [60, 12], ids=["event-in-head", "event-in-rest"])
def test_a_failure_record_the_daemon_cut_is_a_quarantined_failure_line(tmp_path, cut, line_checks):
    # Its failure is never credited: the gate warns of it (no_failure_line_quarantined), as of
    # any quarantined failure line, unless the payment is read from a whole copy (a retry).
    header = "Jan  7 20:00:00 node-1 payments[42]: "
    whole = header + RECORD.replace("t1", "t2")
    lines = [header + RECORD[:cut], header + RECORD[cut:], whole[:80], whole]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": {"envelope": "syslog"}},
        quality={"line_checks": line_checks},
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql("select line, quarantine_reason from int_quarantined_failure_lines order by line")
    failing = 1 if cut == 60 else 2
    assert got.fetchall() == [(failing, "not valid JSON" + (CUT if failing == 1 else ""))]
    assert con.sql("select txn_id from stg_failures").fetchall() == [("t2",)]


@pytest.mark.parametrize(
    ("log_format", "message"),
    [
        (
            {"envelope": "syslog", "ts": "envelope.tme"},
            r"ts: a syslog line has no field 'tme'; did you mean 'envelope.time'\?",
        ),
        ({"envelope": "sylog"}, r"envelope: 'sylog' is not an envelope; did you mean 'syslog'\?"),
    ],
)
def test_a_bad_syslog_setting_is_a_config_error(tmp_path, log_format, message):
    path = write_incident(tmp_path / "inc", sources={"log_format": log_format})
    with pytest.raises(ConfigError, match=r"sources\.log_format\." + message):
        incident.load(path)


def test_the_headers_fields_are_read(tmp_path):
    log_format = {
        "envelope": "syslog",
        "customer_id": "envelope.host",
        "error_code": "envelope.app",
    }
    lines = [
        f"Jan  7 20:00:00 c1 payments[42]: {RECORD}",
        f"<134>1 2025-01-07T20:00:00Z c2 api - - - {RECORD.replace('t1', 't2')}",
        logplex(RECORD.replace("t1", "t3")).replace("host app", "c3 app"),
        f"2025-01-07T20:00:00.5+00:00 app[web.1]: {RECORD.replace('t1', 't4')}",  # no host
    ]
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format})
    con = reconcile_incident(path, tmp_path)
    got = con.sql(
        "select txn_id, customer_id, error_code from stg_log_events order by txn_id"
    ).fetchall()
    assert got == [
        ("t1", "c1", "payments"),
        ("t2", "c2", "api"),
        ("t3", "c3", "app"),
        ("t4", None, "app"),
    ]


def test_a_heroku_logs_line_of_a_logfmt_record_is_read_as_its_own_header(tmp_path):
    # Read as RFC 3164's header, `app[web.1]:` was the host and the record's `ts=...T20:` the tag
    line = "2025-01-07T20:00:00+00:00 app[web.1]: ts=2025-01-07T20:00:00.5Z event=payment.failed"
    got = staged(tmp_path, [f"{line} txn_id=t1"], envelope="syslog", kind="logfmt")
    assert got == [(1, *RELEVANT)]
