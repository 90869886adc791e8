"""`[sources.log_format]` envelopes and payloads: records unwrapped from container runtime (CRI)
lines, Docker json-file entries and a JSON string field, partial lines joined per stream, bad
envelopes and unfinished partials quarantined with their line, records counted in the funnel.
(The sample wrapped in each gives the plain run's outputs: `test_log_formats`.)"""

from __future__ import annotations

import base64
import gzip
import json
import re
import tomllib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests import log_formats
from tests.builders import failure, reconcile_incident, stopped, txn, write_incident
from transforms import db
from transforms.errors import ConfigError, InputError
from transforms.ingest import incident, logs, tables
from transforms.ingest.logs import framed, framing, mending, screen
from transforms.reconcile import credits, policy_checks
from transforms.runfolder import manifest

RECORD = json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z"), separators=(",", ":"))
TIME = "2025-01-07T20:00:00.123456789Z"


def cri(message: str, stream: str = "stdout", tag: str = "F", time: str = TIME) -> str:
    return f"{time} {stream} {tag} {message}"


def docker(log: str, stream: str = "stdout", time: str = TIME) -> str:
    return json.dumps({"log": log, "stream": stream, "time": time})


def splunk_result(raw: str, last: bool = False) -> str:
    """One result of Splunk's export as `search/jobs/export?output_mode=json` writes it."""
    result = {
        "_bkt": "main~12~6D3E",
        "_cd": "12:345",
        "_indextime": "1736280001",
        "_raw": raw,
        "_serial": "0",
        "_si": ["idx-1", "main"],
        "_sourcetype": "_json",
        "_time": "2025-01-07T20:00:00.500+00:00",
        "host": "node-1",
        "index": "main",
        "source": "/var/log/pay.log",
        "sourcetype": "_json",
    }
    head = {"preview": False, "offset": 0} | ({"lastrow": True} if last else {})
    return json.dumps(head | {"result": result}, separators=(",", ":"))


def splunk_csv_row(raw: str) -> str:
    """One event of Splunk's CSV export (`_raw`, `_time`, ...: RFC 4180, every field quoted)."""
    fields = [raw, "2025-01-07T20:00:00.500+0000", "node-1", "/var/log/pay.log", "_json"]
    return ",".join('"' + field.replace('"', '""') + '"' for field in fields)


def staged(tmp_path, lines, line_checks="all", **log_format) -> list[tuple]:
    """The buckets of the lines' records: (line, bucket, reason, txn_id, ts, raw)."""
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
    )
    con = reconcile_incident(path, tmp_path)
    return con.sql(
        "select line, bucket, quarantine_reason, txn_id, ts_utc::varchar, raw "
        "from int_log_lines_bucketed order by line"
    ).fetchall()


NOISE = '{"ts": "2025-01-07T20:00:00Z", "event": "retrying"}'  # a record of the other stream
RELEVANT = ("relevant", None, "t1", "2025-01-07 20:00:00.5+00", None)
QUIET_RECORD = json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "http.request"})


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("envelope", ["cri", "docker"])
def test_a_record_split_at_every_byte_is_joined(tmp_path, envelope, line_checks):
    # The record cut into two partial lines at every byte, a line of stderr between the parts:
    # each one record, found by the failure-capable screen even when the cut splits the event.
    lines = []
    cuts = range(1, len(RECORD))
    for cut in cuts:
        record = RECORD.replace('"t1"', f'"t{cut:03d}"')
        head, tail = record[:cut], record[cut:]
        noise = NOISE.replace("retrying", f"retrying {cut}")  # no two alike: none a duplicate
        if envelope == "cri":
            lines += [cri(head, tag="P"), cri(noise, "stderr"), cri(tail)]
        else:
            lines += [docker(head), docker(noise + "\n", "stderr"), docker(tail + "\n")]
    got = staged(tmp_path, lines, line_checks, envelope=envelope)
    assert [row[:4] for row in got if row[1] != "irrelevant"] == [
        (3 * i + 1, "relevant", None, f"t{cut:03d}") for i, cut in enumerate(cuts)
    ]
    assert [row[0] for row in got if row[1] == "irrelevant"] == [
        3 * i + 2 for i in range(len(cuts))
    ]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_cri_record_cut_inside_a_character_is_joined(tmp_path, line_checks):
    # containerd cuts a long line after a number of bytes, inside a character if one is there:
    # the P line ends with its first bytes, the stream's next line starts with the rest (a
    # stderr line between). Each cut of a 2-, 3- and 4-byte character: one record, read.
    lines = []
    cuts = [(character, at) for character in "ä€𝄞" for at in range(1, len(character.encode()))]
    for number, (character, at) in enumerate(cuts, 1):
        record = failure(f"t{number}", ts="2025-01-07T20:00:00.5Z", note=f"K{character}ufer")
        data = json.dumps(record, ensure_ascii=False).encode()
        cut = data.index(character.encode()) + at
        lines += [cri("", tag="P").encode() + data[:cut] + b"\n"]
        lines += [cri(NOISE.replace("retrying", f"retrying {number}"), "stderr")]
        lines += [cri("").encode() + data[cut:] + b"\n"]
    got = staged(tmp_path, lines, line_checks, envelope="cri")
    assert [row[:4] for row in got if row[1] != "irrelevant"] == [
        (3 * i + 1, "relevant", None, f"t{i + 1}") for i in range(len(cuts))
    ]


def test_bytes_that_are_no_character_cut_stay_quarantined(tmp_path):
    # A P line ending in a character's first bytes whose next part does not go on with it, and
    # an F line ending inside a character: no cut of the runtime's, each still invalid UTF-8
    # (the moved bytes shown, and counted, at the start of the next part's message).
    head, tail = RECORD[:20].encode(), RECORD[20:].replace("t1", "t2").encode()
    lines = [cri("", tag="P").encode() + head + b"\xe2\x82\n", cri("X").encode() + tail + b"\n"]
    whole = cri(RECORD.replace("t1", "t3")).encode()
    lines += [whole + b"\xe2\x82\n"]
    got = staged(tmp_path, lines, envelope="cri")
    assert [row[:3] for row in got] == [
        (
            1,
            "quarantined",
            'unfinished partial line (envelope = "cri"): the file ends before '
            "the F line of this stdout record, lines 1-1",
        ),
        (2, "quarantined", "invalid UTF-8 at byte 41 of the line"),
        (3, "quarantined", f"invalid UTF-8 at byte {len(whole) + 1} of the line"),
    ]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    ("record", "kind", "reason"),
    [
        # a CR in a logfmt id: the contract names it (read as "t1x", another id, once cut)
        (
            'ts=2025-01-07T20:00:00.5Z event=payment.failed txn_id="t1\rx" error_code=X',
            "logfmt",
            "txn_id holds U+000D",
        ),
        # a raw CR inside a JSON string: no JSON (read as "t1x" once cut)
        (RECORD.replace('"t1"', '"t1\rx"'), "jsonl", "not valid JSON"),
    ],
)
def test_a_cr_that_ends_a_cri_partial_line_is_the_records(
    tmp_path, record, kind, reason, line_checks
):
    # The runtime cuts a long line after a number of bytes, after a CR of the service's too:
    # the P line ends in it, and the framing dropped it as a CRLF line end, so the joined
    # record was another than the one written (and than the same record uncut).
    cut = record.index("\r") + 1
    lines = [cri(record[:cut], tag="P"), cri(record[cut:]), cri(record.replace("t1", "t2"))]
    got = staged(tmp_path, lines, line_checks, envelope="cri", kind=kind)
    assert [(row[0], row[1], (row[2] or "").startswith(reason)) for row in got] == [
        (1, "quarantined", True),
        (3, "quarantined", True),
    ]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_cri_file_whose_line_ends_were_made_crlf_joins_its_parts_without_them(
    tmp_path, line_checks
):
    # Every line ends in CR LF (a copy through a tool that converts line ends): no CR is the
    # service's, so none is kept in a joined record (the event's name cut by one).
    cut = RECORD.index("payment.failed") + len("payment.fa")
    lines = [cri(RECORD[:cut], tag="P"), cri(NOISE, "stderr"), cri(RECORD[cut:])]
    got = staged(tmp_path, [line.encode() + b"\r\n" for line in lines], line_checks, envelope="cri")
    assert [row[:4] for row in got] == [(1, *RELEVANT[:3]), (2, "irrelevant", None, None)]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("last_line_end", ["\n", ""])
def test_a_cr_that_ends_a_cri_partial_line_is_the_records_in_a_block_of_its_own(
    tmp_path, last_line_end, line_checks
):
    # The file is framed in blocks (its first MiB, then 4 MiB at a time): the P line here is
    # the only whole line of its block, the last line has no LF (a file copied as it was
    # written). The lines before it end in an LF alone, so its CR is the record's, as when the
    # last line ends in LF; it was dropped as a CRLF line end: "t1\rx" read as t1x, credited.
    record = RECORD.replace('"t1"', '"t1\rx"')
    cut = record.index("\r") + 1
    noise = (cri(NOISE, "stderr") + "\n").encode()
    before = ((1 << 20) - 20) // len(noise)  # the P line starts before the first MiB's end
    data = noise * before + f"{cri(record[:cut], tag='P')}\n{cri(record[cut:])}".encode()
    got = staged(tmp_path, [data + last_line_end.encode()], line_checks, envelope="cri")
    assert [row[:2] for row in got if row[0] > before] == [(before + 1, "quarantined")]
    assert got[-1][2].startswith("not valid JSON")


def test_a_character_cut_at_the_end_of_a_block_is_mended_in_the_next():
    # The framing reads a file in blocks: the cut's first bytes wait for the stream's next line.
    mender = mending.Mender()
    first, second = b"T stdout P ab\xe2\x82\nT stderr F x\n", b"T stdout F \xac}\n"
    assert mender.mend(first, len(first)) == (b"T stdout P ab\nT stderr F x\n", 27)
    assert mender.mend(second, len(second)) == (b"T stdout F \xe2\x82\xac}\n", 16)


class _Pieces:
    """A source of the given decompressed pieces (each a block of the framing)."""

    def __init__(self, *pieces: bytes):
        self._pieces = pieces

    def pieces(self):
        return iter(self._pieces)


CUT = b"T stdout P ab\xe2\x82\n"  # a P line cut inside "€"
CUT_SHOWN = ("invalid UTF-8 at byte 14 of the line", "T stdout P ab\\xe2\\x82")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        # the stream's next line in the next block: mended, the held block framed first
        (
            [CUT + b"T stderr F x\n", b"T stdout F \xac}\n"],
            [
                (1, "T stdout P ab\n", None),
                (2, "T stderr F x\n", None),
                (3, "T stdout F \u20ac}\n", None),
            ],
        ),
        # no later line of its stream, the file ends: the bytes written back onto their line,
        # quarantined with them as before (they silently left its preview)
        ([CUT + b"T stderr F x\n"], [(1, None, CUT_SHOWN), (2, "T stderr F x\n", None)]),
        ([b"T stderr F x\n", CUT], [(1, "T stderr F x\n", None), (2, None, CUT_SHOWN)]),
        # none in the next block: written back all the same; its next part stays invalid
        (
            [CUT, b"T stderr F x\n", b"T stdout F \xac}\n"],
            [
                (1, None, CUT_SHOWN),
                (2, "T stderr F x\n", None),
                (3, None, ("invalid UTF-8 at byte 12 of the line", "T stdout F \\xac}")),
            ],
        ),
    ],
    ids=["next-block", "file-ends", "last-line", "two-blocks-on"],
)
def test_bytes_cut_from_a_partial_line_are_never_dropped(pieces, expected):
    framer = framing.Framer(1, "logs/pod-a.log", _Pieces(*pieces), cri=True)
    rows = pa.Table.from_batches(list(framer.blocks()), framed.FRAMED_SCHEMA).to_pylist()
    got = [
        (r["line"], r["raw"], None if r["problem"] is None else (r["problem"], r["preview"]))
        for r in rows
    ]
    assert got == expected


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "spaced"])
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_docker_record_split_after_an_entry_whose_attrs_end_in_a_line_feed_is_joined(
    tmp_path, line_checks, compact
):
    # Docker writes `attrs` (labels, env, tag) after `stream`: a value of it ending in a line
    # feed says nothing of whether `log` does. Cut inside the event, neither part holds it.
    cut = RECORD.index("payment.fa") + len("payment.fa")
    separators = (",", ":") if compact else (", ", ": ")
    head = {"log": RECORD[:cut], "stream": "stdout", "attrs": {"tag": "x\n"}, "time": TIME}
    tail = {"log": RECORD[cut:] + "\n", "stream": "stdout", "time": TIME}
    lines = [json.dumps(entry, separators=separators) for entry in (head, tail)]
    got = staged(tmp_path, lines, line_checks, envelope="docker")
    assert [row[:4] for row in got] == [(1, "relevant", None, "t1")]


@pytest.mark.parametrize("envelope", ["cri", "docker"])
def test_streams_interleave_and_a_record_spans_many_parts(tmp_path, envelope):
    # Two records split over three parts each, stdout and stderr alternating: each joined in
    # its stream's order, keyed by its first line; the funnel counts 2 records from 6 lines.
    other = RECORD.replace("t1", "t2")
    parts = [RECORD[:10], RECORD[10:30], RECORD[30:]]
    second = [other[:5], other[5:50], other[50:]]
    lines = []
    for i in range(3):
        last = i == 2
        if envelope == "cri":
            lines += [cri(parts[i], tag="F" if last else "P")]
            lines += [cri(second[i], "stderr", "F" if last else "P")]
        else:
            lines += [docker(parts[i] + ("\n" if last else ""))]
            lines += [docker(second[i] + ("\n" if last else ""), "stderr")]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": {"envelope": envelope}},
        quality={"line_checks": "all"},
    )
    con = db.connect()
    files = logs.stage(con, incident.load(path), tmp_path)
    assert [(f.lines, f.envelope_lines) for f in files] == [(2, 6)]
    got = con.sql("select line, txn_id from int_log_lines_bucketed order by line").fetchall()
    assert got == [(1, "t1"), (2, "t2")]


@pytest.mark.parametrize("envelope", ["cri", "docker"])
def test_only_a_stream_with_a_partial_line_is_joined(tmp_path, envelope):
    # stdout holds a record in two parts; stderr's whole lines, before, between and after, are
    # each a record of their own (in a stream without a partial line no line is grouped). A
    # Docker entry without "stream" is of the stream "none": its parts are joined too.
    other = RECORD.replace("t1", "t2")
    if envelope == "cri":
        lines = [cri(other, "stderr"), cri(RECORD[:20], tag="P"), cri(NOISE, "stderr")]
        lines += [cri(RECORD[20:]), cri(NOISE.replace("retrying", "again"), "stderr")]
    else:
        no_stream = [json.dumps({"log": part}) for part in (other[:20], other[20:] + "\n")]
        lines = [no_stream[0], docker(RECORD[:20]), docker(NOISE + "\n", "stderr")]
        lines += [docker(RECORD[20:] + "\n"), no_stream[1]]
    got = staged(tmp_path, lines, envelope=envelope)
    # A record is keyed by its first line: t1 by line 2 (lines 2 and 4); t2 by line 1 (CRI: a
    # whole line; Docker: lines 1 and 5).
    expected = [(1, "relevant", "t2"), (2, "relevant", "t1"), (3, "irrelevant", None)]
    if envelope == "cri":
        expected.append((5, "irrelevant", None))
    assert [(row[0], row[1], row[3]) for row in got] == expected


def test_the_specifications_own_examples_read(tmp_path):
    # The kubelet's CRI example (a message in two parts) and Docker's json-file example.
    kubelet = [
        "2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
        "2016-10-06T00:17:09.669794202Z stdout P First line of log entry 2",
        "2016-10-06T00:17:09.669794202Z stdout F Second line of the log entry 2",
        "2016-10-06T00:17:10.113242941Z stderr F Last line of the log entry 2",
    ]
    got = staged(tmp_path / "cri", kubelet, envelope="cri")
    assert [(row[0], row[2], row[5]) for row in got] == [
        (1, "not valid JSON", "The content of the log entry 1"),
        (2, "not valid JSON", "First line of log entry 2Second line of the log entry 2"),
        (4, "not valid JSON", "Last line of the log entry 2"),
    ]
    example = (
        '{"log":"Log line is here\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}'
    )
    got = staged(tmp_path / "docker", [example], envelope="docker")
    assert [(row[0], row[2], row[5]) for row in got] == [(1, "not valid JSON", "Log line is here")]


@pytest.mark.parametrize(
    ("lines", "log_format", "expected"),
    [
        # the envelope's time, to the nanosecond (truncated to the microsecond)
        (
            [cri(json.dumps({"event": "payment.failed", "txn_id": "t1"}))],
            {"envelope": "cri", "ts": "envelope.time"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.123456+00", None),
        ),
        (
            [docker(json.dumps({"event": "payment.failed", "txn_id": "t1"}) + "\n")],
            {"envelope": "docker", "ts": "envelope.time"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.123456+00", None),
        ),
        # Fluent Bit without a parser: the record is the text of `log`; envelope.* reads around it
        (
            [json.dumps({"date": 1736280000.25, "log": RECORD + "\n", "k8s": {"pod": "p"}})],
            {"payload": "log"},
            (1, *RELEVANT),
        ),
        (
            [json.dumps({"date": 1736280000.25, "log": RECORD.replace('"ts"', '"t"')})],
            {"payload": "log", "ts": "envelope.date", "ts_format": "epoch_s"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.25+00", None),
        ),
        # a typo in a payload's envelope path (`envelope.tiem`; an envelope's own fields are
        # known, a config error): each line was `missing ts`, the path never named; the reason
        # names it and the keys the envelope has
        (
            [json.dumps({"date": 1736280000.25, "log": RECORD.replace('"ts"', '"t"')})],
            {"payload": "log", "ts": "envelope.tiem", "ts_format": "epoch_s"},
            (
                1,
                "quarantined",
                'missing ts (sources.log_format.ts is "envelope.tiem": the envelope has no '
                "tiem; its keys: date, log)",
                None,
                None,
                RECORD.replace('"ts"', '"t"'),
            ),
        ),
        (
            [json.dumps({"kind": None, "log": RECORD.replace('"event"', '"e"')})],
            {"payload": "log", "event": "envelope.knd"},
            (
                1,
                "quarantined",
                'missing event (sources.log_format.event is "envelope.knd": the envelope has '
                "no knd; its keys: kind, log)",
                None,
                None,
                RECORD.replace('"event"', '"e"'),
            ),
        ),
        # GELF (Vector's gelf codec): the record the text of `short_message`, or its time
        # GELF's own, epoch seconds
        (
            [json.dumps({"version": "1.1", "host": "n1", "short_message": RECORD, "level": 6})],
            {"payload": "short_message"},
            (1, *RELEVANT),
        ),
        (
            [
                json.dumps(
                    {
                        "version": "1.1",
                        "host": "n1",
                        "short_message": RECORD.replace('"ts"', '"t"'),
                        "timestamp": 1736280000.25,
                    }
                )
            ],
            {"payload": "short_message", "ts": "envelope.timestamp", "ts_format": "epoch_s"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.25+00", None),
        ),
        # ... Vector's after parse_json into .message (its file sink's json encoding): the
        # record an object, read as the text the collector wrote it in (a JSON record only)
        (
            [json.dumps({"message": json.loads(RECORD), "source_type": "file", "timestamp": TIME})],
            {"payload": "message"},
            (1, *RELEVANT),
        ),
        (
            [
                json.dumps(
                    {"message": {"ts": 1736280000.25, "event": "payment.failed", "txn_id": "t1"}}
                )
            ],
            {"payload": "message", "ts_format": "epoch_s"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.25+00", None),
        ),
        (
            [json.dumps({"message": {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed"}})],
            {"payload": "message", "kind": "logfmt"},
            (
                1,
                "quarantined",
                "not a JSON object with a string at message (sources.log_format.payload)",
                None,
                None,
                json.dumps(
                    {"message": {"ts": "2025-01-07T20:00:00.5Z", "event": "payment.failed"}}
                ),
            ),
        ),
        # ... a nested payload, inside a Docker entry
        (
            [docker(json.dumps({"fluent": {"message": RECORD}}) + "\n")],
            {"envelope": "docker", "payload": "fluent.message"},
            (1, *RELEVANT),
        ),
        # kubectl logs --timestamps (docker logs -t): the kubelet's RFC 3339 time, nanoseconds
        (
            [f"{TIME} {RECORD}"],
            {"envelope": "cloudwatch_export"},
            (1, *RELEVANT),
        ),
        (
            [f"{TIME} " + RECORD.replace('"ts":"2025-01-07T20:00:00.5Z",', "")],
            {"envelope": "cloudwatch_export", "ts": "envelope.timestamp"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.123456+00", None),
        ),
        # the settings the hints below name: Splunk's export (its _time, milliseconds), a Log
        # Analytics export of ContainerLogV2 (its TimeGenerated, 7 decimals)
        (
            [splunk_result(RECORD.replace('"ts"', '"t"'))],
            {"payload": "result._raw", "ts": "envelope.result._time"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.5+00", None),
        ),
        (
            [
                json.dumps(
                    {
                        "TimeGenerated": "2025-01-07T20:00:00.1234567Z",
                        "LogMessage": {"event": "payment.failed", "txn_id": "t1"},
                    }
                )
            ],
            {"payload": "LogMessage", "ts": "envelope.TimeGenerated"},
            (1, "relevant", None, "t1", "2025-01-07 20:00:00.123456+00", None),
        ),
        # a record in logfmt inside a CRI line
        (
            [cri("ts=2025-01-07T20:00:00.5Z event=payment.failed txn_id=t1")],
            {"envelope": "cri", "kind": "logfmt"},
            (1, *RELEVANT),
        ),
    ],
)
def test_envelope_fields_and_payloads(tmp_path, lines, log_format, expected):
    assert staged(tmp_path, lines, **log_format) == [expected]


@pytest.mark.parametrize("envelope", ["docker", "fluentbit"])
def test_the_screen_finds_a_failure_event_inside_an_escaped_string(tmp_path, envelope):
    # Inside a JSON string the record's quotes are escaped (\"event\":\"payment.failed\"), and
    # an event written with a \u escape is escaped twice (\\u0065): both are failure-capable.
    literal = RECORD
    escaped = RECORD.replace("payment.failed", "payment.fail\\u0065d").replace("t1", "t2")
    if envelope == "docker":
        lines = [docker(literal + "\n"), docker(escaped + "\n")]
        log_format = {"envelope": "docker"}
    else:
        lines = [json.dumps({"log": literal}), json.dumps({"log": escaped})]
        log_format = {"payload": "log"}
    assert '\\"event\\":\\"payment.failed\\"' in lines[0]
    assert "payment.fail\\\\u0065d" in lines[1]
    got = staged(tmp_path, lines, "failure_capable", **log_format)
    assert [(row[1], row[3]) for row in got] == [("relevant", "t1"), ("relevant", "t2")]


def test_the_screen_finds_an_event_the_envelope_escapes_in_a_literal_record(tmp_path):
    # A plain-text record (regex: its bytes are literal) whose event the Docker entry's JSON
    # string spells with an escape: the record reads payment.failed, so the line is checked.
    line = '{"log": "2025-01-07T20:00:00.5Z payment.fail\\u0065d t1\\n", "stream": "stdout"}'
    pattern = r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"
    got = staged(
        tmp_path, [line], "failure_capable", envelope="docker", kind="regex", pattern=pattern
    )
    assert got == [(1, *RELEVANT)]


BAD_CRI = 'not a CRI line (envelope = "cri"): expected "<time> <stdout|stderr> <P|F> <message>"'
BAD_DOCKER = (
    'not a Docker json-file entry (envelope = "docker"): expected a JSON object with a string "log"'
)
BAD_CRI_SHAPE = 'not a CRI line (envelope = "cri", shape check)'
BAD_PAYLOAD = "not a JSON object with a string at log (sources.log_format.payload)"
LIST_PAYLOAD = (
    "log is a list, not a string or bytes (sources.log_format.payload): journalctl -o json "
    "writes a field an entry gives twice as the list of its values, so the record is ambiguous"
)
NOT_UTF8_PAYLOAD = (
    "log is a list of byte values that are not UTF-8 (sources.log_format.payload): journalctl "
    "-o json writes a message holding such bytes so, and the record is not text: have the "
    "service write UTF-8"
)


AWS_LOGS_HINT = (
    "the AWS CLI's aws logs get-log-events (or filter-log-events) output: write each event a "
    "line (jq -c '.events[]' FILE) and set payload = \"message\""
)
JOURNALD = {"__REALTIME_TIMESTAMP": "1736280000500123", "_PID": "42", "MESSAGE": RECORD}
VECTOR = {"host": "n1", "message": RECORD, "source_type": "file", "timestamp": TIME}
LOGSTASH = {"@timestamp": "2025-01-07T20:00:00.512Z", "@version": "1", "message": RECORD}
OTLP_LINE = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": RECORD}}]}]}]}


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        (
            docker(RECORD + "\n"),
            'a Docker json-file entry: set envelope = "docker"',
        ),
        (
            json.dumps(JOURNALD),
            'journalctl -o json: set payload = "MESSAGE"',
        ),
        (json.dumps(VECTOR), 'Vector\'s JSON: set payload = "message"'),
        (
            json.dumps(LOGSTASH),
            'Logstash\'s JSON: set payload = "message"',
        ),
        (
            json.dumps({"date": 1736280000.5, "log": RECORD}),
            'Fluent Bit\'s JSON: set payload = "log"',
        ),
        (json.dumps(OTLP_LINE), 'OTLP JSON: set envelope = "otlp"'),
        (
            json.dumps({"labels": {"app": "pay"}, "line": RECORD, "timestamp": TIME}),
            'a Loki export (logcli --output jsonl): set payload = "line"',
        ),
        (
            json.dumps({"@timestamp": TIME, "message": RECORD, "ecs": {"version": "8.0.0"}}),
            'Filebeat\'s JSON (Elastic Common Schema): set payload = "message"',
        ),
        (
            json.dumps({"jsonPayload": json.loads(RECORD), "timestamp": TIME}),
            'a Cloud Logging export: set ts = "jsonPayload.ts", event = "jsonPayload.event"',
        ),
        (
            json.dumps({"textPayload": RECORD, "timestamp": TIME}),
            'a Cloud Logging export of text: set payload = "textPayload"',
        ),
        (
            # a Datadog log archive's entry, its record parsed into attributes (as Datadog's
            # archive format documents it: _id, date, host, service, status, message, ...)
            json.dumps(
                {
                    "_id": "AZQ1",
                    "date": "2025-01-07T20:00:00.500Z",
                    "host": "node-1",
                    "service": "pay",
                    "status": "error",
                    "message": RECORD,
                    "attributes": json.loads(RECORD),
                    "tags": ["env:prod"],
                }
            ),
            'a Datadog log archive: set ts = "attributes.ts", event = "attributes.event", '
            'txn_id = "attributes.txn_id", ...',
        ),
        # a Splunk export (REST search/jobs/export, output_mode=json): the event in result._raw
        (splunk_result(RECORD), 'a Splunk export (output_mode=json): set payload = "result._raw"'),
        # Azure: a Log Analytics export of ContainerLogV2 (LogMessage, an object when the
        # line is JSON), and resource logs batched in `records` as Event Hubs receive them
        (
            json.dumps(
                {
                    "TimeGenerated": "2025-01-07T20:00:00.5000000Z",
                    "Computer": "aks-node-1",
                    "ContainerName": "api",
                    "PodName": "pay-1",
                    "LogMessage": json.loads(RECORD),
                    "LogSource": "stdout",
                    "Type": "ContainerLogV2",
                }
            ),
            'an Azure Log Analytics export (ContainerLogV2): set payload = "LogMessage"',
        ),
        (
            json.dumps(
                {"records": [{"time": TIME, "category": "C", "properties": {"log": RECORD}}]}
            ),
            "Azure Monitor's resource logs as Event Hubs batch them",
        ),
        (json.dumps({"event": "payment.failed", "txn_id": "t1", "records": 3}), None),
        (
            # Fluent Bit's multiline cri parser (Kubernetes' tail input): the kubelet's fields
            # and the message in `log`, a Docker entry's keys but never its line feed
            json.dumps({"time": TIME, "stream": "stdout", "_p": "F", "log": RECORD}),
            'Fluent Bit\'s record of a CRI line (multiline.parser cri): set payload = "log"',
        ),
        # a collector's record holding the service's JSON line alone: Fluent Bit's plain
        # output of its tail input, fluentd's in_tail without a parser (its json format),
        # Fluent Bit's classic cri parser, a CloudWatch event (aws logs get-log-events)
        (json.dumps({"log": RECORD}), 'a collector\'s record: set payload = "log"'),
        # Vector's native_json codec: the event's fields inside `log`, the record its message
        # (named payload = "log", which reads no string)
        (
            json.dumps({"log": {"message": RECORD, "source_type": "file", "timestamp": TIME}}),
            'Vector\'s native_json codec: set payload = "log.message"',
        ),
        (json.dumps({"message": RECORD}), 'a collector\'s record: set payload = "message"'),
        (
            json.dumps({"stream": "stdout", "logtag": "F", "message": RECORD}),
            'a collector\'s record: set payload = "message"',
        ),
        (
            json.dumps({"timestamp": 1736280000500, "message": RECORD, "ingestionTime": 1}),
            'a collector\'s record: set payload = "message"',
        ),
        # aws logs get-log-events (filter-log-events) output made one line (jq -c .): all its
        # events, each a record in its message, one quarantined item
        (
            json.dumps(
                {
                    "events": [{"timestamp": 1736280000500, "message": RECORD}],
                    "nextForwardToken": "f/1",
                    "nextBackwardToken": "b/1",
                }
            ),
            AWS_LOGS_HINT,
        ),
        (
            json.dumps(
                {"events": [{"logStreamName": "s", "message": RECORD}], "searchedLogStreams": []}
            ),
            AWS_LOGS_HINT,
        ),
        (json.dumps({"event": "payment.failed", "txn_id": "t1"}), None),  # no envelope: no hint
        # the service's own text in a `message`: no record in it, no hint
        (json.dumps({"event": "payment.failed", "message": "payment.failed: t1"}), None),
    ],
)
def test_a_collectors_line_read_as_the_record_names_the_setting_that_reads_it(tmp_path, line, hint):
    # A collector's line read with the default format lacks `ts`, and the reason says which
    # [sources.log_format] setting reads it (a file of them stops the run, naming it: below).
    got = staged(tmp_path, [NOISE, line])[1]
    expected = "missing ts" if hint is None else f"missing ts (the line looks like {hint}"
    assert got[1] == "quarantined"
    assert got[2].startswith(expected)
    assert hint is not None or got[2] == expected


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_collectors_file_read_with_the_default_format_stops_the_run(
    tmp_path, line_checks, as_bytes
):
    # journalctl -o json read without payload = "MESSAGE": its one failure line was quarantined
    # under the quarantine limit beside 20 quiet ones (or, its message as byte values, counted
    # irrelevant unseen), and the run passed, the failure never credited
    quiet = json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "http.request"})
    messages = [quiet] * 20 + [RECORD]
    if as_bytes:
        messages = [list((message + "\r").encode()) for message in messages]
    lines = [_journal_entry(message) for message in messages]
    path = write_incident(tmp_path / "inc", lines=lines, quality={"line_checks": line_checks})
    assert stopped(path, tmp_path) == (
        "logs/pod-a.jsonl: no line of it is a record read with [sources.log_format], and line "
        '1 looks like journalctl -o json: set payload = "MESSAGE", and ts = '
        '"envelope.__REALTIME_TIMESTAMP" with ts_format = "epoch_us" if the message has no '
        "time of its own, in [sources.log_format]: read so, its failures would each be "
        "quarantined, under the quarantine limit, and never credited; set it, then run again"
    )


@pytest.mark.parametrize(
    ("entry", "setting"),
    [
        # Fluent Bit's plain output of its tail input: each line {"log": "<the service's line>"}
        (
            lambda message: json.dumps({"log": message}),
            'a collector\'s record: set payload = "log"',
        ),
        # Fluent Bit's multiline cri parser: following the Docker entry's setting instead would
        # join each record to the next, its `log` never ending in a line feed
        (
            lambda message: json.dumps(
                {"time": TIME, "stream": "stdout", "_p": "F", "log": message}
            ),
            "Fluent Bit's record of a CRI line (multiline.parser cri)",
        ),
        # journalctl -o json-sse, and Fluent Bit's csv output: a prefix before each record
        (
            lambda message: f"data: {json.dumps({**JOURNALD, 'MESSAGE': message})}\n",
            "journalctl -o json-sse",
        ),
        (
            lambda message: f'1736280000.123456789,"{message}"',
            "Fluent Bit's file output in format csv",
        ),
        # the service's own lines in logfmt (logrus' text format): every one `not valid JSON`
        (
            lambda message: " ".join(
                f"{key}={json.dumps(value) if ' ' in str(value) else value}"
                for key, value in json.loads(message).items()
            ),
            'logfmt (key=value key="quoted value"): set kind = "logfmt"',
        ),
        (
            lambda message: f"host=n1 message={json.dumps(message)} source_type=file",
            "a collector's logfmt line holding the record in message (Vector's logfmt codec)",
        ),
        # GELF (Vector's gelf codec, Docker's gelf driver): the service's line in short_message
        (
            lambda message: json.dumps(
                {"version": "1.1", "host": "node-1", "short_message": message, "level": 6}
            ),
            'GELF (Graylog Extended Log Format): set payload = "short_message"',
        ),
        # Splunk's CSV export: every line quarantined, named no setting (the gate rejected
        # the run, naming none; a file of fewer than min_quarantined_lines passed it)
        (splunk_csv_row, "a CSV export holding the record in a quoted field (Splunk's"),
        # Splunk's JSON export: its one failure line `missing ts`, the run passed
        (
            lambda message: splunk_result(message, last=message == RECORD),
            "a Splunk export (output_mode=json)",
        ),
    ],
)
def test_a_collectors_file_of_records_in_a_field_stops_the_run(tmp_path, entry, setting):
    # Its one failure line was quarantined as `missing ts`, named no setting, and the run
    # passed, the failure never credited
    quiet = json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "http.request"})
    lines = [entry(message) for message in [quiet] * 20 + [RECORD]]
    path = write_incident(tmp_path / "inc", lines=lines)
    assert re.match(
        r"logs/pod-a.jsonl: no line of it is a record read with \[sources.log_format\], and "
        rf"line [0-9]+ looks like {re.escape(setting)}",
        stopped(path, tmp_path),
    )


def test_another_programs_collected_file_without_a_failure_is_only_quarantined(tmp_path):
    # A sidecar's Docker json-file log that logs/* matched: no line is a record, each names the
    # setting, but none can hold a failure: quarantined (the gate weighs it), not a stopped run
    sidecar = [
        json.dumps(
            {"log": f"GET /health {i}\n", "stream": "stdout", "time": "2025-01-07T20:00:0{i}Z"}
        )
        for i in range(5)
    ]
    path = write_incident(tmp_path / "inc", lines=[RECORD], quality={"line_checks": "all"})
    (tmp_path / "inc" / "logs" / "sidecar.jsonl").write_text("\n".join(sidecar) + "\n")
    con = reconcile_incident(path, tmp_path)
    buckets = con.sql("select bucket, count(*) from int_log_lines_bucketed group by all").fetchall()
    assert sorted(buckets) == [("quarantined", 5), ("relevant", 1)]


def test_a_collectors_line_among_the_services_is_quarantined(tmp_path):
    # One line of a file of the service's records looks like a collector's: the file is read
    # as the service's, and that line quarantined as the odd one it is
    lines = [RECORD, _journal_entry(RECORD.replace("t1", "t2"))]
    got = staged(tmp_path, lines, "failure_capable")
    assert [row[1] for row in got] == ["relevant", "quarantined"]
    assert got[1][2].startswith("missing ts (the line looks like journalctl -o json")


def _base64(data: bytes, zipped: bool = False) -> str:
    return base64.b64encode(gzip.compress(data, mtime=0) if zipped else data).decode()


def _jwt(header: dict, signature: str = "c2lnbmF0dXJl") -> str:
    """A JSON Web Token of `header` (base64url, unpadded, as RFC 7515 writes it)."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return ".".join([part(header), part({"sub": "c1", "exp": 1736280000}), signature])


JWT = _jwt({"alg": "HS256", "typ": "JWT"})
SUBSCRIPTION = {"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": RECORD}]}


@pytest.mark.parametrize(
    ("line", "log_format", "reason"),
    [
        # a CloudWatch Logs subscription's Lambda events kept as lines: base64 of gzip
        (
            json.dumps({"awslogs": {"data": _base64(json.dumps(SUBSCRIPTION).encode(), True)}}),
            {},
            "missing ts (the line looks like a CloudWatch Logs subscription's Lambda event",
        ),
        # a stream's record kept with its data in base64 (Kinesis, Pub/Sub)
        (json.dumps({"Data": _base64(RECORD.encode())}), {}, "missing ts"),
        # a collector's JSON whose payload is the record in base64
        (
            json.dumps({"message": _base64(RECORD.encode()), "timestamp": TIME}),
            {"payload": "message"},
            "not valid JSON",
        ),
        # a well-formed line that holds base64 (a token) is read as any other
        (json.dumps({"ts": TIME, "event": "login", "jwt": _base64(b'{"alg":"HS256"}')}), {}, None),
        # a JWT is a credential, not a record kept in base64: a line without ts that logs one
        # is counted irrelevant, as without it (it was checked in full and quarantined)
        (json.dumps({"msg": "login", "token": JWT}), {}, None),
        (json.dumps({"msg": "login", "token": _jwt({"typ": "JWT", "alg": "none"}, "")}), {}, None),
        (docker(json.dumps({"msg": "login", "token": JWT}) + "\n"), {"envelope": "docker"}, None),
        # dotted base64 whose first part is not a JWT's header (no alg) is still a record's
        (json.dumps({"data": _jwt(json.loads(RECORD))}), {}, "missing ts"),
        # base64 of a record after a JWT on the same line is still found
        (json.dumps({"token": JWT, "data": _base64(RECORD.encode())}), {}, "missing ts"),
    ],
)
def test_a_record_hidden_in_base64_is_quarantined_not_counted_irrelevant(
    tmp_path, line, log_format, reason
):
    # Its failure event is not in the line's bytes: shape-checked only, the line was counted
    # irrelevant and the failure was lost with no quarantine to see; base64 of a JSON object
    # (`"eyJ`) or of gzip (`"H4sI`) makes the line checked in full. (The default format's
    # after a line of the service's: a file of a collector's lines alone stops the run.)
    service = [] if log_format else [NOISE]
    got = staged(tmp_path, [*service, line], "failure_capable", **log_format)[-1]
    if reason is None:
        assert got[1:3] == ("irrelevant", None)
    else:
        assert got[1] == "quarantined"
        assert got[2].startswith(reason)


def _lambda_event(*records: str) -> str:
    # The event a CloudWatch Logs subscription gives its Lambda function, kept a line each (a
    # function archiving what it receives): the subscription object, gzip, in base64
    events = [
        {"id": str(n), "timestamp": 1736280000500, "message": r} for n, r in enumerate(records)
    ]
    subscription = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/ecs/pay",
        "logStream": "pay/api/1",
        "subscriptionFilters": ["credits"],
        "logEvents": events,
    }
    return json.dumps({"awslogs": {"data": _base64(json.dumps(subscription).encode(), True)}})


LAMBDA_EVENT = "a CloudWatch Logs subscription's Lambda event (awslogs.data: base64 of gzip)"


@pytest.mark.parametrize(
    ("log_format", "start"),
    [
        ({}, "no line of it is a record read with [sources.log_format], and line 1 looks like "),
        (
            {"payload": "message"},  # the setting of a CloudWatch event as the AWS CLI gives it
            "no line of it is a record read with [sources.log_format], and line 1 looks like ",
        ),
        (
            {"envelope": "cloudwatch"},
            'no line of it is read with envelope = "cloudwatch", and line 4, quarantined as not '
            'a CloudWatch Logs object (envelope = "cloudwatch": byte ',
        ),
    ],
)
def test_a_file_of_lambda_events_holding_a_failure_stops_the_run(tmp_path, log_format, start):
    # Its failure events are in base64 of gzip: no line names one, so each event was only
    # quarantined (the default format naming the setting), a file of a few lines under the
    # quarantine limit beside the others, and their failures never credited
    lines = [_lambda_event(QUIET_RECORD, QUIET_RECORD)] * 3 + [_lambda_event(QUIET_RECORD, RECORD)]
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format})
    message = stopped(path, tmp_path)
    assert message.startswith(f"logs/pod-a.jsonl: {start}"), message
    assert LAMBDA_EVENT in message


@pytest.mark.parametrize("log_format", [{}, {"envelope": "cloudwatch"}, {"payload": "message"}])
def test_a_file_of_lambda_events_without_a_failure_is_quarantined(tmp_path, log_format):
    lines = [_lambda_event(QUIET_RECORD, QUIET_RECORD)] * 2
    got = staged(tmp_path, lines, "all", **log_format)
    assert [row[1] for row in got] == ["quarantined", "quarantined"]
    assert all(LAMBDA_EVENT in row[2] for row in got)


TIMESTAMPED_HINT = (
    "CloudWatch Logs' export, kubectl logs --timestamps or docker logs --timestamps: set "
    'envelope = "cloudwatch_export"'
)
LOGCLI_HINT = (
    "Loki's logcli default output (time, labels, line): export with --output raw, or with "
    '--output jsonl and set payload = "line"'
)
SYSLOG_FILE_HINT = (
    "a syslog file (rsyslog's, or journalctl's text output): set envelope = \"syslog\""
)
FLUENT_BIT_TABLE_HINT = (
    "Fluent Bit's file output in format csv or ltsv, which no setting reads (its values are "
    'unescaped): set the output\'s format to out_file and envelope = "fluentbit", or to plain'
)
FLUENT_BIT_STDOUT_HINT = (
    "Fluent Bit's stdout output in format msgpack, which no setting reads (its values are "
    "unescaped): set its format to json_lines"
)
SPLUNK_CSV_HINT = (
    "a CSV export holding the record in a quoted field (Splunk's, a spreadsheet's), which no "
    "setting reads: export JSON instead (Splunk: output_mode=json, then set payload = "
    '"result._raw")'
)
LOGFMT_HINT = 'logfmt (key=value key="quoted value"): set kind = "logfmt"'
VECTOR_LOGFMT_HINT = (
    "a collector's logfmt line holding the record in message (Vector's logfmt codec), which no "
    'setting reads: have it write JSON (encoding.codec = "json") and set payload = "message"'
)
PREFIXED_HINTS = [
    (cri(RECORD), 'a CRI line (containerd, CRI-O): set envelope = "cri"'),
    (cri("payment.failed t1", tag="P"), 'a CRI line (containerd, CRI-O): set envelope = "cri"'),
    (
        f"2025-01-07T20:00:00+0000\tpayments.api\t{RECORD}",
        'fluentd\'s out_file: set envelope = "fluentd"',
    ),
    (
        f"payments.api: [1736280000.123456789, {RECORD}]",
        'Fluent Bit\'s file output: set envelope = "fluentbit"',
    ),
    (
        f"2025-01-07T20:00:00.500Z {RECORD}",
        TIMESTAMPED_HINT,
    ),
    (f"{TIME} {RECORD}", TIMESTAMPED_HINT),  # kubectl logs --timestamps, docker logs -t
    # logcli's default output: its time, the stream's labels (padded), the line; not the
    # export's (its record would be read from the labels on)
    (f'2025-01-07T20:00:00.5Z {{app="pay", pod="pay-1"}}  {RECORD}', LOGCLI_HINT),
    (f"2025-01-07T21:00:00.5+01:00 {{}} {RECORD}", LOGCLI_HINT),
    (
        f"<134>1 2025-01-07T20:00:00.5Z node-1 payment-api 42 - - {RECORD}",
        'syslog (RFC 5424): set envelope = "syslog"',
    ),
    (
        f"<134>Jan  7 20:00:00 node-1 payment-api[42]: {RECORD}",
        'syslog (RFC 3164): set envelope = "syslog"',
    ),
    # Heroku's HTTPS drain: an octet count, RFC 5424 without structured data
    (
        f"154 <190>1 2025-01-07T20:00:00.5+00:00 host app web.1 - {RECORD}",
        'syslog (RFC 5424): set envelope = "syslog"',
    ),
    # a syslog file: rsyslog's traditional format (/var/log/syslog, /var/log/messages) or
    # journalctl's default output, then rsyslog's RSYSLOG_FileFormat or journalctl -o short-iso
    (f"Jan  7 20:00:00 node-1 payments[42]: {RECORD}", SYSLOG_FILE_HINT),
    (f"2025-01-07T20:00:00.500000+00:00 node-1 payments[42]: {RECORD}", SYSLOG_FILE_HINT),
    (f"2025-01-07T20:00:00+0000 node-1 payments: {RECORD}", SYSLOG_FILE_HINT),
    # `heroku logs`: its time, `<source>[<dyno>]: `, no host
    (
        f"2025-01-07T20:00:00.123456+00:00 app[web.1]: {RECORD}",
        'heroku logs\' output: set envelope = "syslog"',
    ),
    # journalctl -o export: a field a line, the message's among them
    (f"MESSAGE={RECORD}", 'journalctl -o export: export with -o json and set payload = "MESSAGE"'),
    # journalctl -o json-sse: server-sent events, `data: ` before each entry, a blank line after
    (
        f"data: {json.dumps(JOURNALD)}",
        'journalctl -o json-sse: export with -o json and set payload = "MESSAGE"',
    ),
    # Fluent Bit's file output in format csv and ltsv: the time, then the values (quoted,
    # unescaped), or each key and value
    (f'1736280000.123456789,"{RECORD}"', FLUENT_BIT_TABLE_HINT),
    ('1736280000.123456789\t"2025-01-07T20:00:00.5Z"\t"payment.failed"', FLUENT_BIT_TABLE_HINT),
    (f'"time":1736280000.123457\t"log":"{RECORD}"', FLUENT_BIT_TABLE_HINT),
    ("1736280000.5,payment.failed,t1", None),  # the service's own CSV: no quoted value
    # Splunk's CSV export: the event's text (_raw) a quoted field, its quotes doubled
    (splunk_csv_row(QUIET_RECORD), SPLUNK_CSV_HINT),
    # Fluent Bit's stdout output in its default format: a count, the tag, the time (with the
    # metadata since Fluent Bit 2.1) and the record as msgpack-c prints it, `"key"=>value`
    (f'[0] pay.api: [1736280000.123456789, {{"log"=>"{RECORD}"}}]', FLUENT_BIT_STDOUT_HINT),
    (
        '[12] pay.api: [[1736280000.123456789, {}], {"event"=>"payment.failed", "txn_id"=>"t1"}]',
        FLUENT_BIT_STDOUT_HINT,
    ),
    # the service's own lines in logfmt, read as JSON lines
    ('ts=2025-01-07T20:00:00.5Z level=info event=http.request msg="GET \\"/\\""', LOGFMT_HINT),
    ('time="2025-01-07T20:00:00Z" level=error\tevent=http.request ', LOGFMT_HINT),
    ("event=http.request", None),  # one pair: no file of them
    # Vector's logfmt codec: its keys, the record quoted in `message`, which no setting reads
    (f"host=n1 message={json.dumps(QUIET_RECORD)} source_type=file", VECTOR_LOGFMT_HINT),
    ("retrying in 5s: attempt=2 of=3", None),  # text before the pairs: the service's text
    (RECORD[:-1], None),  # a record cut short: no collector's
    ("x\ty\tpayment.failed t1", None),  # two tabs, then no JSON object: not fluentd's
]


def test_a_collectors_prefixed_line_read_as_json_names_the_setting_that_reads_it(tmp_path):
    # A CRI (or fluentd, Fluent Bit, CloudWatch export) line read with the default format is
    # not JSON: the reason says which setting reads it, as for a collector's JSON line.
    # (Quiet records, every line checked: a failure record after a prefix stops the run.)
    lines = [line.replace(RECORD, QUIET_RECORD) for line, _ in PREFIXED_HINTS]
    got = staged(tmp_path, [NOISE, *lines], "all")
    assert [row[1:3] for row in got[1:]] == [
        (
            "quarantined",
            "not valid JSON"
            + ("" if hint is None else f" (the line looks like {hint} in [sources.log_format])"),
        )
        for _, hint in PREFIXED_HINTS
    ]


PAYLOAD_CRI_HINT = (
    "not valid JSON (the record looks like a CRI line (containerd, CRI-O) the collector did not "
    "parse: have it parse the kubelet's lines (Fluent Bit: multiline.parser cri in its tail "
    'input), or read the kubelet\'s files with envelope = "cri")'
)


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (cri(RECORD), PAYLOAD_CRI_HINT),  # Fluent Bit's tail without its cri parser
        (f"{TIME} {RECORD}", "not valid JSON"),  # no CRI line: no hint
    ],
)
def test_a_cri_line_in_a_payload_names_the_parser_that_reads_it(tmp_path, log, reason):
    # Fluent Bit's tail reading /var/log/containers without its cri parser (or with the docker
    # one) keeps the kubelet's whole line as `log`: read as the record, it is no JSON (and one
    # holding a failure stops the run, naming it)
    quiet = json.dumps({"date": 1736280000.5, "log": log.replace(RECORD, QUIET_RECORD) + "\n"})
    got = staged(tmp_path, [quiet], "all", payload="log")
    assert [row[1:3] for row in got] == [("quarantined", reason)]
    line = json.dumps({"date": 1736280000.5, "log": log + "\n"})
    path = write_incident(
        tmp_path / "failure", lines=[line], sources={"log_format": {"payload": "log"}}
    )
    assert f"after other text ({reason})" in stopped(path, tmp_path)


@pytest.mark.parametrize(
    ("wrap", "where"),
    [
        (lambda record: record, "is a record itself"),  # the service's own line
        # a Docker entry, its record in `log`; Fluent Bit's, its record in `log`
        (lambda record: docker(record + "\n"), "holds one in its log"),
        (lambda record: json.dumps({"date": 1736280000.5, "log": record}), "holds one in its log"),
        # a Cloud Logging export's JSON entry among its text ones (payload = "message" reads
        # neither: the failure record is an object at jsonPayload; once only quarantined)
        (
            lambda record: json.dumps({"insertId": "a", "jsonPayload": json.loads(record)}),
            "holds one as an object in its jsonPayload",
        ),
    ],
)
def test_a_failure_record_outside_the_payload_stops_the_run(tmp_path, wrap, where):
    # A file that is not the collector's the payload reads (the service's own lines, another
    # collector's, matched by the same glob): its quiet lines, one object each, counted
    # irrelevant unparsed, and its failure line alone quarantined as `not a JSON object with
    # a string at message`: one item under the quarantine limit, the failure never credited
    lines = [wrap(QUIET_RECORD)] * 20 + [wrap(RECORD)]
    path = write_incident(
        tmp_path / "inc", lines=lines, sources={"log_format": {"payload": "message"}}
    )
    assert stopped(path, tmp_path).startswith(
        "logs/pod-a.jsonl: line 21 has no string at message (sources.log_format.payload) but "
        f"{where}, holding a failure event (payment.failed): quarantined, it would be one item "
        "under the quarantine limit and its failure never credited."
    )


def test_a_line_without_the_payload_holding_no_failure_record_is_quarantined(tmp_path):
    # the service's own text naming the event, no record: quarantined as before
    lines = [
        json.dumps({"msg": "after payment.failed t1"}),
        json.dumps({"event": "payment.failed_retry"}),
    ]
    got = staged(tmp_path, lines, "all", payload="message")
    assert [row[1] for row in got] == ["quarantined", "quarantined"]


JSON_PAYLOAD = {
    field: f"jsonPayload.{field}"
    for field in ("ts", "event", "txn_id", "customer_id", "amount_minor", "currency", "error_code")
}


def _cloud_logging_entry(record: str, number: int) -> str:
    # A Cloud Logging export of a container's lines: a JSON line parsed into jsonPayload, any
    # other (a line the agent could not parse, over its limit) kept as text in textPayload
    entry = {"insertId": f"i{number}", "timestamp": TIME, "severity": "INFO"}
    value = json.loads(record)
    payload = {"jsonPayload": value} if number % 2 else {"textPayload": record + "\n"}
    return json.dumps(entry | payload)


def test_a_text_entry_holding_a_failure_record_read_with_json_entries_fields_stops_the_run(
    tmp_path,
):
    # Read with the JSON entries' fields (jsonPayload.*), a text entry's failure record was
    # quarantined as `missing ts (... set payload = "textPayload")`, one item under the
    # quarantine limit, and the run passed (read with that payload instead, the JSON entries'
    # failures stop the run: above)
    lines = [_cloud_logging_entry(QUIET_RECORD, n) for n in range(1, 21)]
    lines.append(_cloud_logging_entry(RECORD, 22))
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": JSON_PAYLOAD})
    message = stopped(path, tmp_path)
    assert message.startswith(
        "logs/pod-a.jsonl: line 21 has no jsonPayload (sources.log_format.event is "
        '"jsonPayload.event") but holds a failure record (payment.failed) as text in its '
        "textPayload: quarantined, it would be one item under the quarantine limit and its "
        "failure never credited."
    ), message
    assert message.endswith(
        "jq -c 'if .jsonPayload then . else .jsonPayload = (.textPayload | fromjson? // .) | "
        "del(.textPayload) end' FILE"
    ), message


def test_a_text_entry_holding_no_failure_record_is_quarantined(tmp_path):
    # quiet text entries, and one naming the event in the service's text (no record): quarantined
    # as before, the setting for text named
    text = {"insertId": "t", "timestamp": TIME, "textPayload": "payment.failed for t1"}
    lines = [_cloud_logging_entry(QUIET_RECORD, 1), _cloud_logging_entry(QUIET_RECORD, 2)]
    got = staged(tmp_path, [*lines, json.dumps(text)], "all", **JSON_PAYLOAD)
    assert [row[1] for row in got] == ["irrelevant", "quarantined", "quarantined"]


@pytest.mark.parametrize(
    ("bad", "log_format", "reason"),
    [
        ("payment.failed on its own", {"envelope": "cri"}, BAD_CRI),
        (cri(RECORD, stream="stdlog"), {"envelope": "cri"}, BAD_CRI),  # an unknown stream
        (cri(RECORD, tag="X"), {"envelope": "cri"}, BAD_CRI),  # an unknown tag
        (f"{TIME} stdout F" + RECORD, {"envelope": "cri"}, BAD_CRI),  # no space before it
        ('{"log": "payment.failed\\n"', {"envelope": "docker"}, BAD_DOCKER),  # not JSON
        ('["payment.failed"]', {"envelope": "docker"}, BAD_DOCKER),  # not an object
        ('{"msg": "payment.failed\\n"}', {"envelope": "docker"}, BAD_DOCKER),  # no log
        ('{"log": 7, "x": "payment.failed"}', {"envelope": "docker"}, BAD_DOCKER),
        ('{"log": "payment.failed\\n", "stream": 1}', {"envelope": "docker"}, BAD_DOCKER),
        ("payment.failed", {"payload": "log"}, BAD_PAYLOAD),  # not JSON
        ('{"msg": "payment.failed"}', {"payload": "log"}, BAD_PAYLOAD),  # no such field
        # journald's JSON export of a message holding a byte that is not UTF-8: an array of
        # its bytes, which spell the event only as numbers (it was taken for an irrelevant
        # line); the reason says why the bytes are no record
        (
            json.dumps({"log": list(RECORD.encode() + b"\xff")}, separators=(",", ":")),
            {"payload": "log"},
            NOT_UTF8_PAYLOAD,
        ),
        # a multi-byte character cut short (the service cut a long line inside it)
        (
            json.dumps({"log": list(RECORD.encode() + b"\xe2\x82")}),
            {"payload": "log"},
            NOT_UTF8_PAYLOAD,
        ),
        # of a field an entry gives twice: the list of its values
        (json.dumps({"log": [RECORD, RECORD]}), {"payload": "log"}, LIST_PAYLOAD),
        # and of one given twice, a value holding a control byte: a list of byte lists
        (json.dumps({"log": [list(RECORD.encode()), [13]]}), {"payload": "log"}, LIST_PAYLOAD),
        # numbers that are no bytes: no reader would know what the record is
        (json.dumps({"log": [*RECORD.encode(), 256]}), {"payload": "log"}, LIST_PAYLOAD),
        (json.dumps({"log": [*RECORD.encode(), -1]}), {"payload": "log"}, LIST_PAYLOAD),
        (json.dumps({"log": [*RECORD.encode(), 13.0]}), {"payload": "log"}, LIST_PAYLOAD),
        (json.dumps({"log": [*RECORD.encode(), "13"]}), {"payload": "log"}, LIST_PAYLOAD),
        (json.dumps({"log": [*RECORD.encode(), None]}), {"payload": "log"}, LIST_PAYLOAD),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_bad_envelope_is_quarantined_with_its_line(
    tmp_path, bad, log_format, reason, line_checks
):
    good = docker(RECORD + "\n") if log_format.get("envelope") == "docker" else cri(RECORD)
    if "payload" in log_format:
        good = json.dumps({"log": RECORD})
    got = staged(tmp_path, [good, bad, good], line_checks, **log_format)
    assert got[1] == (2, "quarantined", reason, None, None, bad)
    assert [row[1] for row in got] == ["relevant", "quarantined", "duplicate"]


NULL_PAYLOAD = (
    "MESSAGE is null (sources.log_format.payload): the record is not in the line (journalctl -o "
    "json writes a field over 4096 bytes so: export with --all)"
)


@pytest.mark.parametrize("colon", [":", ": ", " : "])
def test_a_journald_message_exported_as_null_is_quarantined_not_irrelevant(tmp_path, colon):
    # `journalctl -o json` without --all writes a message over 4096 bytes as null: the record
    # is gone from the line, which has no failure event left to screen (it was irrelevant)
    at = '"__REALTIME_TIMESTAMP"' + colon + '"1736280000500000"'
    lines = [
        "{" + at + ', "MESSAGE"' + colon + json.dumps(RECORD) + "}",
        "{" + at + ', "MESSAGE"' + colon + "null}",
    ]
    got = staged(tmp_path, lines, "failure_capable", payload="MESSAGE")
    assert [row[1:3] for row in got] == [("relevant", None), ("quarantined", NULL_PAYLOAD)]


def _journal_export(message: str) -> list[str]:
    """An entry of `journalctl -o export`: a field a line, `KEY=value`, a blank line after."""
    fields = {"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1736280000500123", "PRIORITY": "3"}
    fields |= {"_TRANSPORT": "stdout", "SYSLOG_IDENTIFIER": "payments", "MESSAGE": message}
    return [f"{key}={value}" for key, value in fields.items()] + [""]


EXPORT_HINT = (
    "not a JSON object with a string at MESSAGE (sources.log_format.payload) (the line looks "
    'like journalctl -o export: export with journalctl -o json, which payload = "MESSAGE" reads)'
)


def test_journalctl_export_read_with_the_payload_of_its_json_names_it(tmp_path):
    # payload = "MESSAGE" reads journalctl -o json; its -o export, a field a line, was a bare
    # `not a JSON object with a string at MESSAGE`, its failure line one item under the
    # quarantine limit (a file of one failure's entry beside the others' lines passed)
    got = staged(tmp_path / "quiet", _journal_export(QUIET_RECORD), "all", payload="MESSAGE")
    assert [row[2] for row in got if row[5].startswith("MESSAGE=")] == [EXPORT_HINT]
    lines = [line for m in [QUIET_RECORD, RECORD] for line in _journal_export(m)]
    path = write_incident(
        tmp_path / "inc", lines=lines, sources={"log_format": {"payload": "MESSAGE"}}
    )
    assert stopped(path, tmp_path).startswith(
        "logs/pod-a.jsonl: no line of it is a record read with [sources.log_format], and line "
        "13 looks like journalctl -o export: export with journalctl -o json"
    )


def _journal_entry(message: object, spaced: bool = False) -> str:
    """A line of `journalctl -o json` (compact, as systemd writes it since v245; spaced, as
    older ones did) with `message` as MESSAGE."""
    entry = {"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1736280000500123", "PRIORITY": "3"}
    entry |= {"_TRANSPORT": "stdout", "SYSLOG_IDENTIFIER": "payments", "MESSAGE": message}
    if spaced:
        return (
            "{ " + ", ".join(f"{json.dumps(k)} : {json.dumps(v)}" for k, v in entry.items()) + " }"
        )
    return json.dumps(entry, separators=(",", ":"))


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_journald_message_exported_as_bytes_is_read_as_its_text(tmp_path, spaced, line_checks):
    # journalctl -o json writes a message holding a control character or a byte that is not
    # UTF-8 as the list of its byte values: its UTF-8 is the record, read as any other
    records = [
        RECORD + "\r",  # a service writing CRLF: the CR ends the message, dropped as a line's
        RECORD.replace("t1", "t2")[:-1] + ',"note":"K\u00e4ufer \u20ac"}\r',  # é, € as bytes
        # its event spelt with an escape: the screen finds the escape spelt as numbers
        RECORD.replace("t1", "t3").replace("payment.failed", "payment.fail\\u0065d") + "\r",
        json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "retrying"}) + "\r",  # no failure
        RECORD.replace("t1", "t4") + "\x1b",  # a control after the record: no JSON, quarantined
    ]
    lines = [_journal_entry(list(text.encode()), spaced) for text in records]
    got = staged(tmp_path, lines, line_checks, payload="MESSAGE")
    assert [row[:5] for row in got] == [
        (1, "relevant", None, "t1", "2025-01-07 20:00:00.5+00"),
        (2, "relevant", None, "t2", "2025-01-07 20:00:00.5+00"),
        (3, "relevant", None, "t3", "2025-01-07 20:00:00.5+00"),
        (4, "irrelevant", None, None, None),
        (5, "quarantined", "not valid JSON", None, None),
    ]
    assert got[4][5] == records[4]  # the record's text, shown as the service wrote it


def test_an_event_with_a_short_escape_exported_as_bytes_is_checked(tmp_path):
    # An event holding a character JSON may escape alone (`/` as `\\/`): any backslash could
    # spell it, and as byte values the backslash is 92, found as such (not inside 1736...923)
    record = RECORD.replace("payment.failed", "payment\\/failed")
    lines = [_journal_entry(list((record + "\r").encode())), _journal_entry("no failure")]
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": {"payload": "MESSAGE"}},
        policy={"failure_events": ["payment/failed"]},
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql("select line, bucket, txn_id from int_log_lines_bucketed order by line")
    assert got.fetchall() == [(1, "relevant", "t1"), (2, "irrelevant", None)]


@pytest.mark.parametrize("payload", ["MESSAGE", None])
def test_journald_json_seq_stops_the_run_naming_its_json_output(tmp_path, payload):
    # journalctl -o json-seq (RFC 7464) writes an RS byte before each record: control bytes,
    # so the file was "binary data, convert it to UTF-8 text", which it already is
    lines = ["\x1e" + _journal_entry(RECORD), "\x1e" + _journal_entry("started")]
    log_format = {"payload": payload} if payload else {}
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format})
    assert stopped(path, tmp_path).startswith(
        "logs/pod-a.jsonl: looks like binary data, not text (JSON text sequences, RFC 7464: an RS "
        "byte, 0x1E, before each record, as journalctl -o json-seq writes: export with -o json, "
        "or delete the RS bytes: tr -d '\\036')"
    )


def test_a_failure_journald_exported_as_bytes_is_credited(tmp_path):
    # A failed payment logged by a service writing CRLF: only its log line says it failed
    # (the table's row is pending), so the credit depends on the line being read.
    path = write_incident(
        tmp_path / "inc",
        lines=[_journal_entry(list((RECORD + "\r").encode()))],
        transactions=[txn("t1", "c1", status="pending")],
        sources={"log_format": {"payload": "MESSAGE"}},
    )
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select customer_id, credit_amount_minor from credits").fetchall() == [
        ("c1", 1000)
    ]


# the others' is "log"
SPLIT_PAYLOAD = {
    "journald": "MESSAGE",
    "docker-journald": "MESSAGE",
    "cloud-logging": "textPayload",
    "cloud-logging-sorted": "textPayload",
}


def _split_by(collector: str, part: str, number: int, last: bool) -> str:
    if collector in ("journald", "docker-journald"):  # `journalctl -o json --all`
        fields = {"__REALTIME_TIMESTAMP": "1736280000500000", "_TRANSPORT": "stdout"}
        if collector == "journald":  # a line over LineMax= (48K)
            fields |= {} if last else {"_LINE_BREAK": "line-max"}
        else:  # Docker's (or conmon's) journald log driver: a line over 16 KiB
            fields |= {"CONTAINER_NAME": "pay"} | (
                {} if last else {"CONTAINER_PARTIAL_MESSAGE": "true"}
            )
        pairs = [
            f"{json.dumps(k)} : {json.dumps(v)}" for k, v in (fields | {"MESSAGE": part}).items()
        ]
        return "{ " + ", ".join(pairs) + " }"
    if collector.startswith("cloud-logging"):  # an entry over its size limit (LogSplit; index 0
        # omitted); gcloud logging read --format=json sorts the keys: `index` before `uid`
        split = {"uid": "u1", **({"index": number - 1} if number > 1 else {}), "totalSplits": 2}
        entry = {"insertId": f"i{number}", "textPayload": part, "split": split}
        sort_keys = collector == "cloud-logging-sorted"
        return json.dumps(entry | {"timestamp": "2025-01-07T20:00:00.5Z"}, sort_keys=sort_keys)
    marks = {
        "fluentd": {"partial_message": "true", "partial_id": "p1", "partial_ordinal": str(number)},
        "fluent-bit-cri": {"logtag": "F" if last else "P"},
        "vector": {"_partial": not last},
    }[collector]
    if collector == "fluentd":
        marks["partial_last"] = "true" if last else "false"
    return json.dumps({"log": part, "stream": "stdout", **marks})


@pytest.mark.parametrize(
    "collector",
    ["fluentd", "fluent-bit-cri", "vector", "journald", "docker-journald", "cloud-logging"],
)
def test_a_part_of_a_split_record_holding_a_failure_event_stops_the_run(tmp_path, collector):
    # The collector split a long failure record: quarantined, its part holding the event was
    # one item under the quarantine limit, and the failure never credited.
    cut = RECORD.index("payment.failed") + len("payment.failed")
    lines = [
        _split_by(collector, RECORD[:cut], 1, False),
        _split_by(collector, RECORD[cut:], 2, True),
    ]
    message = (
        r"^logs/pod-a.jsonl: line 1 is part of a record the collector split, holding a failure "
        r"event \(payment.failed\)"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, "failure_capable", payload=SPLIT_PAYLOAD.get(collector, "log"))


@pytest.mark.parametrize(
    "collector",
    [
        "fluentd",
        "fluent-bit-cri",
        "vector",
        "journald",
        "docker-journald",
        "cloud-logging",
        "cloud-logging-sorted",
    ],
)
def test_a_record_a_collector_split_around_its_payload_is_quarantined_not_irrelevant(
    tmp_path, collector
):
    # The event's name cut in two ("payment.fa" + "iled"): neither part was failure-capable,
    # both were counted irrelevant and the failure was lost without a word.
    cut = RECORD.index("payment.failed") + len("payment.fa")
    first, second = RECORD[:cut], RECORD[cut:]
    payload = SPLIT_PAYLOAD.get(collector, "log")
    whole = json.dumps({payload: RECORD.replace('"t1"', '"t2"')})
    lines = [whole, _split_by(collector, first, 1, False), _split_by(collector, second, 2, True)]
    got = staged(tmp_path, lines, "failure_capable", payload=payload)
    assert [row[1] for row in got] == ["relevant", "quarantined", "quarantined"], got
    assert got[1][2].startswith("part of a record the collector split"), got[1]
    if collector == "fluentd":  # its last part is marked too
        assert got[2][2] == got[1][2]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("keep", ["keep_partial_key", "keep_partial_metadata"])
def test_a_record_a_collector_joined_keeping_its_first_parts_marks_is_read(
    tmp_path, keep, line_checks
):
    # fluent-plugin-concat joins Docker's fluentd-driver parts into the first part's record,
    # and with keep_partial_key (or keep_partial_metadata) keeps its marks on the whole
    # record: read as a part, the failure stopped the run (exit 2), and a quiet record was
    # quarantined. Its text is a JSON object: whole, as a CRI or OTLP record tagged P is.
    marks = {"partial_message": "true"}
    if keep == "keep_partial_metadata":
        marks |= {"partial_id": "p1", "partial_ordinal": "1", "partial_last": "false"}
    lines = [
        json.dumps({"log": RECORD + "\n", "source": "stdout", **marks}),
        json.dumps({"log": QUIET_RECORD + "\n", "source": "stdout", **marks}),
    ]
    got = staged(tmp_path, lines, line_checks, payload="log")
    assert [row[:4] for row in got] == [(1, "relevant", None, "t1"), (2, "irrelevant", None, None)]


def test_a_text_record_a_collector_joined_keeping_its_marks_stops_the_run_saying_so(tmp_path):
    # A logfmt record cannot show itself whole: still a part, and the advice names the key kept
    text = "ts=2025-01-07T20:00:00.5Z event=payment.failed txn_id=t1"
    lines = [json.dumps({"log": text + "\n", "source": "stdout", "partial_message": "true"})]
    with pytest.raises(InputError, match="keeping no partial key on a text record"):
        staged(tmp_path, lines, "failure_capable", payload="log", kind="logfmt")


DECLINED = json.dumps(
    failure("t1", ts="2025-01-07T20:00:00.5Z", code="CARD_DECLINED"), separators=(",", ":")
)
TWICE_DOCKER = 'the key "{}" appears twice in one object (envelope = "docker")'
TWICE_PAYLOAD = "the key of sources.log_format.payload ({}) appears twice in one object"


def written(*pairs: tuple[str, object]) -> str:
    """A JSON object as written, a key as often as given (`json.dumps` would keep one)."""
    return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"


@pytest.mark.parametrize(
    ("bad", "log_format", "reason"),
    [
        # a decoder kept the first "log" (a declined payment: no credit) and dropped the second
        (
            written(("log", DECLINED + "\n"), ("stream", "stdout"), ("log", RECORD + "\n")),
            {"envelope": "docker"},
            TWICE_DOCKER.format("log"),
        ),
        (
            written(("log", RECORD + "\n"), ("stream", "stdout"), ("stream", "stderr")),
            {"envelope": "docker"},
            TWICE_DOCKER.format("stream"),
        ),
        (
            written(("date", 1), ("log", DECLINED), ("log", RECORD)),
            {"payload": "log"},
            TWICE_PAYLOAD.format("log"),
        ),
        (  # the key spelled with an escape is the same key
            written(("k", {"log": DECLINED})).replace(
                "}}", f',"l\\u006fg":{json.dumps(RECORD)}}}}}'
            ),
            {"payload": "k.log"},
            TWICE_PAYLOAD.format("k.log"),
        ),
        (  # the envelope's time twice: one of them could move the failure out of the window
            written(("t", "2025-01-07T20:00:00Z"), ("log", RECORD), ("t", "2025-01-09T20:00:00Z")),
            {"payload": "log", "ts": "envelope.t"},
            "a key of the log contract appears twice in the envelope",
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_key_the_envelope_is_read_through_twice_is_quarantined(
    tmp_path, bad, log_format, reason, line_checks
):
    got = staged(tmp_path, [bad], line_checks, **log_format)
    assert [row[:3] for row in got] == [(1, "quarantined", reason)]


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (  # the id twice in its object: one transaction would be credited, the other dropped
            '{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","error":{"code":"DB_POOL_TIMEOUT"},'
            '"payment":{"id":"t2","id":"t3"}}',
            {"txn_id": "payment.id", "error_code": "error.code"},
        ),
        (  # the code twice: the first, a declined payment, would have been read
            '{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","payment":{"id":"t1"},'
            '"error":{"code":"CARD_DECLINED","code":"DB_POOL_TIMEOUT"}}',
            {"txn_id": "payment.id", "error_code": "error.code"},
        ),
    ],
)
def test_a_key_twice_on_a_dotted_path_is_quarantined(tmp_path, line, fields):
    got = staged(tmp_path, [line], **fields)
    assert [row[:3] for row in got] == [
        (1, "quarantined", "a key of the log contract appears twice in the JSON object")
    ]


def test_a_key_the_contract_does_not_read_may_repeat_beside_a_dotted_path(tmp_path):
    line = (
        '{"ts":"2025-01-07T20:00:00Z","event":"payment.failed","error":{"code":"DB_POOL_TIMEOUT",'
        '"hint":"a","hint":"b"},"payment":{"id":"t1","tag":1,"tag":2}}'
    )
    got = staged(tmp_path, [line], txn_id="payment.id", error_code="error.code")
    assert [row[:4] for row in got] == [(1, "relevant", None, "t1")]


@pytest.mark.parametrize(
    ("lines", "envelope", "reason"),
    [
        (
            [
                cri(RECORD),
                cri(RECORD[:20], tag="P"),
                cri("{}", "stderr"),
                cri(RECORD[20:40], tag="P"),
            ],
            "cri",
            'unfinished partial line (envelope = "cri"): the file ends before the F line of this '
            "stdout record, lines 2-4",
        ),
        (
            [docker(RECORD + "\n"), docker(RECORD[:20]), docker(RECORD[20:40])],
            "docker",
            'unfinished partial line (envelope = "docker"): the file ends before the entry that '
            "ends this stdout record in a line feed, lines 2-3",
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_an_unfinished_partial_at_the_end_of_a_file_is_quarantined(
    tmp_path, lines, envelope, reason, line_checks
):
    got = staged(tmp_path, lines, line_checks, envelope=envelope)
    assert got[0] == (1, *RELEVANT)
    assert (2, "quarantined", reason, None, None, RECORD[:40]) in got


@pytest.mark.parametrize(
    ("lines", "envelope", "where"),
    [
        ([cri(RECORD), cri(RECORD[:60], tag="P"), cri("{}", "stderr")], "cri", "lines 2-2"),
        (
            [docker(RECORD + "\n"), docker(RECORD[:30]), docker(RECORD[30:70])],
            "docker",
            "lines 2-3",
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_the_file_ends_inside_stops_the_run(
    tmp_path, lines, envelope, where, line_checks
):
    # The runtime split a long failure record and the file was rotated between its parts (or
    # is still being written): quarantined, its failure was one item under the limit, lost.
    message = (
        f"^logs/pod-a.jsonl: {where} are the start of a record holding a failure event "
        r"\(payment.failed\) that the file ends inside"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, line_checks, envelope=envelope)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (cri('{"ts": "x", "event": "debug"}'), ("irrelevant", None)),
        (cri("not json"), ("quarantined", "not one JSON object (shape check)")),
        (cri("  "), ("quarantined", "blank line")),
        ("2025-01-07T20:00:00Z stdout F", ("quarantined", BAD_CRI_SHAPE)),  # no message
        ("2025-01-07T20:00:00Z stdlog F {}", ("quarantined", BAD_CRI_SHAPE)),
        ("2025-01-07T20:00:00Z stdout X {}", ("quarantined", BAD_CRI_SHAPE)),
        (" stdout F {}", ("quarantined", BAD_CRI_SHAPE)),  # no time
        ("{}", ("quarantined", BAD_CRI_SHAPE)),
    ],
)
def test_a_cri_line_that_cannot_hold_a_failure_gets_the_shape_check_of_its_record(
    tmp_path, line, expected
):
    got = staged(tmp_path, [cri(RECORD), line], "failure_capable", envelope="cri")
    assert [row[1:3] for row in got] == [RELEVANT[:2], expected]


BOM = "\ufeff"
CLOUDWATCH_OBJECT = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s"}


def _with_bom_first(envelope: str, records: list[str]) -> list[str]:
    """The records, the first after a byte-order mark, as `envelope` writes them."""
    records = [BOM + records[0], *records[1:]]
    if envelope == "cri":
        return [cri(record) for record in records]
    if envelope == "docker":
        return [docker(record + "\n") for record in records]
    if envelope == "payload":
        return [json.dumps({"date": 1736280000.5, "log": record}) for record in records]
    events = [{"id": "1", "timestamp": 1, "message": record} for record in records]
    return [json.dumps({**CLOUDWATCH_OBJECT, "logEvents": events})]


@pytest.mark.parametrize("envelope", ["cri", "docker", "payload", "cloudwatch"])
@pytest.mark.parametrize("first", [RECORD, NOISE], ids=["failure", "other"])
def test_a_record_after_the_byte_order_mark_its_collector_kept_is_read(tmp_path, envelope, first):
    # Fluent Bit's tail, Vector or a container keep the mark of the file they read: the first
    # record begins with it, and is read as the plain file's first line is (a copy without it
    # is its duplicate).
    lines = _with_bom_first(envelope, [first, RECORD.replace("t1", "t2"), first])
    log_format = {"payload": "log"} if envelope == "payload" else {"envelope": envelope}
    got = staged(tmp_path, lines, "failure_capable", **log_format)
    bucket = "relevant" if first == RECORD else "irrelevant"
    # a shape-checked copy stays irrelevant; a CloudWatch object holding a failure is checked
    checked = first == RECORD or envelope == "cloudwatch"
    copy = "duplicate" if checked else "irrelevant"
    assert [row[1:3] for row in got] == [(bucket, None), ("relevant", None), (copy, None)]


SHAPE_NOT_OBJECT = ("quarantined", screen.SHAPE_NOT_OBJECT)
NO_TIME = json.dumps({"event": "payment.failed", "txn_id": "t1"})
AT = "2025-01-07T20:00:00.5"
NOT_FLUENTD = 'not a fluentd out_file line (envelope = "fluentd")'
SPACED = (
    " (its fields are separated by a space or a comma: out_file's delimiter SPACE or COMMA, "
    "which is not read; have out_file write its default delimiter, a tab, or put tabs back: "
    "sed -E 's/^([^ ,]+)[ ,]([^ ,]+)[ ,]/\\1\\t\\2\\t/' FILE)"
)
NOT_EXPORT = 'not a CloudWatch Logs export line (envelope = "cloudwatch_export")'
NOT_FLUENTBIT = 'not a Fluent Bit file output line (envelope = "fluentbit")'
EPOCH_S = {"envelope": "fluentbit", "ts": "envelope.time", "ts_format": "epoch_s"}
QUIET_PREFIXED = {
    "fluentd": f"{AT}+00:00\tpayments.api\t{QUIET_RECORD}",
    "fluentbit": f"payments.api: [1736280000.500000000, {QUIET_RECORD}]",
    "cloudwatch_export": f"{AT}Z {QUIET_RECORD}",
}


@pytest.mark.parametrize(
    ("line", "log_format", "expected"),
    [
        # fluentd's out_file: the record after `<time>\t<tag>\t`; its time the record's or the
        # prefix's (fluentd writes %z without a colon)
        (f"{AT}+00:00\tpayments.api\t{RECORD}", {"envelope": "fluentd"}, RELEVANT),
        (
            f"{AT}+0000\tpayments.api\t{NO_TIME}",
            {"envelope": "fluentd", "ts": "envelope.time", "ts_format": "%Y-%m-%dT%H:%M:%S.%f%z"},
            RELEVANT,
        ),
        # Fluent Bit's file output: the record in `<tag>: [<time>, <record>]`; its time the
        # record's or the prefix's, epoch seconds with 9 decimals (6 before Fluent Bit 1.9)
        (f"payments.api: [1736280000.500000000, {RECORD}]", {"envelope": "fluentbit"}, RELEVANT),
        (f"payments.api: [1736280000.500000000, {NO_TIME}]", EPOCH_S, RELEVANT),
        (f"kube.var.log: x: [1736280000.500000, {NO_TIME}]", EPOCH_S, RELEVANT),
        # CloudWatch Logs' export to S3: `<timestamp> <message>`
        (f"{AT}Z {RECORD}", {"envelope": "cloudwatch_export"}, RELEVANT),
        (
            f"{AT}Z {NO_TIME}",
            {"envelope": "cloudwatch_export", "ts": "envelope.timestamp"},
            RELEVANT,
        ),
        # a line without the prefix is quarantined, checked in full or by its shape; the record
        # after a prefix gets the record's shape check
        (
            "payment.failed t1",
            {"envelope": "fluentd"},
            ("quarantined", NOT_FLUENTD + ': expected "<time>\\t<tag>\\t<record>"'),
        ),
        # out_file's delimiter SPACE or COMMA, not its default tab: named, with how to mend it
        *(
            (
                f"2025-01-07T20:00:00+0000{delimiter}payments.api{delimiter}{RECORD}",
                {"envelope": "fluentd"},
                ("quarantined", NOT_FLUENTD + ': expected "<time>\\t<tag>\\t<record>"' + SPACED),
            )
            for delimiter in " ,"
        ),
        (
            "payment.failed t1",
            {"envelope": "cloudwatch_export"},
            ("quarantined", NOT_EXPORT + ': expected "<timestamp> <message>"'),
        ),
        (
            "payment.failed t1",
            {"envelope": "fluentbit"},
            ("quarantined", NOT_FLUENTBIT + ': expected "<tag>: [<time>, <record>]"'),
        ),
        (  # the `]` after the record missing
            f"payments.api: [1736280000.500000000, {RECORD}",
            {"envelope": "fluentbit"},
            ("quarantined", NOT_FLUENTBIT + ': expected "<tag>: [<time>, <record>]"'),
        ),
        (
            "retrying\t{}",
            {"envelope": "fluentd"},
            ("quarantined", NOT_FLUENTD[:-1] + ", shape check)"),
        ),
        (
            "api: [1736280000.5, {}",
            {"envelope": "fluentbit"},
            ("quarantined", NOT_FLUENTBIT[:-1] + ", shape check)"),
        ),
        (
            "api: [2025-01-07T20:00:00Z, {}]",
            {"envelope": "fluentbit"},
            ("quarantined", NOT_FLUENTBIT[:-1] + ", shape check)"),
        ),
        ("api: [1736280000.5, retrying]", {"envelope": "fluentbit"}, SHAPE_NOT_OBJECT),
        ("api: [1736280000.5, {}]", {"envelope": "fluentbit"}, ("irrelevant", None)),
        (
            "20:00:00Z {}",
            {"envelope": "cloudwatch_export"},
            ("quarantined", NOT_EXPORT[:-1] + ", shape check)"),
        ),
        (f"{AT}Z\tapi\tretrying", {"envelope": "fluentd"}, SHAPE_NOT_OBJECT),
        (f"{AT}Z {{}}", {"envelope": "cloudwatch_export"}, ("irrelevant", None)),
    ],
)
def test_a_line_of_a_prefix_and_the_record_is_read_as_the_record(
    tmp_path, line, log_format, expected
):
    # after a quiet line of the envelope: a file none of whose lines is the envelope's stops
    # the run on a failure (`test_logs_lost`)
    quiet = QUIET_PREFIXED[log_format["envelope"]]
    got = staged(tmp_path, [quiet, line], "failure_capable", **log_format)
    assert [row[1:3] for row in got] == [("irrelevant", None), expected[:2]]


def test_fluent_bit_nanoseconds_at_the_window_end_stay_inside_it(tmp_path):
    # The window ends at 23:15:00Z (1736291700), exclusive, and no clock skew widens it: the
    # last nanosecond before it is its last microsecond (not rounded up through a double into
    # the next second, outside), the end itself outside.
    lines = [
        f"payments.api: [{seconds}, {json.dumps(failure(f't{i}'))}]"
        for i, seconds in enumerate(["1736291699.999999999", "1736291700.000000000"])
    ]
    path = write_incident(
        tmp_path / "inc", lines=lines, sources={"log_format": EPOCH_S, "log_clock_skew": "0s"}
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql(
        "select bucket, ts_utc::varchar from int_log_lines_bucketed order by line"
    ).fetchall()
    assert got == [
        ("relevant", "2025-01-07 23:14:59.999999+00"),
        ("irrelevant", "2025-01-07 23:15:00+00"),
    ]


@pytest.mark.parametrize(
    ("line", "log_format"),
    [
        (  # Fluent Bit's tail without a parser: the record is {"log": ...}, its time the prefix's
            "payments.api: [1736290800.000000001, {holder}]",
            {"ts": "envelope.time", "ts_format": "epoch_s", "envelope": "fluentbit"},
        ),
        (  # fluentd's in_tail without a parser: {"message": ...}
            "2025-01-07T18:00:00-0500\tpayments.api\t{holder}",
            {"ts": "envelope.time", "ts_format": "%Y-%m-%dT%H:%M:%S%z", "envelope": "fluentd"},
        ),
        (
            "2025-01-07T23:00:00.000Z {holder}",
            {"ts": "envelope.timestamp", "envelope": "cloudwatch_export"},
        ),
    ],
)
def test_a_payload_inside_a_prefixed_line_reads_the_prefixs_time(tmp_path, line, log_format):
    # `envelope.time` names the prefix's field; the object around the payload lacks it, so it
    # reads the prefix (once: `missing ts` for every line, all of them quarantined).
    record = {k: v for k, v in failure("t1").items() if k != "ts"}
    key = "message" if log_format["envelope"] == "fluentd" else "log"
    holder = json.dumps({key: json.dumps(record) + "\n", "stream": "stdout"})
    got = staged(tmp_path, [line.format(holder=holder)], payload=key, **log_format)
    assert [row[1:5] for row in got] == [("relevant", None, "t1", "2025-01-07 23:00:00+00")]


def test_a_payload_inside_a_cloudwatch_event_reads_the_events_time(tmp_path):
    # ECS FireLens to CloudWatch: each message is Fluent Bit's record, the service's line in
    # `log`; `envelope.timestamp` is the event's (once the record's, absent: `missing ts`)
    record = {k: v for k, v in failure("t1").items() if k != "ts"}
    message = json.dumps({"container_id": "abc", "source": "stdout", "log": json.dumps(record)})
    event = {"id": "1", "timestamp": 1736291699999, "message": message}
    line = json.dumps({"messageType": "DATA_MESSAGE", "owner": "1", "logEvents": [event]})
    log_format = {"ts": "envelope.timestamp", "ts_format": "epoch_ms"}
    got = staged(tmp_path, [line], envelope="cloudwatch", payload="log", **log_format)
    assert [row[1:5] for row in got] == [("relevant", None, "t1", "2025-01-07 23:14:59.999+00")]


def test_a_payloads_object_keeps_its_own_key_before_the_prefixs(tmp_path):
    # `envelope.<key>` reads the object around the payload first, as without a prefix
    record = {k: v for k, v in failure("t1").items() if k != "ts"}
    holder = json.dumps({"log": json.dumps(record), "time": 1736290800.5})
    line = f"payments.api: [1736280000.000000001, {holder}]"
    log_format = {"envelope": "fluentbit", "payload": "log", **EPOCH_S}
    got = staged(tmp_path, [line], **log_format)
    assert [row[1:5] for row in got] == [("relevant", None, "t1", "2025-01-07 23:00:00.5+00")]


def test_a_record_is_one_duplicate_whatever_its_envelope_times(tmp_path):
    lines = [cri(RECORD), cri(RECORD, time="2025-01-07T20:00:09Z")]
    got = staged(tmp_path, lines, "failure_capable", envelope="cri")
    assert [row[1] for row in got] == ["relevant", "duplicate"]


@pytest.mark.parametrize("envelope", ["cri", "docker"])
def test_one_message_at_two_envelope_times_that_are_its_time_is_two_events(tmp_path, envelope):
    # A retry logging the same message: the first before the window, the second inside was a
    # duplicate of the first, its failure lost. Shipped twice (one time), it is one.
    message = json.dumps(failure("t1"), separators=(",", ":"))
    early, inside = "2025-01-07T19:14:00.000000001Z", "2025-01-07T20:00:00.5Z"
    if envelope == "docker":
        message, wrap = message + "\n", docker  # a Docker entry's line end is in its "log"
    else:
        wrap = cri
    lines = [wrap(message, time=early), wrap(message, time=inside), wrap(message, time=inside)]
    got = staged(tmp_path, lines, "failure_capable", envelope=envelope, ts="envelope.time")
    assert [(row[1], row[4]) for row in got] == [
        ("irrelevant", "2025-01-07 19:14:00+00"),
        ("relevant", "2025-01-07 20:00:00.5+00"),
        ("duplicate", "2025-01-07 20:00:00.5+00"),
    ]


def test_a_joined_record_over_1_mib_is_quarantined(tmp_path):
    part = "x" * (600 * 1024)
    got = staged(tmp_path, [cri(part, tag="P"), cri(part)], envelope="cri")
    assert got[0][:3] == (
        1,
        "quarantined",
        'record is 1228800 bytes, longer than the 1 MiB limit (envelope = "cri": lines 1-2)',
    )


def test_a_joined_record_over_1_mib_holding_a_failure_event_stops_the_run(tmp_path):
    # Its failure would be lost under the quarantine limit, as a plain line's (`test_logs`);
    # a longer name (payment.failed_retry) is another event, quarantined as any record.
    part = "x" * (600 * 1024)

    def split(record: str) -> list[str]:
        return [cri(record[:-1], tag="P"), cri(part, tag="P"), cri(part + "}")]

    retry = RECORD.replace("payment.failed", "payment.failed_retry")
    got = staged(tmp_path / "a", split(retry), envelope="cri")
    assert got[0][1] == "quarantined"
    with pytest.raises(
        InputError,
        match=r"^logs/pod-a.jsonl: record is [0-9]+ bytes, longer than the 1 MiB limit "
        r'\(envelope = "cri": lines 1-3\), holding a failure event \(payment.failed\)',
    ):
        staged(tmp_path / "b", split(RECORD), envelope="cri")


@pytest.mark.parametrize(
    ("log_format", "message"),
    [
        ({"envelope": "crio"}, r"envelope: 'crio' is not an envelope; did you mean 'cri'\?"),
        ({"envelope": "oltp"}, r"envelope: 'oltp' is not an envelope; did you mean 'otlp'\?"),
        (
            {"envelope": "cloud_watch"},
            r"envelope: 'cloud_watch' is not an envelope; did you mean 'cloudwatch'\?",
        ),
        (
            {"envelope": "cloudwatch", "ts": "envelope.timestmp"},
            r"ts: a CloudWatch log event has no field 'timestmp'; did you mean "
            r"'envelope.timestamp'\?",
        ),
        (
            {"envelope": "otlp", "ts": "envelope.time"},
            r"ts: 'envelope.time': with envelope = 'otlp'",
        ),
        ({"envelope": "otlp", "kind": "logfmt"}, r"kind: with envelope = 'otlp' a log record is"),
        (
            {"envelope": "otlp", "payload": "body"},
            r"payload: with envelope = 'otlp' name the field",
        ),
        ({"ts": "envelope.time"}, r"ts: 'envelope.time' reads an envelope's field, but there is"),
        (
            {"envelope": "cri", "ts": "envelope.tme"},
            r"ts: a CRI line has no field 'tme'; did you mean 'envelope.time'\?",
        ),
        (
            {"envelope": "fluentbit", "ts": "envelope.date"},
            r"ts: a Fluent Bit file output line has no field 'date'; it has \['tag', 'time'\]",
        ),
        (
            {"envelope": "fluentd", "ts": "envelope.timestamp"},
            r"ts: a fluentd out_file line has no field 'timestamp'; did you mean 'envelope.time'\?",
        ),
        ({"payload": "a..b"}, r"payload: 'a..b' is not a key or dotted path"),
        ({"envelop": "cri"}, r"envelop: unknown key; did you mean 'envelope'\?"),
    ],
)
def test_a_bad_envelope_setting_is_a_config_error(tmp_path, log_format, message):
    path = write_incident(tmp_path / "inc", sources={"log_format": log_format})
    with pytest.raises(ConfigError, match=r"sources\.log_format\." + message):
        incident.load(path)


@pytest.mark.parametrize("collector", ["cri", "fluent-bit"])
def test_the_funnel_counts_records_and_the_lines_they_came_from(tmp_path, collector):
    # 3 records from 5 lines (one in three parts): read = bucketed = 3, and 5 envelope lines.
    parts = [RECORD[:9], RECORD[9:20], RECORD[20:]]
    if collector == "cri":
        lines = [cri(RECORD), *(cri(part, tag=tag) for part, tag in zip(parts, "PPF", strict=True))]
        lines.append(cri("not json"))
        log_format = {"envelope": "cri"}
    else:  # Fluent Bit's records of CRI lines, `_p` its tag
        lines = [fluent_bit(RECORD), *map(fluent_bit, parts, "PPF"), fluent_bit("not json")]
        log_format = {"payload": "log"}
    path = write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format})
    loaded = incident.load(path)
    con = db.connect()
    files = logs.stage(con, loaded, tmp_path)
    tables.stage(con, loaded)
    credits.reconcile(con, loaded)
    funnel = manifest.account(con, files).funnel
    assert funnel.model_dump() == {
        "lines_read": 3,
        "parsed": 1,
        "relevant": 1,
        "irrelevant": 0,
        "duplicates": 1,
        "quarantined": 1,
        "identity_holds": True,
        "envelope_lines_read": 5,
    }


# The CRI prefix of many lines at once (`screen.cri_prefix`) against the specification's
# layout read one line at a time with a regular expression.
_CRI = re.compile(rb"([^ \n]+) (stdout|stderr) ([PF]) ([^\n]*)")
_CRI_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["2025-01-07T20:00:00.123456789Z", "t", "x" * 45, ""]),
        st.sampled_from(["stdout", "stderr", "stdin", "stdou"]),
        st.sampled_from(["P", "F", "X", "PF", ""]),
        st.text(" {}aP\r", max_size=4),
    ),
    max_size=6,
).map(" ".join)


@given(st.lists(_CRI_TEXT, min_size=1, max_size=8))
@example(
    ["x" * 45 + " stdout P {}", " stdout F {}", "t stderr F ", "t stdout P a\r", "t  stdout F"]
)
def test_the_cri_prefix_of_many_lines_reads_as_each_line_alone(lines):
    data = b"".join(line.encode() + b"\n" for line in lines)
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    starts = np.concatenate([[0], ends[:-1] + 1])
    prefix = screen.cri_prefix(data, starts, ends - starts)
    for i, line in enumerate(lines):
        found = _CRI.fullmatch(line.encode())
        assert bool(prefix.framed[i]) == (found is not None), line
        assert bool(prefix.partial[i]) == (found is not None and found[3] == b"P")
        if found is not None:
            message = data[prefix.at[i] : prefix.at[i] + prefix.size[i]]
            assert message == found[4]


BATCH = json.dumps([failure("t1"), json.loads(NOISE), failure("t2")])


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    ("lines", "log_format"),
    [
        ([cri(NOISE), cri(BATCH[:40], tag="P"), cri(BATCH[40:])], {"envelope": "cri"}),
        ([docker(NOISE + "\n"), docker(BATCH + "\n")], {"envelope": "docker"}),
        ([json.dumps({"log": NOISE}), json.dumps({"log": BATCH})], {"payload": "log"}),
    ],
    ids=["cri-split", "docker", "payload"],
)
def test_a_record_that_is_a_json_array_of_failures_stops_the_run(
    tmp_path, lines, log_format, line_checks
):
    # The record unwrapped is the batch, one quarantined item: its failures were lost.
    message = r"^logs/pod-a.jsonl: line 2 is a JSON array of 3 records, 2 of them failure events "
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, line_checks, **log_format)


def fluent_bit(log: str, tag: str = "F", stream: str = "stdout", **source: object) -> str:
    """A Fluent Bit record of a CRI line (its tail input's `cri` parser, or its own regex
    parser naming the tag `_p`), as its file output writes it (`format json_lines`); `source`,
    the keys naming the container it read (its kubernetes filter's, its tail's Path_Key)."""
    return json.dumps(
        {"date": 1736280000.123, "time": TIME, "stream": stream, "_p": tag, "log": log, **source}
    )


QUIET_FB = [fluent_bit(QUIET_RECORD, "F"), fluent_bit(NOISE, "F", "stderr")]
# The reason of a Fluent Bit part tagged F that no P before it in its stream opens
FB_LONE_F = (
    "part of a record the collector split (Fluent Bit's _p F, line 3, without the _p P parts "
    "before it): have the collector join the parts (Fluent Bit: multiline.parser docker, cri, "
    "and a flush_timeout above the time between them)"
)


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    ("cuts", "tags"),
    [
        # Fluent Bit without its multiline parser: one record per CRI line, P ... P F
        ([30, 60], ["P", "P", "F"]),
        # the failure event's name cut in two: neither part holds it whole
        ([RECORD.index("payment.failed") + 5], ["P", "F"]),
        # multiline.parser cri flushing a stream's parts when the other stream's line comes
        # (or on its flush timeout): the rest, joined, keeps its first part's tag, P
        ([25], ["P", "P"]),
    ],
)
def test_fluent_bits_cri_parts_are_joined_per_stream(tmp_path, cuts, tags, line_checks):
    # Each part was one record: the first (or the one holding the event) quarantined as not
    # valid JSON, the others counted irrelevant, and the failure never credited.
    pieces = [RECORD[a:b] for a, b in zip([0, *cuts], [*cuts, None], strict=True)]
    parts = [fluent_bit(piece, tag) for piece, tag in zip(pieces, tags, strict=True)]
    lines = [QUIET_FB[0], parts[0], QUIET_FB[1], *parts[1:], QUIET_FB[0].replace(":01Z", ":02Z")]
    got = staged(tmp_path, lines, line_checks, payload="log")
    assert [row[:4] for row in got if row[1] != "irrelevant"] == [(2, "relevant", None, "t1")]
    assert [row[0] for row in got if row[1] == "irrelevant"] == [1, 3, len(lines)]


def test_a_record_fluent_bit_joined_keeps_its_first_parts_tag_and_is_read_alone(tmp_path):
    # multiline.parser cri keeps the first part's keys, `_p` P, around the whole record: it is
    # a record, never joined to its stream's next one
    second = RECORD.replace('"t1"', '"t2"')
    lines = [fluent_bit(RECORD, "P"), fluent_bit(second, "F"), fluent_bit(RECORD[:30], "F")]
    got = staged(tmp_path, lines, payload="log")
    assert [row[:4] for row in got] == [
        (1, "relevant", None, "t1"),
        (2, "relevant", None, "t2"),
        (3, "quarantined", FB_LONE_F, None),
    ]


# The sources of two containers' records in one Fluent Bit output file (out_file with a fixed
# File, or forward to an aggregator): its kubernetes filter's keys, or its tail's Path_Key.
SOURCES = {
    "docker_id": lambda pod: {"kubernetes": {"pod_name": "p", "docker_id": f"d-{pod}"}},
    "pod_id": lambda pod: {"kubernetes": {"pod_id": f"u-{pod}", "container_name": "api"}},
    "pod_name": lambda pod: {"kubernetes": {"namespace_name": "pay", "pod_name": pod}},
    "path": lambda pod: {"path": f"/var/log/containers/{pod}.log"},
}


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("order", ["a-P b-F a-F", "a-P b-P a-F b-F"])
def test_fluent_bits_cri_parts_of_containers_in_one_file_are_joined_per_container(
    tmp_path, order, source, line_checks
):
    # Joined per file and stream alone, a's parts were cut by b's whole record (each quarantined
    # as not valid JSON, t1 lost unseen), or a, b and a glued into one record (both lost).
    records = {"a": RECORD, "b": RECORD.replace('"t1"', '"t2"')}
    cut = RECORD.index("payment.failed") + len("payment.fa")
    pieces = {(pod, "P"): text[:cut] for pod, text in records.items()}
    pieces |= {(pod, "F"): text[cut:] for pod, text in records.items()}
    if order == "a-P b-F a-F":
        pieces[("b", "F")] = records["b"]
    lines = [
        fluent_bit(pieces[(pod, tag)], tag, **SOURCES[source](pod))
        for pod, tag in (word.split("-") for word in order.split())
    ]
    got = staged(tmp_path, lines, line_checks, payload="log")
    # each record at its first part's line
    assert [row[:4] for row in got] == [(1, "relevant", None, "t1"), (2, "relevant", None, "t2")]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("alone", ["P before a whole record", "F after a whole record"])
def test_a_fluent_bit_part_not_joined_into_a_record_holding_a_failure_stops_the_run(
    tmp_path, alone, line_checks
):
    # A part that joins into no JSON object was quarantined as `not valid JSON`: one item under
    # the quarantine limit, its failure never credited. It is a part: held failure, exit 2.
    cut = RECORD.index("payment.failed") + len("payment.failed")
    whole = fluent_bit(RECORD.replace('"t1"', '"t2"'))
    if alone == "P before a whole record":
        lines, line = [fluent_bit(RECORD[:cut], "P"), whole, fluent_bit(RECORD[cut:])], 1
    else:
        lines, line = [whole, fluent_bit(RECORD[:cut] + " ...")], 2
    message = (
        rf"^logs/pod-a.jsonl: line {line} is part of a record the collector split, holding a "
        r"failure event \(payment.failed\)"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, line_checks, payload="log")


def test_records_without_a_fluent_bit_tag_pass_the_parts_query_by(tmp_path, monkeypatch):
    # The parts query reads a whole partition and sorts it: run for every JSON format with a
    # payload (journald, Vector, Cloud Logging), 1M records without a `_p` key took 50% longer.
    read: list[str] = []
    statement = db.statement
    monkeypatch.setattr(db, "statement", lambda name: read.append(name) or statement(name))
    lines = [json.dumps({"log": RECORD}), json.dumps({"log": QUIET_RECORD, "p": "P"})]
    got = staged(tmp_path, lines, payload="log")
    assert [row[:4] for row in got] == [(1, "relevant", None, "t1"), (2, "irrelevant", None, None)]
    assert "log_payload" in read
    assert "log_payload_parts" not in read


@pytest.mark.parametrize("key", ['"_p"', '"\\u005fp"', '"_\\u0070"', '"\\u005F\\u0070"'])
def test_fluent_bits_parts_after_records_without_a_tag_are_joined_in_order(tmp_path, key):
    # The records before the first `_p` key pass the query by; from it on, all are read by it,
    # the key however JSON spells it, and the records keep their order.
    cut = RECORD.index("payment.failed") + len("payment.fa")
    tagged = [fluent_bit(RECORD[:cut], "P"), fluent_bit(RECORD[cut:])]
    tagged = [line.replace('"_p"', key) for line in tagged]
    plain = [json.dumps({"log": QUIET_RECORD}), json.dumps({"log": NOISE})]
    later = [line.replace("20:00:0", "20:00:3") for line in plain]
    got = staged(tmp_path, [*plain, *tagged, *later], payload="log")
    assert [row[:4] for row in got] == [
        (1, "irrelevant", None, None),
        (2, "irrelevant", None, None),
        (3, "relevant", None, "t1"),
        (5, "irrelevant", None, None),
        (6, "irrelevant", None, None),
    ]


def test_a_fluent_bit_part_the_file_ends_inside_stops_the_run(tmp_path):
    lines = [QUIET_FB[0], fluent_bit(RECORD[:40], "P"), QUIET_FB[1], fluent_bit(RECORD[40:60], "P")]
    message = (
        r"^logs/pod-a.jsonl: lines 2-4 are the start of a record holding a failure event "
        r"\(payment.failed\) that the file ends inside"
    )
    with pytest.raises(InputError, match=message):
        staged(tmp_path, lines, payload="log")


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize(
    ("last", "envelope"),
    [(cri(RECORD, tag="P"), "cri"), (docker(RECORD), "docker")],
)
def test_a_whole_record_a_stopped_container_left_without_its_line_feed_is_read(
    tmp_path, last, envelope, line_checks
):
    # containerd tags a stream's last line P, and Docker writes it without its line feed, when
    # the container exits before writing one: the file never goes on, yet the run stopped as
    # if it would ("run again once it is complete"). A JSON object is whole: read.
    quiet = cri(QUIET_RECORD) if envelope == "cri" else docker(QUIET_RECORD + "\n")
    got = staged(tmp_path, [quiet, last], line_checks, envelope=envelope)
    assert [row[:4] for row in got] == [(1, "irrelevant", None, None), (2, "relevant", None, "t1")]


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
@pytest.mark.parametrize("envelope", sorted(log_formats.ENVELOPES))
def test_a_failure_event_written_otherwise_is_seen_in_every_envelope(
    tmp_path, envelope, line_checks
):
    # Its case or a hidden character inside: no screen's needle as written. The line screen
    # folds the bytes, so the record is checked in full in every envelope, and the gate's
    # check finds it (`policy_checks.events_written_otherwise`); irrelevant, never lost.
    records = [
        json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z")),
        json.dumps(failure("t2", ts="2025-01-07T20:00:01.5Z") | {"event": "Payment.Failed"}),
        json.dumps(
            failure("t3", ts="2025-01-07T20:00:02.5Z") | {"event": "pay\u200bment.failed"},
            ensure_ascii=False,
        ),
        QUIET_RECORD,
    ]
    lines = [record.encode() for record in records]
    if envelope in log_formats.MANY:
        data = gzip.decompress(log_formats.MANY[envelope](lines))
    else:
        data = b"".join(log_formats.wrap(line, envelope) for line in lines)
    settings = tomllib.loads(log_formats.ENVELOPES[envelope])["sources"]
    path = write_incident(
        tmp_path / "inc",
        lines=[data],
        transactions=[txn("t1")],
        sources=settings,
        quality={"line_checks": line_checks},
    )
    con = reconcile_incident(path, tmp_path)
    written = con.sql(
        "select event_written_otherwise from stg_log_lines "
        "where event_written_otherwise is not null order by line"
    ).fetchall()
    assert written == [("Payment.Failed",), ("pay\u200bment.failed",)]
    (problem,) = policy_checks.events_written_otherwise(con, incident.load(path))
    assert problem.startswith("2 log line(s) carry a failure event written otherwise"), problem
    buckets = con.sql("select bucket, count(*) from int_log_lines_bucketed group by all")
    control = envelope == "cloudwatch"  # its CONTROL_MESSAGE object is a record too
    assert dict(buckets.fetchall()) == {"relevant": 1, "irrelevant": 3 + control}
