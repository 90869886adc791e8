"""`collected`: a line that is a JSON array of a collector's records, each holding the service's
line as text (Fluent Bit's stdout or http output in `format json` over its tail input without a
parser), stops the run when one of those lines is a failure record. Each line is written as the
tool writes it."""

from __future__ import annotations

import json

import pytest

from tests.builders import failure, reconcile_incident, stopped, write_incident

RECORD = json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z"), separators=(",", ":"))
QUIET = json.dumps({"ts": "2025-01-07T20:00:01Z", "event": "http.request"})


def fluent_bit_json(*lines: str) -> str:
    """One flush of Fluent Bit's stdout (or http) output in `format json`: an array of its
    records, each the tail input's `{"date": <epoch s>, "log": <the line>}` (no parser)."""
    records = [{"date": 1736280000.123456, "log": line} for line in lines]
    return json.dumps(records, separators=(",", ":"))


def forward_message(line: str) -> str:
    """One event as fluentd's forward protocol's message mode writes it in JSON, `[tag, time,
    record]`: the record a tail input's `{"log": <the line>}`."""
    return json.dumps(["payments.api", 1736280000, {"log": line}], separators=(",", ":"))


@pytest.mark.parametrize("log_format", [{}, {"payload": "log"}])
@pytest.mark.parametrize(
    ("batch", "records"), [(fluent_bit_json, 3), (lambda *lines: forward_message(lines[1]), 1)]
)
def test_a_batch_of_a_collectors_records_holding_a_failure_stops_the_run(
    tmp_path, log_format, batch, records
):
    # Once quarantined as `JSON array, not an object` (or as without the payload's string): one
    # item under the quarantine limit, its failure never credited, and the run passed
    lines = [batch(QUIET, QUIET, QUIET)] * 3 + [batch(QUIET, RECORD, QUIET)]
    message = stopped(
        write_incident(tmp_path / "inc", lines=lines, sources={"log_format": log_format}),
        tmp_path,
    )
    assert message.startswith(
        f"logs/pod-a.jsonl: line 4 is a JSON array of {records} records, 1 of them a "
        "collector's record holding a failure record (payment.failed) as text: quarantined, "
        "it would be one item "
        "under the quarantine limit and its failures never credited; have the collector write "
        "one record (a JSON object) per line"
    )
    hint = 'Fluent Bit\'s stdout and http outputs: format json_lines; then set payload = "log"'
    assert f"({hint})" in message


@pytest.mark.parametrize(
    "line",
    [
        fluent_bit_json(QUIET, QUIET),  # no failure: quarantined, as any array
        fluent_bit_json("payment.failed for t1"),  # the service's text naming it: no record
        json.dumps([{"log": {"event": "payment.failed"}}]),  # an object, not text
    ],
)
def test_a_batch_without_a_failure_record_is_quarantined(tmp_path, line):
    path = write_incident(tmp_path / "inc", lines=[QUIET, line], quality={"line_checks": "all"})
    con = reconcile_incident(path, tmp_path)
    assert con.sql(
        "select bucket, quarantine_reason from int_log_lines_bucketed order by line"
    ).fetchall() == [("irrelevant", None), ("quarantined", "JSON array, not an object")]


def test_a_batch_whose_payload_is_the_failure_record_as_an_object_stops_the_run(tmp_path):
    # Vector's http sink in `json` encoding (a flush an array of events) after `parse_json` into
    # `.message`: the record at the payload is an object, as a line of its own is read
    # (`payload = "message"`); once quarantined as without the payload's string, one item under
    # the quarantine limit, and the run passed
    def vector_json(*lines: str) -> str:
        events = [{"timestamp": "2025-01-07T20:00:02Z", "message": json.loads(x)} for x in lines]
        return json.dumps(events, separators=(",", ":"))

    lines = [vector_json(QUIET, QUIET)] * 3 + [vector_json(QUIET, RECORD)]
    sources = {"log_format": {"payload": "message"}}
    message = stopped(write_incident(tmp_path / "inc", lines=lines, sources=sources), tmp_path)
    assert message.startswith(
        "logs/pod-a.jsonl: line 4 is a JSON array of 2 records, 1 of them a collector's record "
        "holding a failure record (payment.failed)"
    ), message


def test_a_forward_mode_message_holding_a_failure_stops_the_run(tmp_path):
    # fluentd's forward protocol in forward mode as JSON, `[tag, [[time, record], ...]]`: each
    # entry's record a tail input's `{"log": <the line>}`; once quarantined as `JSON array, not
    # an object`, one item under the quarantine limit, and the run passed
    def forward_mode(*lines: str) -> str:
        entries = [[1736280000, {"log": line}] for line in lines]
        return json.dumps(["payments.api", entries], separators=(",", ":"))

    lines = [forward_mode(QUIET, QUIET)] * 3 + [forward_mode(QUIET, RECORD, QUIET)]
    message = stopped(write_incident(tmp_path / "inc", lines=lines), tmp_path)
    assert message.startswith(
        "logs/pod-a.jsonl: line 4 is a JSON array of 3 records, 1 of them a collector's record "
        "holding a failure record (payment.failed)"
    ), message
