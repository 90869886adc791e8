"""Records the map stops the run on rather than quarantine them, each failure in them lost
under the quarantine limit: the failure events a part of a split record names (`lost.held`),
and records written one after another on one line (`lost.streamed`)."""

from __future__ import annotations

import json

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
