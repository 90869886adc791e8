"""The envelopes that hold many records: OTLP JSON lines (`envelope = "otlp"`) and CloudWatch
Logs subscription objects as Firehose writes them (`envelope = "cloudwatch"`). Records are
numbered in their file; a bad envelope or record is quarantined with its position; the funnel
counts records. (The sample wrapped in each gives the plain run's outputs: `test_log_formats`.)"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from tests.builders import reconcile_incident, write_incident
from transforms import db
from transforms.errors import InputError
from transforms.ingest import incident, logs, tables
from transforms.ingest.logs import json_stream, otlp, otlp_count, source
from transforms.reconcile import credits
from transforms.runfolder import manifest

NS = 1736280000500000000  # 2025-01-07T20:00:00.5Z in nanoseconds
AT = "2025-01-07 20:00:00.5+00"
EXAMPLE = Path(__file__).parents[2] / "fixtures" / "otlp" / "logs.json"


def kv(key: str, value) -> dict:
    """An OTLP attribute: a string, an integer (as a string: the protobuf JSON mapping's
    64-bit form) or any AnyValue given as a dict."""
    if isinstance(value, dict):
        return {"key": key, "value": value}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def record(txn_id: str = "t1", time=NS, event: str = "payment.failed", **extra) -> dict:
    """An OTLP log record of a failure, its fields as attributes."""
    attributes = [kv("event", event), kv("txn_id", txn_id), kv("error_code", "DB_POOL_TIMEOUT")]
    return {"timeUnixNano": time, "attributes": attributes, **extra}


def request(*records, resource=None) -> str:
    """One OTLP JSON line: the records in one scope of one resource."""
    attributes = [kv(k, v) for k, v in (resource or {}).items()]
    scope = {"scope": {"name": "pay"}, "logRecords": list(records)}
    body = {"resourceLogs": [{"resource": {"attributes": attributes}, "scopeLogs": [scope]}]}
    return json.dumps(body)


def staged(tmp_path, lines, line_checks="all", log_name="logs/pod-a.jsonl", **log_format):
    """The buckets of the records: (line, bucket, reason, txn_id, ts, raw)."""
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
        log_name=log_name,
    )
    con = reconcile_incident(path, tmp_path)
    return con.sql(
        "select line, bucket, quarantine_reason, txn_id, ts_utc::varchar, raw "
        "from int_log_lines_bucketed order by line"
    ).fetchall()


RELEVANT = ("relevant", None, "t1", AT, None)


# OTLP ------------------------------------------------------------------------------------------
def test_the_otlp_specifications_example_reads_as_it_is(tmp_path):
    # opentelemetry-proto/examples/logs.json, pretty-printed, integers as numbers: its one
    # record, fields from attributes (a dotted name, a key inside a kvlist), the resource.
    path = write_incident(
        tmp_path / "inc",
        lines=[EXAMPLE.read_bytes()],
        sources={
            "log_format": {
                "envelope": "otlp",
                "event": "severityText",
                "txn_id": "string.attribute",
                "customer_id": "resource.service.name",
                "error_code": "map.attribute.some.map.key",
            }
        },
        policy={"failure_events": ["Information"]},
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql(
        "select line, ts_utc::varchar, event, txn_id, customer_id, error_code from stg_log_events"
    ).fetchall()
    assert got == [
        (
            1,
            "2018-12-13 14:51:00.3+00",
            "Information",
            "some string",
            "my.service",
            "some value",
        )
    ]


@pytest.mark.parametrize(
    ("records", "log_format", "expected"),
    [
        # the time to the nanosecond, as a string or a number, never through a float
        ([record(time="1736280000999999999")], {}, ("t1", "2025-01-07 20:00:00.999999+00")),
        ([record(time=1736280000999999999)], {}, ("t1", "2025-01-07 20:00:00.999999+00")),
        # timeUnixNano 0 or absent: the observed time
        ([record(time="0", observedTimeUnixNano=str(NS))], {}, ("t1", AT)),
        ([record(time=0, observedTimeUnixNano=NS)], {}, ("t1", AT)),
        ([{**record(), "timeUnixNano": None, "observedTimeUnixNano": NS}], {}, ("t1", AT)),
        # the fields in a kvlist body; an attribute comes first
        (
            [
                {
                    "timeUnixNano": NS,
                    "attributes": [kv("txn_id", "t1")],
                    "body": {
                        "kvlistValue": {
                            "values": [kv("event", "payment.failed"), kv("txn_id", "t2")]
                        }
                    },
                }
            ],
            {},
            ("t1", AT),
        ),
        # an explicit path into the body, a dotted attribute name, the resource's attributes
        (
            [record(body={"kvlistValue": {"values": [kv("id", "b1")]}})],
            {"txn_id": "body.id"},
            ("b1", AT),
        ),
        (
            [record(attributes=[kv("event", "payment.failed"), kv("payment.id", "p1")])],
            {"txn_id": "payment.id"},
            ("p1", AT),
        ),
        ([record()], {"customer_id": "resource.customer"}, ("t1", AT)),
        # an RFC 3339 time in an attribute: ts named, ts_format keeps its own default
        (
            [
                record(
                    time=None,
                    attributes=[
                        kv("event", "payment.failed"),
                        kv("txn_id", "t1"),
                        kv("at", "2025-01-07T20:00:00.5Z"),
                    ],
                )
            ],
            {"ts": "attributes.at"},  # ts_format stays rfc3339,
            ("t1", AT),
        ),
    ],
)
def test_an_otlp_record_is_read_by_the_rules(tmp_path, records, log_format, expected):
    lines = [request(*records, resource={"customer": "c9"})]
    got = staged(tmp_path, lines, envelope="otlp", **log_format)
    assert [(row[1], row[3], row[4]) for row in got] == [("relevant", *expected)]


@pytest.mark.parametrize(
    ("named", "log_format"),
    [
        # OTLP 1.5's event name (an SDK's Events API: the record's eventName), then the
        # semantic conventions' attribute before it, event.name: read as the event when the
        # record has no event attribute (nor a body's), whatever else it holds
        ({"eventName": "payment.failed"}, {}),
        ({"attributes": [kv("event.name", "payment.failed")]}, {}),
        ({"eventName": "payment.failed", "attributes": [kv("event", "http.request")]}, None),
        # an event named elsewhere: the eventName is no fallback for it
        ({"eventName": "payment.failed"}, {"event": "kind"}),
    ],
)
def test_an_otlp_records_event_name_is_its_event_without_an_event_attribute(
    tmp_path, named, log_format
):
    # Once `missing event`: an SDK's event records quarantined, each failure one item under the
    # quarantine limit (beside a service's other records), never credited
    attributes = [kv("txn_id", "t1"), kv("error_code", "DB_POOL_TIMEOUT")]
    attributes += named.get("attributes", [])
    line = request({"timeUnixNano": NS, **named, "attributes": attributes})
    got = staged(tmp_path, [line], envelope="otlp", **(log_format or {}))
    if log_format is None:  # its event attribute is its event
        assert [row[1] for row in got] == ["irrelevant"]
    elif log_format:
        assert [row[1:3] for row in got] == [
            ("quarantined", 'missing event (envelope = "otlp": line 1, record 1)')
        ]
    else:
        assert [(row[1], row[3], row[4]) for row in got] == [("relevant", "t1", AT)]


JSON_LINE = '{"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": "t1"}'
NOT_JSON = 'not an OTLP log record (envelope = "otlp": line 1, record 1): '


@pytest.mark.parametrize(
    ("body", "log_format", "expected"),
    [
        # the service's JSON line as the body's text (the filelog receiver without a
        # json_parser): its keys read as a kvlist body's are, ts named in it
        (JSON_LINE + "\n", {"ts": "body.ts"}, ("relevant", None, "t1")),
        (JSON_LINE, {"ts": "body.ts", "txn_id": "body.txn_id"}, ("relevant", None, "t1")),
        # after the byte-order mark of the file the collector read
        ("\ufeff" + JSON_LINE, {"ts": "body.ts"}, ("relevant", None, "t1")),
        # an attribute still comes first
        (JSON_LINE, {"ts": "body.ts", "txn_id": "other"}, ("relevant", None, "t2")),
        # NaN where no field is read is tolerated, as in a plain line, and so is a key twice
        (
            JSON_LINE.replace("}", ', "x": {"event": 1, "event": 2}, "latency": NaN}'),
            {"ts": "body.ts"},
            ("relevant", None, "t1"),
        ),
        # a key of a field twice in it is read neither way; NaN in a field is no value; text
        # that starts as an object but is none is named; plain text holds no field
        (
            JSON_LINE.replace('"t1"', '"t1", "txn_id": "t9"'),
            {"ts": "body.ts"},
            (
                "quarantined",
                NOT_JSON + 'the key "txn_id" appears twice in one object of the body\'s JSON',
                None,
            ),
        ),
        (
            JSON_LINE.replace("}", ', "amount_minor": NaN}'),
            {"ts": "body.ts"},
            ("quarantined", NOT_JSON + "body.amount_minor is NaN, not a JSON value", None),
        ),
        (
            JSON_LINE[:-1],
            {"ts": "body.ts"},
            (
                "quarantined",
                NOT_JSON + "body is text that starts as a JSON object but is not one: "
                "Expecting ',' delimiter: line 1 column 75 (char 74)",
                None,
            ),
        ),
        (
            "payment.failed t1",
            {"ts": "timeUnixNano"},
            ("quarantined", 'missing event (envelope = "otlp": line 1, record 1)', None),
        ),
    ],
)
def test_a_string_body_holding_a_json_object_is_read_as_one(tmp_path, body, log_format, expected):
    attributes = [kv("other", "t2")] if log_format.get("txn_id") == "other" else []
    line = request({"timeUnixNano": NS, "body": {"stringValue": body}, "attributes": attributes})
    got = staged(tmp_path, [line], "failure_capable", envelope="otlp", **log_format)
    assert [row[1:4] for row in got] == [expected]


BATCH = [
    {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": "t1"},
    {"ts": "2025-01-07T20:00:00.5Z", "event": "db.pool.stats"},
    {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": "t2"},
]


@pytest.mark.parametrize(
    "body",
    [
        # an HTTP output's batch read as one line by the filelog receiver: a string body
        {"stringValue": json.dumps(BATCH)},
        # the same records as an array of key/value lists, or of the service's JSON lines
        {
            "arrayValue": {
                "values": [
                    {"kvlistValue": {"values": [kv(k, v) for k, v in r.items()]}} for r in BATCH
                ]
            }
        },
        {"arrayValue": {"values": [{"stringValue": json.dumps(r)} for r in BATCH]}},
    ],
    ids=["string", "kvlists", "strings"],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_record_whose_body_is_an_array_of_failures_stops_the_run(tmp_path, body, line_checks):
    # Quarantined as `missing event`, the record was one item under the quarantine limit, and
    # the failures batched in its body were never credited.
    line = request(record("t0"), {"timeUnixNano": NS, "body": body})
    message = (
        r'^logs/pod-a.jsonl: line 2 \(envelope = "otlp": line 1, record 2\) is a JSON array of 3 '
        r"records, 2 of them failure events \(payment.failed\)"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, [line], line_checks, envelope="otlp")


@pytest.mark.parametrize(
    "body",
    [
        {"stringValue": json.dumps(BATCH[1:2] * 2 + [{"msg": "payment.failed"}])},  # no failure
        {"arrayValue": {"values": [{"stringValue": "payment.failed t1"}]}},  # no record
        {"stringValue": "[1, " + json.dumps(BATCH[0])},  # no JSON
    ],
)
def test_a_record_whose_body_is_an_array_without_failures_is_quarantined(tmp_path, body):
    line = request({"timeUnixNano": NS, "body": body})
    got = staged(tmp_path, [line], "failure_capable", envelope="otlp")
    assert [row[1:3] for row in got] == [
        ("quarantined", 'missing event (envelope = "otlp": line 1, record 1)')
    ]


def test_a_record_without_its_time_is_read_at_its_bodys_ts_not_when_the_collector_read_it(
    tmp_path,
):
    # The filelog receiver without a time parser stamps only observedTimeUnixNano, when it read
    # the line: after a backlog (23:30Z here, after the window) a failure at 20:00:00.5Z fell
    # out of the window, uncredited. The service's own ts in the body is its time.
    late = 1736292600000000000  # 2025-01-07T23:30:00Z

    def line(txn_id: str, ts: object = "2025-01-07T20:00:00.5Z") -> dict:
        text = json.dumps({"ts": ts, "event": "payment.failed", "txn_id": txn_id})
        return {"stringValue": text}

    records = [
        {"observedTimeUnixNano": str(late), "body": line("t1")},  # no timeUnixNano
        {"timeUnixNano": "0", "observedTimeUnixNano": late, "body": line("t2")},  # 0: none
        # no ts in the body (the fields in the attributes): the observed time, as before
        {**record("t3", time=None), "observedTimeUnixNano": NS},
        # the record's own time comes first
        {"timeUnixNano": NS, "body": line("t4", "2025-01-07T21:00:00Z")},
        # the body's ts is the contract's, RFC 3339
        {"observedTimeUnixNano": NS, "body": line("t5", 1736280000)},
        # t1 collected again (the collector restarted): one duplicate, whatever its observed time
        {"observedTimeUnixNano": str(late + 1), "body": line("t1")},
    ]
    got = staged(tmp_path, [request(*records)], envelope="otlp")
    assert [row[1:5] for row in got[:5]] == [
        ("relevant", None, "t1", AT),
        ("relevant", None, "t2", AT),
        ("relevant", None, "t3", AT),
        ("relevant", None, "t4", AT),
        ("quarantined", 'ts is not a string (envelope = "otlp": line 1, record 5)', None, None),
    ]
    assert got[5][1] == "duplicate"


def test_a_record_without_its_time_is_read_at_its_attributes_ts(tmp_path):
    # The filelog receiver with a json_parser and no timestamp parser puts the service's fields,
    # ts among them, in the attributes: read there first (as any field), then in the body; the
    # collector's observed time (23:30Z, after the window) only when neither holds a ts.
    late = 1736292600000000000  # 2025-01-07T23:30:00Z

    def fields(txn_id: str, **more: str) -> list[dict]:
        return [kv("event", "payment.failed"), kv("txn_id", txn_id)] + [
            kv(key, value) for key, value in more.items()
        ]

    body = {"stringValue": json.dumps({"ts": "2025-01-07T21:00:00Z"})}
    records = [
        {"observedTimeUnixNano": late, "attributes": fields("t1", ts="2025-01-07T20:00:00.5Z")},
        # the attribute before the body's ts
        {
            "observedTimeUnixNano": late,
            "attributes": fields("t2", ts="2025-01-07T20:00:00.5Z"),
            "body": body,
        },
        # neither: when the collector read it, out of the window
        {"observedTimeUnixNano": late, "attributes": fields("t3")},
    ]
    got = staged(tmp_path, [request(*records)], envelope="otlp")
    assert [row[1:5] for row in got] == [
        ("relevant", None, "t1", AT),
        ("relevant", None, "t2", AT),
        ("irrelevant", None, "t3", "2025-01-07 23:30:00+00"),
    ]


def test_an_epoch_number_in_a_body_of_text_is_read_from_its_own_digits(tmp_path):
    # The last nanosecond of the window's final second (19:15Z to 23:15Z) stays in it, that of
    # the second before it opens stays out: as a float, 1736291699.999999999 is 1736291700.0.
    text = '{"ts": %s, "event": "payment.failed", "txn_id": "t%d"}'
    lines = [
        request(record(attributes=[], body={"stringValue": text % (ts, i)}))
        for i, ts in enumerate(["1736291699.999999999", "1736277299.999999999"], 1)
    ]
    got = staged(tmp_path, lines, envelope="otlp", ts="body.ts", ts_format="epoch_s")
    assert [row[1:5] for row in got] == [
        ("relevant", None, "t1", "2025-01-07 23:14:59.999999+00"),
        ("irrelevant", None, "t2", "2025-01-07 19:14:59.999999+00"),
    ]


def test_a_body_of_text_is_only_read_for_fields_the_attributes_lack(tmp_path):
    # the record in the attributes, a message cut short as the body: read as before
    attributes = [kv("event", "payment.failed"), kv("txn_id", "t1")]
    body = {"stringValue": JSON_LINE[:-1]}
    line = request({"timeUnixNano": NS, "attributes": attributes, "body": body})
    got = staged(tmp_path, [line], envelope="otlp")
    assert [row[1:4] for row in got] == [("relevant", None, "t1")]


def test_amounts_as_strings_and_numbers_read_exactly(tmp_path):
    big = 9007199254740993  # 2**53 + 1: a double would make it ...992
    records = [
        record(
            "t1",
            attributes=[
                kv("event", "payment.failed"),
                kv("txn_id", "t1"),
                kv("amount_minor", {"intValue": big}),
            ],
        ),
        record(
            "t2",
            attributes=[
                kv("event", "payment.failed"),
                kv("txn_id", "t2"),
                kv("amount_minor", {"intValue": str(big)}),
            ],
        ),
    ]
    path = write_incident(
        tmp_path / "inc",
        lines=[request(*records)],
        sources={"log_format": {"envelope": "otlp"}},
    )
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select txn_id, amount_minor from stg_log_events order by 1").fetchall() == [
        ("t1", big),
        ("t2", big),
    ]


BAD_LINE = 'not an OTLP JSON line (envelope = "otlp": line 2): '
BAD_RECORD = 'not an OTLP log record (envelope = "otlp": line 2, record 1): '


# Bad lines and records, each holding a failure event (so each is read in full).
BAD_OTLP = [
    ('{"resourceLogs": [payment.failed', BAD_LINE + "not valid JSON"),
    ('["payment.failed"]', BAD_LINE + "not a JSON object"),
    ('{"resourceLogs": "payment.failed"}', BAD_LINE + "resourceLogs is not a list"),
    ('{"resourceLogs": ["payment.failed"]}', BAD_LINE + "resourceLogs[0] is not an object"),
    (
        '{"resourceLogs": [{"resource": "payment.failed"}]}',
        BAD_LINE + "resourceLogs[0].resource is not an object",
    ),
    (
        '{"resourceLogs": [{"resource": {"attributes": ["payment.failed"]}}]}',
        BAD_LINE + "resourceLogs[0].resource.attributes holds an item that is not {key, value}",
    ),
    (
        '{"resourceLogs": [{"scopeLogs": {"x": "payment.failed"}}]}',
        BAD_LINE + "resourceLogs[0].scopeLogs is not a list",
    ),
    (
        '{"resourceLogs": [{"scopeLogs": [{"logRecords": "payment.failed"}]}]}',
        BAD_LINE + "resourceLogs[0].scopeLogs[0].logRecords is not a list",
    ),
    (request("payment.failed"), BAD_RECORD + "not an object"),
    (request(record(attributes="payment.failed")), BAD_RECORD + "attributes is not a list"),
    (
        request(record(attributes=[{"value": {"stringValue": "payment.failed"}}])),
        BAD_RECORD + "attributes holds an item that is not {key, value}",
    ),
    (
        request(record(attributes=[kv("event", "payment.failed"), kv("n", {"intValue": "1.5"})])),
        BAD_RECORD + 'attributes.n is not an AnyValue (intValue: "1.5")',
    ),
    (
        request(record(body={"stringValue": 7, "x": "payment.failed"})),
        BAD_RECORD + "body is not an AnyValue",
    ),
    # protobuf's field names, not OTLP JSON's: read as a request without records, it was one
    # irrelevant line, its failures never credited
    (
        '{"resource_logs": [{"scope_logs": [{"log_records": ["payment.failed"]}]}]}',
        BAD_LINE + "resource_logs is protobuf's field name: OTLP JSON writes resourceLogs "
        "(lowerCamelCase)",
    ),
    (
        '{"resourceLogs": [{"scope_logs": [{"log_records": ["payment.failed"]}]}]}',
        BAD_LINE + "resourceLogs[0].scope_logs is protobuf's field name: OTLP JSON writes "
        "scopeLogs (lowerCamelCase)",
    ),
    (
        '{"resourceLogs": [{"scopeLogs": [{"log_records": ["payment.failed"]}]}]}',
        BAD_LINE + "resourceLogs[0].scopeLogs[0].log_records is protobuf's field name: OTLP "
        "JSON writes logRecords (lowerCamelCase)",
    ),
    # the service's own record (a file of plain lines under the wrong setting): read as a
    # request without records, it was one irrelevant line, its failure never credited
    (
        '{"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": "t9"}',
        BAD_LINE + 'no resourceLogs, its keys are "ts", "event", "txn_id" (a JSON line of the '
        "service's own is read with envelope unset)",
    ),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_OTLP)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_bad_otlp_line_or_record_is_quarantined_with_its_position(
    tmp_path, bad, reason, line_checks
):
    got = staged(
        tmp_path, [request(record()), bad, request(record())], line_checks, envelope="otlp"
    )
    assert [row[1:3] for row in got] == [
        ("relevant", None),
        ("quarantined", reason),
        ("duplicate", None),
    ]


# A line that cannot hold a failure has its records counted by simdjson, not decoded
# (`otlp_count.counted`); anything unusual on the way to them sends it to the full reading, so it is
# quarantined with the same reason as a line that can.
NOT_CAPABLE_BAD = [
    # The same bad lines with no failure event in them.
    *(
        (bad.replace("payment.failed", "debug"), reason)
        for bad, reason in BAD_OTLP
        if reason.startswith(BAD_LINE) or reason == BAD_RECORD + "not an object"
    ),
    ('{"resourceLogs": null}', BAD_LINE + "resourceLogs is not a list"),
    (
        '{"resourceLogs": [{"resource": null}]}',
        BAD_LINE + "resourceLogs[0].resource is not an object",
    ),
    (
        '{"resourceLogs": [{"scopeLogs": [{"scope": {"attributes": {"a": 1}}}]}]}',
        BAD_LINE + "resourceLogs[0].scopeLogs[0].scope.attributes is not a list",
    ),
    ('{"resourceLogs": [], "n": 123456789012345678901234567890}', None),  # beyond 64 bits: fine
    # a request without log records: empty, or of another signal (one file for every pipeline)
    ("{}", None),
    ('{"resourceSpans": [{"scopeSpans": []}]}', None),
    ('{"resourceMetrics": []}', None),
]


@pytest.mark.parametrize(("bad", "reason"), NOT_CAPABLE_BAD)
def test_a_bad_line_that_cannot_hold_a_failure_is_quarantined_all_the_same(tmp_path, bad, reason):
    got = staged(tmp_path, [request(record()), bad], "failure_capable", envelope="otlp")
    bucket = ("irrelevant", None) if reason is None else ("quarantined", reason)
    assert [row[1:3] for row in got] == [("relevant", None), bucket]


def test_a_key_given_twice_counts_the_records_of_its_last_value(tmp_path):
    # JSON decoders keep a duplicate key's last value, simdjson finds its first: the line is
    # read whole, and its 3 records (not 1) are counted.
    one, three = request(record("d", event="debug")), request(*[record("d", event="debug")] * 3)
    line = one.removesuffix("}") + ", " + three.removeprefix("{")
    got = staged(tmp_path, [line], "failure_capable", envelope="otlp")
    assert [row[:2] for row in got] == [(1, "irrelevant"), (2, "irrelevant"), (3, "irrelevant")]


@pytest.mark.parametrize(
    "line",
    [
        "{}",
        request(),
        request(*[record(f"d{i}", event="debug") for i in range(7)], resource={"a": 1}),
        '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{}, {}]}, {}]}, {}]}',
    ],
)
def test_simdjsons_count_is_the_decoded_requests(line):
    groups = otlp.request(json.loads(line))
    records = sum(len(group.records) for group in groups)
    assert otlp_count.counted(line) == otlp_count.Counted(records)


def test_a_line_that_is_not_utf8_is_quarantined_with_its_line(tmp_path):
    bad = request(record("t2")).replace("t2", "t\udcff").encode("utf-8", "surrogateescape")
    got = staged(tmp_path, [request(record()), bad + b"\n"], envelope="otlp")
    assert [row[1:3] for row in got] == [
        ("relevant", None),
        ("quarantined", 'not an OTLP JSON line (envelope = "otlp": line 2): not UTF-8'),
    ]


def test_a_record_that_breaks_the_contract_names_its_line_and_record(tmp_path):
    records = [record(), record("t2", time=None), record("t3")]
    got = staged(tmp_path, ["", request(*records)], envelope="otlp")
    assert [row[:3] for row in got] == [
        (1, "relevant", None),
        (2, "quarantined", 'missing ts (envelope = "otlp": line 2, record 2)'),
        (3, "relevant", None),
    ]
    raw = json.loads(got[1][5])  # the record as plain JSON: attributes as an object
    assert raw["attributes"] == {
        "event": "payment.failed",
        "txn_id": "t2",
        "error_code": "DB_POOL_TIMEOUT",
    }


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_the_funnel_counts_50_records_of_one_line(tmp_path, line_checks):
    # One line of 50 records (5 failures, 45 debug records), a request with none, a bad line:
    # 52 items read from 3 lines.
    records = [
        record(f"t{i}") if i % 10 == 0 else record(f"d{i}", event="debug") for i in range(50)
    ]
    lines = [request(*records), '{"resourceLogs": []}', "not json"]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": {"envelope": "otlp"}},
        quality={"line_checks": line_checks},
    )
    loaded = incident.load(path)
    con = db.connect()
    files = logs.stage(con, loaded, tmp_path)
    tables.stage(con, loaded)
    credits.reconcile(con, loaded)
    assert [(f.lines, f.envelope_lines) for f in files] == [(52, 3)]
    assert manifest.account(con, files).funnel.model_dump() == {
        "lines_read": 52,
        "parsed": 51,
        "relevant": 5,
        "irrelevant": 46,
        "duplicates": 0,
        "quarantined": 1,
        "identity_holds": True,
        "envelope_lines_read": 3,
    }


def test_the_screen_reads_the_otlp_line_before_decoding_it(tmp_path):
    # Line 1 holds a failure in its 7th record, spelt with a \u escape: every record of it is
    # checked in full. Line 2 cannot hold one: its 3 records are counted, not parsed (one of
    # them broken in a way only parsing would see).
    hidden = json.dumps(record("t7")).replace("payment.failed", "payment.fail\\u0065d")
    first = request(*[record(f"d{i}", event="debug") for i in range(6)])
    first = first.removesuffix("]}]}]}") + ", " + hidden + "]}]}]}"  # the 7th of the scope
    second = request(record("d1", event="debug"), record("d2", event="debug", time="x"), {})
    got = staged(tmp_path, [first, second], "failure_capable", envelope="otlp")
    assert [(row[0], row[1], row[3]) for row in got] == [
        *[(i, "irrelevant", None) for i in range(1, 7)],
        (7, "relevant", "t7"),
        *[(i, "irrelevant", None) for i in range(8, 11)],
    ]


@pytest.mark.parametrize(
    ("line_checks", "second"),
    [
        # Only the record that holds the failure is checked in full: the debug record beside
        # it, broken in a way only parsing would see, is counted as a plain line would be.
        ("failure_capable", (2, "irrelevant", None)),
        # line_checks = "all": every record is checked, so the broken one is quarantined.
        ("all", (2, "quarantined", 'missing ts (envelope = "otlp": line 1, record 2)')),
    ],
)
def test_each_record_of_a_failure_capable_otlp_line_is_screened(tmp_path, line_checks, second):
    line = request(record(), record("d2", event="debug", time=None), record("d3", event="debug"))
    got = staged(tmp_path, [line], line_checks, envelope="otlp")
    assert [row[:3] for row in got] == [(1, "relevant", None), second, (3, "irrelevant", None)]


JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjMSJ9.c2lnbmF0dXJl"  # {"alg":"HS256",...}


@pytest.mark.parametrize("failure", [False, True])
def test_a_record_that_logs_a_jwt_is_screened_as_any_other(tmp_path, failure):
    # A record without a time that logs a token: a JWT starts like base64 of a JSON object but
    # is no record kept so. Whether the line is screened as text (no failure in it) or each
    # record as decoded (a failure beside it), the record is counted irrelevant, unparsed
    # (checked in full, it was quarantined as missing ts).
    token = record("d2", event="login", time=None, body={"stringValue": JWT})
    line = request(*([record()] if failure else []), token)
    got = staged(tmp_path, [line], "failure_capable", envelope="otlp")
    assert [row[1:3] for row in got] == [
        *([("relevant", None)] if failure else []),
        ("irrelevant", None),
    ]


def test_an_otlp_record_shipped_twice_is_one_duplicate(tmp_path):
    # The same record in two requests: other resources, other observed times, its integers
    # written as a number once and as a string once.
    once = request(record(observedTimeUnixNano="1736280001000000000"), resource={"host": "a"})
    again = request(
        record(time=str(NS), observedTimeUnixNano=1736280009000000000), resource={"host": "b"}
    )
    got = staged(tmp_path, [once, again], "failure_capable", envelope="otlp")
    assert [row[1] for row in got] == ["relevant", "duplicate"]


# CloudWatch ------------------------------------------------------------------------------------
def message(txn_id: str = "t1", **fields) -> str:
    return json.dumps(
        {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": txn_id, **fields}
    )


def data(*messages, timestamp: int = 1736280000250) -> str:
    events = [{"id": str(i), "timestamp": timestamp, "message": m} for i, m in enumerate(messages)]
    return json.dumps(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/eks/payments",
            "logStream": "pay-1",
            "subscriptionFilters": ["to-firehose"],
            "logEvents": events,
        }
    )


CONTROL = json.dumps(
    {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: health"}],
    }
)


def firehose(*objects: str, members: int = 1) -> bytes:
    """The objects concatenated with no separator, gzip in `members` members cut anywhere."""
    stream = "".join(objects).encode("utf-8", "surrogateescape")
    cuts = [len(stream) * i // members for i in range(members + 1)]
    return b"".join(gzip.compress(stream[a:b], mtime=0) for a, b in itertools.pairwise(cuts))


def cloudwatch(tmp_path, data_bytes: bytes, line_checks="all", **log_format) -> list[tuple]:
    return staged(
        tmp_path,
        [data_bytes],
        line_checks,
        log_name="logs/firehose-1-2025-01-07-20-00-00-abc",
        envelope="cloudwatch",
        **log_format,
    )


@pytest.mark.parametrize("members", [1, 2, 7])
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_cloudwatch_objects_across_gzip_members(tmp_path, members, line_checks):
    # A CONTROL_MESSAGE (one irrelevant item: counted, holds no record), then two objects of
    # events, the gzip members cut inside objects: each message a record, in order.
    stream = firehose(
        CONTROL,
        data(message("t1"), message("t2") + "\n"),
        data(message("t3"), '{"ts": "2025-01-07T20:00:00Z", "event": "debug"}'),
        members=members,
    )
    got = cloudwatch(tmp_path, stream, line_checks)
    assert [(row[0], row[1], row[3]) for row in got] == [
        (1, "irrelevant", None),
        (2, "relevant", "t1"),
        (3, "relevant", "t2"),
        (4, "relevant", "t3"),
        (5, "irrelevant", None),
    ]


def test_cloudwatch_envelope_fields_and_kinds(tmp_path):
    # envelope.timestamp is the event's, in epoch milliseconds; a logfmt message
    stream = firehose(data("event=payment.failed txn_id=t1"))
    got = cloudwatch(tmp_path, stream, kind="logfmt", ts="envelope.timestamp", ts_format="epoch_ms")
    assert [row[1:5] for row in got] == [("relevant", None, "t1", "2025-01-07 20:00:00.25+00")]


BAD_OBJECT = 'not a CloudWatch Logs object (envelope = "cloudwatch": byte {}): '
BAD_EVENT = 'not a CloudWatch log event (envelope = "cloudwatch": byte {}, event 2): '


OBJECT_BAD = ["relevant", "quarantined", "duplicate"]
EVENT_BAD = ["relevant", "relevant", "quarantined", "duplicate"]  # its first event is read


@pytest.mark.parametrize(
    ("bad", "reason", "buckets"),
    [
        (
            '{"messageType": "DATA_MESSAGE", "payment.failed"',
            BAD_OBJECT + "not valid JSON",
            OBJECT_BAD,
        ),
        ('["payment.failed"]', BAD_OBJECT + "not a JSON object", OBJECT_BAD),
        (
            '{"messageType": "payment.failed"}',
            BAD_OBJECT + 'messageType is "payment.failed", not DATA_MESSAGE or CONTROL_MESSAGE',
            OBJECT_BAD,
        ),
        (
            '{"messageType": "DATA_MESSAGE", "logEvents": "payment.failed"}',
            BAD_OBJECT + "logEvents is not a list",
            OBJECT_BAD,
        ),
        (data(message("t2"), 7), BAD_EVENT + "a log event without a string message", EVENT_BAD),
        (
            data(message("t2"), "payment.failed \udcff"),
            BAD_EVENT + "a log event whose message is not UTF-8 (a lone surrogate)",
            EVENT_BAD,
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_bad_cloudwatch_object_or_event_is_quarantined_at_its_offset(
    tmp_path, bad, reason, buckets, line_checks
):
    # Between two good objects, gzip members cut anywhere: the stream is taken up again at
    # the next object, whose record is a duplicate of the first.
    good = data(message("t1"))
    got = cloudwatch(tmp_path, firehose(good, bad, good, members=2), line_checks)
    assert [row[1] for row in got] == buckets
    assert got[len(buckets) - 2][2] == reason.format(len(good))


def test_bytes_that_are_not_utf8_in_a_cloudwatch_stream_are_quarantined(tmp_path):
    good = data(message("t1"))
    bad = data(message("t2")).replace("t2", "t\udcff")  # a raw 0xff byte in the stream
    got = cloudwatch(tmp_path, firehose(good, bad))
    assert [row[1:3] for row in got] == [
        ("relevant", None),
        ("quarantined", BAD_OBJECT.format(len(good)) + "not UTF-8"),
    ]


def test_a_truncated_cloudwatch_file_stops_the_run_naming_the_object(tmp_path):
    stream = firehose(data(message("t1")), data(message("t2")))
    path = write_incident(
        tmp_path / "inc",
        lines=[stream[:-12]],
        sources={"log_format": {"envelope": "cloudwatch"}},
        log_name="logs/firehose-1",  # gzip by its bytes, as Firehose names its objects
    )
    with pytest.raises(
        InputError, match=r"firehose-1: the gzip stream is truncated .* after the object at byte"
    ):
        reconcile_incident(path, tmp_path)


def test_an_integer_beyond_64_bits_is_read_exactly_and_named(tmp_path):
    # orjson reads and writes 64 bits: such a line and record go through the standard library.
    huge = 123456789012345678901234567890
    attributes = [
        kv("event", "payment.failed"),
        kv("txn_id", "t1"),
        kv("amount_minor", {"intValue": huge}),
    ]
    got = staged(tmp_path, [request(record(attributes=attributes))], envelope="otlp")
    assert [row[1:3] for row in got] == [
        ("quarantined", 'amount_minor is out of range (envelope = "otlp": line 1, record 1)')
    ]
    assert f'"amount_minor":{huge}' in got[0][5]


@pytest.mark.parametrize(
    ("log_format", "expected"),
    [
        ({"envelope": "otlp"}, ("timeUnixNano", "epoch_ns")),
        ({"envelope": "otlp", "ts": "timeUnixNano"}, ("timeUnixNano", "epoch_ns")),
        ({"envelope": "otlp", "ts": "attributes.at"}, ("attributes.at", "rfc3339")),
        ({"envelope": "otlp", "ts_format": "epoch_us"}, ("timeUnixNano", "epoch_us")),
        ({"envelope": "cloudwatch"}, ("ts", "rfc3339")),  # the record's own ts
    ],
)
def test_otlp_reads_the_records_time_by_default(tmp_path, log_format, expected):
    path = write_incident(tmp_path / "inc", sources={"log_format": log_format})
    fmt = incident.load(path).sources.log_format
    assert (fmt.ts, fmt.ts_format) == expected


def _protobuf(*fields: tuple[int, bytes | int]) -> bytes:
    """A protobuf message of (field number, bytes: length-delimited, or int: fixed64) fields."""
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += bytes([number << 3 | 1]) + value.to_bytes(8, "little")
            continue
        size, length = len(value), b""
        while size > 0x7F:
            length, size = length + bytes([size & 0x7F | 0x80]), size >> 7
        out += bytes([number << 3 | 2]) + length + bytes([size]) + value
    return out


def otlp_protobuf(*txn_ids: str) -> bytes:
    """An ExportLogsServiceRequest as the collector's file exporter writes it with `format:
    proto`: a 4-byte big-endian length, then the message; each record's body the service's
    JSON line, as the filelog receiver reads it."""

    def log_record(txn_id: str) -> bytes:
        line = json.dumps(
            {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": txn_id}
        )
        attribute = _protobuf((1, b"log.file.name"), (2, _protobuf((1, b"pod-a.log"))))
        return _protobuf((1, NS), (5, _protobuf((1, line.encode()))), (6, attribute))

    scope = _protobuf((1, _protobuf((1, b"pay"))), *((2, log_record(t)) for t in txn_ids))
    message = _protobuf((1, _protobuf((1, _protobuf()), (2, scope))))
    return len(message).to_bytes(4, "big") + message


def otlp_zstd_frames(count: int) -> bytes:
    """Requests as the collector's file exporter writes them with `compression: zstd` (and
    `format: json`): each a zstd frame (its magic, a header, data) after its length in 4 bytes,
    big-endian. No zstd file: `zstd -d` does not read it."""
    frames = [b"\x28\xb5\x2f\xfd\x04\x58" + bytes(range(1, 40)) * (i + 1) for i in range(count)]
    return b"".join(len(frame).to_bytes(4, "big") + frame for frame in frames)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (
            otlp_protobuf("t1", "t2", "t3"),
            "length-prefixed protobuf, as the OpenTelemetry collector's file exporter writes with "
            "`format: proto`: its `format: json` is what is read)",
        ),
        # once only `looks like binary data`, naming neither the setting nor a fix
        (
            otlp_zstd_frames(3),
            "length-prefixed zstd frames, as the OpenTelemetry collector's file exporter writes "
            "with `compression: zstd`: leave it off (its `format: json` lines are read, plain or "
            "gzip))",
        ),
    ],
    ids=["proto", "zstd"],
)
@pytest.mark.parametrize("envelope", ["otlp", "cloudwatch", "none"])
def test_the_otlp_file_exporters_binary_output_stops_the_run_naming_its_setting(
    tmp_path, envelope, data, named
):
    # Read as JSON, the file exporter's `format: proto` was one `not valid JSON` item (or a
    # dozen junk lines), under the gate's min_quarantined_lines: three failures lost unseen.
    path = write_incident(
        tmp_path / "inc",
        sources={"log_format": {"envelope": envelope}},
        log_name="logs/otel-1.json",
    )
    (tmp_path / "inc/logs/otel-1.json").write_bytes(data)
    with pytest.raises(InputError) as raised:
        reconcile_incident(path, tmp_path)
    assert str(raised.value).startswith(
        f"logs/otel-1.json: looks like binary data, not text ({named}"
    )


# Framing by JSON value ---------------------------------------------------------------------------
def framed(data: bytes, piece: int, by_line: bool) -> list[tuple]:
    """(offset, lines, value or problem) of each value, the bytes read `piece` at a time."""
    pieces = (data[i : i + piece] for i in range(0, len(data), piece))
    resync = json_stream.next_line_opening if by_line else logs.cloudwatch.next_object
    return [
        (f.offset, f.lines, f.problem or f.value)
        for f in json_stream.values(pieces, resync, by_line=by_line)
    ]


@pytest.mark.parametrize("piece", [1, 3, 1 << 20])
@pytest.mark.parametrize(
    ("data", "by_line", "expected"),
    [
        # JSON lines, a blank line and CR LF between them: skipped, the lines still counted
        (b'{"a":1}\r\n\n{"b":2}\n', True, [(0, "line 1", {"a": 1}), (10, "line 3", {"b": 2})]),
        # a byte-order mark: three bytes, not a value
        (b'\xef\xbb\xbf{"a":1}', True, [(3, "line 1", {"a": 1})]),
        # a pretty-printed document is one value over its lines
        (b'{\n  "a": [\n    1\n  ]\n}\n', True, [(0, "lines 1-5", {"a": [1]})]),
        # a broken line up to the next line opening a value (one item over two lines)
        (
            b'{"a":\nx\n{"b":2}\n',
            True,
            [(0, "lines 1-2", "not valid JSON"), (8, "line 3", {"b": 2})],
        ),
        # objects with no separator; a broken one up to the next {"messageType"
        (
            b'{"messageType":1}{"messageType":{"messageType":3}',
            False,
            [
                (0, "line 1", {"messageType": 1}),
                (17, "line 1", "not valid JSON"),
                (32, "line 1", {"messageType": 3}),
            ],
        ),
        # ... or after a whole object, or at an object written owner first (as AWS documents)
        (
            b'{"owner":1,"x":[}{"owner":2}{"a":{"owner":3}',
            False,
            [
                (0, "line 1", "not valid JSON"),
                (17, "line 1", {"owner": 2}),
                (28, "line 1", "not valid JSON"),
                (33, "line 1", {"owner": 3}),
            ],
        ),
        # bytes that are not UTF-8
        (b'{"a":"\xff"}{"b":1}', False, [(0, "line 1", "not UTF-8"), (9, "line 1", {"b": 1})]),
    ],
)
def test_json_values_are_framed_with_their_position(data, by_line, expected, piece):
    assert framed(data, piece, by_line) == expected


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("first", ["healthcheck", "payment.failed"])
def test_an_otlp_attribute_given_twice_quarantines_its_record(tmp_path, line_checks, first):
    # Read either way, the record would be another one (a failure or not): never guessed.
    twice = record("t2")
    twice["attributes"] = [kv("event", first), *twice["attributes"]]
    got = staged(tmp_path, [request(record(), twice)], line_checks, envelope="otlp")
    assert [row[1] for row in got] == ["relevant", "quarantined"]
    assert 'the key "event" appears twice in a key/value list' in got[1][2]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_capable_otlp_line_with_a_key_twice_is_quarantined_not_half_read(
    tmp_path, line_checks
):
    # A decoder keeps the last `resourceLogs`: the failure in the first would vanish uncounted.
    failed, other = request(record("t2")), request(record("d", event="debug"))
    line = failed.removesuffix("}") + ", " + other.removeprefix("{")
    got = staged(tmp_path, [request(record()), line], line_checks, envelope="otlp")
    assert [row[1] for row in got] == ["relevant", "quarantined"]
    assert 'the key "resourceLogs" appears twice in one object' in got[1][2]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_cloudwatch_event_with_its_message_twice_is_quarantined(tmp_path, line_checks):
    good = data(message("t1"))
    twice = data(message("t2")).replace('"message": ', '"message": "noise", "message": ', 1)
    got = cloudwatch(tmp_path, firehose(good, twice), line_checks)
    assert [row[1] for row in got] == ["relevant", "quarantined"]
    assert 'the key "message" appears twice in one object' in got[1][2]


@pytest.mark.parametrize("envelope", ["otlp", "cloudwatch"])
def test_a_value_longer_than_is_read_at_once_stops_the_run(tmp_path, monkeypatch, envelope):
    # A collector's batch over the limit was one quarantined item, under the quarantine
    # limit, whatever failures it held: the run passed without them.
    monkeypatch.setattr(json_stream, "MAX_VALUE_BYTES", 4096)
    monkeypatch.setattr(source, "READ_BYTES", 1024)  # pieces smaller than the limit
    monkeypatch.setattr(source, "BLOCK_BYTES", 1024)
    many = [record(f"t{n}") for n in range(60)]
    if envelope == "otlp":
        text = (request(record("t0")) + "\n" + request(*many) + "\n").encode()
        where = "line 2"
    else:
        first = data(message("t0"))
        text = firehose(first, data(*(message(f"t{n}") for n in range(60))))
        where = f"the object at byte {len(first)}"
    path = write_incident(
        tmp_path / "inc",
        lines=[text],
        sources={"log_format": {"envelope": envelope}},
        log_name="logs/batch-1",
    )
    with pytest.raises(InputError) as raised:
        reconcile_incident(path, tmp_path)
    assert str(raised.value).startswith(
        f"logs/batch-1: {where}: a JSON value longer than is read at once: more than 0 MiB, "
        "which is not read"
    ), raised.value


LINE = json.dumps(
    {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed", "txn_id": "t1", "note": "x" * 40},
    separators=(",", ":"),
)


def container_record(body: str, tag: str) -> dict:
    """A record of the filelog receiver's container parser: the kubelet's line as the body,
    its tag as the attribute `logtag` (P: a part the runtime split)."""
    attributes = [kv("log.iostream", "stdout"), kv("logtag", tag)]
    return {
        "observedTimeUnixNano": str(NS + 10**9),
        "body": {"stringValue": body},
        "attributes": attributes,
    }


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_part_of_a_line_the_runtime_split_is_a_part_in_otlp_too(tmp_path, line_checks):
    # The receiver's recombining gave up on a long line (its max_log_size, its flush period):
    # each part a record, the event's name cut in two, both counted irrelevant unseen, and the
    # failure never credited. A joined record keeps its first part's tag, P: whole, it is read.
    cut = LINE.index("payment.failed") + 5
    whole = container_record(LINE.replace('"t1"', '"t2"'), "P")
    lines = [request(whole, container_record(LINE[:cut], "P"), container_record(LINE[cut:], "F"))]
    got = staged(tmp_path, lines, line_checks, envelope="otlp")
    assert got[0][:4] == (1, "relevant", None, "t2")
    assert got[1][:2] == (2, "quarantined")
    assert got[1][2].startswith(
        'part of a record the collector split (its logtag attribute P, envelope = "otlp": '
        "line 1, record 2): have the collector join the parts"
    )


def test_a_part_holding_a_failure_event_stops_the_run_in_otlp_too(tmp_path):
    cut = LINE.index("payment.failed") + 20
    lines = [request(container_record(LINE[:cut], "P"), container_record(LINE[cut:], "F"))]
    message = (
        r"^logs/pod-a.jsonl: line 1 is part of a record the collector split, holding a failure "
        r"event \(payment.failed\): .* Have the collector join the parts \(the filelog"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, "failure_capable", envelope="otlp")
