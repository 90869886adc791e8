"""Records the map stops the run on rather than quarantine them, each failure in them lost
under the quarantine limit: the failure events a part of a split record names (`lost.held`),
records written one after another on one line (`lost.streamed`), and a file that is not the
envelope's (`misread.Misread`)."""

from __future__ import annotations

import json
import re

import pytest

from tests.builders import failure, reconcile_incident, stopped, write_incident
from transforms.ingest.logs import lost

EVENTS = ("payment.failed", "charge/error")


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ('{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn', ["payment.failed"]),
        ('{"event": "\\u0070ayment.failed"', ["payment.failed"]),  # spelt with an escape
        ('{"log":"{\\"event\\":\\"payment.failed\\",\\"tx', ["payment.failed"]),  # in Docker's log
        ('{"log":"{\\"event\\":\\"\\\\u0070ayment.failed', ["payment.failed"]),  # both, cut there
        ("ts=2025-01-07T20:00:00Z event=charge/error txn", ["charge/error"]),  # logfmt
        ('{"event": "payment.failed_retry", "txn', []),  # a longer name: another event
        ('{"event": "payment.failed.v2"', []),
        ('{"event": "xpayment.failed"', []),
        ('{"event": "payment.succeeded", "note": "was payment', []),
    ],
)
def test_a_part_holds_a_failure_event_named_whole_spelt_with_escapes_or_not(text, held):
    assert lost.held(text, EVENTS) == held


def compact(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


QUIET = [compact({"ts": f"2025-01-07T20:00:0{i}Z", "event": "http.request"}) for i in range(3)]
FAILED = compact(failure("t1", ts="2025-01-07T20:00:00.5Z"))


def fluent_bit(record: str, date: float = 1736280000.5) -> str:
    """A record of Fluent Bit's tail input as its outputs write it, the line in `log`."""
    return compact({"date": date, "log": record + "\n"})


@pytest.mark.parametrize(
    ("line", "log_format", "records"),
    [
        (QUIET[0] + FAILED + QUIET[1], {}, 3),  # Fluent Bit's format json_stream; Firehose's
        (FAILED + QUIET[0], {}, 2),  # the failure first: no record glued after other text
        (FAILED + " \t" + QUIET[0], {}, 2),  # white space between them
        (
            fluent_bit(QUIET[0]) + fluent_bit(FAILED) + fluent_bit(QUIET[1]),
            {"payload": "log"},
            3,
        ),  # Fluent Bit's records, the service's line in each one's `log`
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_records_written_one_after_another_on_a_line_stop_the_run(
    tmp_path, line, log_format, records, line_checks
):
    # JSON records with no line feed between them (Fluent Bit's format json_stream, Firehose's
    # objects without its new line delimiter) are one line that is no JSON: quarantined, its
    # failures were one item under the quarantine limit, never credited.
    path = write_incident(
        tmp_path / "inc",
        lines=[QUIET[2], line],
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
    )
    assert stopped(path, tmp_path).startswith(
        f"logs/pod-a.jsonl: line 2 is {records} JSON records written one after another with no "
        "line feed between them, 1 of them a failure record (payment.failed): quarantined, it "
        "would be one item under the quarantine limit and its failure never credited. "
    )


@pytest.mark.parametrize(
    "line",
    [
        QUIET[0] + QUIET[1],  # no failure record among them
        compact({"msg": "payment.failed"}) + QUIET[0],  # an event named, but no record's event
        FAILED[:-1] + QUIET[0],  # the failure record cut short, then another
        FAILED + "x",  # other text after the record
    ],
)
def test_a_line_of_records_one_after_another_without_a_failure_record_is_quarantined(
    tmp_path, line
):
    path = write_incident(tmp_path / "inc", lines=[line], quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select bucket, quarantine_reason from int_log_lines_bucketed").fetchall() == [
        ("quarantined", "not valid JSON")
    ]


def azure(record: str) -> str:
    """A resource log of App Service's console logs, the line in `resultDescription`."""
    return compact(
        {
            "time": "2025-01-07T20:00:00.5000000Z",
            "resourceId": "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/PAY",
            "category": "AppServiceConsoleLogs",
            "resultDescription": record,
        }
    )


@pytest.mark.parametrize(
    ("lines", "log_format"),
    [
        (["[", QUIET[0] + ",", FAILED + ",", QUIET[1], "]"], {}),
        (["[", "  " + FAILED + ",", "  " + QUIET[1], "]"], {}),  # indented
        (["[", fluent_bit(FAILED) + ",", fluent_bit(QUIET[1]), "]"], {"payload": "log"}),
        # a collector's records, the service's line as text in each, read with no payload set:
        # Fluent Bit's; Azure Monitor's resource logs as storage kept them before November 2018
        (["[", fluent_bit(FAILED) + ",", fluent_bit(QUIET[1]), "]"], {}),
        (['{"records": [', azure(FAILED) + ",", azure(QUIET[1]), "]}"], {}),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_json_array_written_one_record_a_line_holding_a_failure_stops_the_run(
    tmp_path, lines, log_format, line_checks
):
    # `[`, each record and its comma on a line of its own, `]`: every record but the last is no
    # JSON as a line, quarantined; the failure in one was one item under the quarantine limit
    # (a small file's among the others'), and the run passed
    path = write_incident(
        tmp_path / "inc",
        lines=[QUIET[2], *lines],
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
    )
    number = next(n for n, line in enumerate(lines, 2) if "payment.failed" in line)
    message = stopped(path, tmp_path)
    assert message.startswith(
        f"logs/pod-a.jsonl: line {number} is a record of a JSON array written one record a line "
        "(the record, then a comma), holding a failure event (payment.failed): quarantined, it "
        "would be one item under the quarantine limit and its failure never credited. "
    ), message
    assert "jq -c '.[]' FILE" in message


@pytest.mark.parametrize(
    "line",
    [
        QUIET[0] + ",",  # no failure record
        compact({"msg": "payment.failed"}) + ",",  # an event named, but no record's event
        FAILED + ", x",  # other text after the comma
    ],
)
def test_a_record_and_a_comma_without_a_failure_record_is_quarantined(tmp_path, line):
    path = write_incident(tmp_path / "inc", lines=[line], quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select bucket, quarantine_reason from int_log_lines_bucketed").fetchall() == [
        ("quarantined", "not valid JSON")
    ]


TIME = "2025-01-07T20:00:00.123456789Z"


def docker(record: str) -> str:
    return compact({"log": record + "\n", "stream": "stdout", "time": TIME})


def cri(record: str) -> str:
    return f"{TIME} stdout F {record}"


def otlp(record: str) -> str:
    body = {"timeUnixNano": "1736280000500000000", "body": {"stringValue": record}}
    return compact({"resourceLogs": [{"scopeLogs": [{"logRecords": [body]}]}]})


def cloudwatch(record: str) -> str:
    event = {"id": "1", "timestamp": 1736280000500, "message": record}
    return compact({"messageType": "DATA_MESSAGE", "logGroup": "g", "logEvents": [event]})


# Each envelope, how it wraps a record, and the start of its reason for a line that is not it
ENVELOPES = {
    "docker": (docker, "not a Docker json-file entry"),
    "cri": (cri, "not a CRI line"),
    "fluentd": (lambda record: f"2025-01-07T20:00:00+0000\tpay\t{record}", "not a fluentd"),
    "fluentbit": (lambda record: f"pay: [1736280000.5, {record}]", "not a Fluent Bit file"),
    "cloudwatch_export": (lambda record: f"{TIME} {record}", "not a CloudWatch Logs export"),
    "syslog": (
        lambda record: f"<134>1 {TIME} node-1 payments 42 - - {record}",
        "not a syslog line",
    ),
    "otlp": (otlp, "not an OTLP JSON line"),
    "cloudwatch": (cloudwatch, "not a CloudWatch Logs object"),
}
# A file of another envelope's lines (or the service's own) that a glob caught beside them
FOREIGN = {"plain": lambda record: record, "docker": docker, "cri": cri}


@pytest.mark.parametrize(
    ("envelope", "foreign"),
    [
        (envelope, foreign)
        for envelope in ENVELOPES
        for foreign in FOREIGN
        # a CRI line read as an export line is a record after other text (`stdout F {...}`),
        # which stops the run already (`lost.glued`)
        if foreign != envelope and (envelope, foreign) != ("cloudwatch_export", "cri")
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_file_that_is_not_the_envelopes_stops_the_run_on_a_failure(
    tmp_path, envelope, foreign, line_checks
):
    # Mixed envelopes in one folder: each line of the other file was quarantined as not the
    # envelope's, its failure one item under the quarantine limit, never credited (a file of a
    # few lines beside large ones passed the gate). An OTLP or CloudWatch file's items are
    # numbered by JSON value: a CRI line's time is a few numbers, each an item.
    wrap, reason = ENVELOPES[envelope]
    lines = [FOREIGN[foreign](record) for record in [QUIET[0], FAILED, QUIET[1]]]
    path = write_incident(
        tmp_path / "inc",
        lines=[wrap(QUIET[2])],
        sources={"log_format": {"envelope": envelope}},
        quality={"line_checks": line_checks},
    )
    (tmp_path / "inc" / "logs" / "pod-b.log").write_text("\n".join(lines) + "\n")
    message = stopped(path, tmp_path)
    assert re.match(
        f'logs/pod-b.log: no line of it is read with envelope = "{envelope}", and line '
        f"[0-9]+, quarantined as {re.escape(reason)}",
        message,
    )
    assert message.endswith(
        "holds a failure event (payment.failed): read so, its failures would each be "
        "quarantined, under the quarantine limit, and never credited. The file is not one the "
        "setting reads (the service's own lines, or another collector's): read it in a run "
        "whose [sources.log_format] reads it, or leave it out of sources.logs, then run again"
    )


@pytest.mark.parametrize(
    ("envelope", "lines", "quarantined"),
    [
        ("docker", [docker(QUIET[0]), cri(FAILED), docker(QUIET[1])], [2]),  # among its lines
        ("docker", [cri(QUIET[0]), cri(QUIET[1])], [1, 2]),  # a file without a failure
        ("docker", [docker(QUIET[0]), docker(FAILED)[:-9]], [2]),  # a last line cut mid-write
        ("otlp", [otlp(QUIET[0]), otlp(FAILED)[:-9]], [2]),  # the first request unchecked
        ("cloudwatch", [cloudwatch(QUIET[0]), cloudwatch(FAILED)[:-9]], [2]),
        # a line of the envelope alone in its file whose bytes are not UTF-8: unreadable, as
        # any line's (model test_differential's OTLP case)
        ("otlp", [otlp(FAILED).replace("t1", "T_1").encode().replace(b"T_1", b"\xff")], [1]),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_bad_line_in_a_file_of_the_envelope_or_a_quiet_file_is_quarantined(
    tmp_path, envelope, lines, quarantined, line_checks
):
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": {"envelope": envelope}},
        quality={"line_checks": line_checks},
    )
    con = reconcile_incident(path, tmp_path)
    got = con.sql("select line from int_log_lines_bucketed where bucket = 'quarantined'")
    assert [line for (line,) in got.fetchall()] == quarantined


@pytest.mark.parametrize("junk", [b"\n", b"x\n", b" \t\r\n"])
def test_a_file_of_more_quarantined_lines_than_the_limit_stops_the_run(tmp_path, junk):
    # A 100 KB gzip of 100 M blank lines (a decompression bomb, a disk of zeros cut into lines)
    # read for 7 minutes and wrote gigabytes of quarantine.jsonl: past the limit, the map stops.
    limit = {"max_quarantined_lines": 5}  # [quality], 1,000,000 unless set
    lines = [QUIET[0], *[junk] * 5, FAILED]
    path = write_incident(
        tmp_path / "ok", lines=lines, log_name="logs/pod-a.jsonl.gz", quality=limit
    )
    reconcile_incident(path, tmp_path / "ok-work")  # at the limit: quarantined line by line
    path = write_incident(tmp_path / "inc", lines=[*lines, junk, FAILED], quality=limit)
    assert stopped(path, tmp_path / "work").startswith(
        "logs/pod-a.jsonl: more than 5 of its lines are quarantined (by line 8: "
    )


def test_a_collectors_file_past_the_limit_names_the_setting_that_reads_it(tmp_path):
    # A busy service's Docker json-file log read with the default format: each failure line is
    # quarantined naming envelope = "docker"; past the limit the run was told the file is no
    # log at all and to leave it out.
    entries = [
        compact({"log": FAILED + "\n", "stream": "stdout", "time": "2025-01-07T20:00:00Z"})
    ] * 3
    path = write_incident(tmp_path / "inc", lines=entries, quality={"max_quarantined_lines": 2})
    said = stopped(path, tmp_path / "work")
    assert said.startswith(
        "logs/pod-a.jsonl: more than 2 of its lines are quarantined (by line 3: "
    )
    assert 'set envelope = "docker"' in said
    assert "[sources.log_format] does not read this file; set what that reason names" in said
    assert "no log of the contract" not in said


def test_a_file_a_check_names_more_precisely_is_named_so_before_the_limit(tmp_path):
    # Records written one after another on one line (`lost.streamed`): named as such, not as
    # a file past the quarantine limit, whichever comes first in the batch.
    glued = FAILED + FAILED
    path = write_incident(tmp_path / "inc", lines=[glued] * 3, quality={"max_quarantined_lines": 1})
    said = stopped(path, tmp_path / "work")
    assert "more than 1 of its lines are quarantined" not in said, said
