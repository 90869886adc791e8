"""A JSON path of `[sources.log_format]` with dots reads a key written whole with its dots
(ECS loggers' `"event.action"`, `"transaction.id"`) where the record has it, and the nested path
otherwise; a record holding both is quarantined, as a contract key written twice is."""

from __future__ import annotations

import pytest

from tests.builders import reconcile_incident, write_incident
from transforms.ingest import incident
from transforms.ingest.logs import lost

ECS = {
    "ts": "@timestamp",
    "event": "event.action",
    "txn_id": "transaction.id",
    "amount_minor": "transaction.amount",
}
TWICE = "a key of the log contract appears twice in the JSON object"


def staged(tmp_path, line: str, checks: str = "all") -> list[tuple]:
    path = write_incident(
        tmp_path / "inc",
        lines=[line],
        sources={"log_format": ECS},
        quality={"line_checks": checks},
    )
    return (
        reconcile_incident(path, tmp_path)
        .sql("select bucket, quarantine_reason, txn_id, amount_minor from int_log_lines_bucketed")
        .fetchall()
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # as ECS loggers write a line: each key whole, its dots in its name
        (
            '{"@timestamp":"2025-01-07T20:00:00.000Z","log.level":"error",'
            '"event.action":"payment.failed","transaction.id":"t1","transaction.amount":1250.0}',
            ("relevant", None, "t1", 1250),
        ),
        # nested, as before; and mixed: one key whole, one nested
        (
            '{"@timestamp":"2025-01-07T20:00:00Z","event":{"action":"payment.failed"},'
            '"transaction":{"id":"t1","amount":1250}}',
            ("relevant", None, "t1", 1250),
        ),
        (
            '{"@timestamp":"2025-01-07T20:00:00Z","event.action":"payment.failed",'
            '"event":{"dataset":"pay"},"transaction":{"id":"t1"}}',
            ("relevant", None, "t1", None),
        ),
        # both ways, which is meant is unknown: never read either way
        (
            '{"@timestamp":"2025-01-07T20:00:00Z","event.action":"payment.failed",'
            '"event":{"action":"payment.succeeded"},"transaction.id":"t1"}',
            ("quarantined", TWICE, None, None),
        ),
        (
            '{"@timestamp":"2025-01-07T20:00:00Z","event.action":"payment.failed",'
            '"transaction.id":"t1","transaction":{"id":"t2"}}',
            ("quarantined", TWICE, None, None),
        ),
        # the whole key written twice
        (
            '{"@timestamp":"2025-01-07T20:00:00Z","event.action":"payment.failed",'
            '"transaction.id":"t1","transaction.id":"t2"}',
            ("quarantined", TWICE, None, None),
        ),
    ],
)
@pytest.mark.parametrize("checks", ["all", "failure_capable"])
def test_a_dotted_path_reads_the_key_written_whole_first(tmp_path, line, expected, checks):
    assert staged(tmp_path, line, checks) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        '{"@timestamp":"2025-01-07T20:00:00Z","event.action":"payment.failed"}',
        '{"@timestamp":"2025-01-07T20:00:00Z","event":{"action":"payment.failed"}}',
    ],
)
def test_a_record_held_as_text_is_read_with_its_key_written_whole_too(text):
    # as a collector's text holding a record is looked into for a failure event the run
    # would lose (`lost.record_events`)
    fmt = incident.LogFormat(event="event.action")
    assert lost.record_events(text, fmt, ("payment.failed",)) == ["payment.failed"]
