"""`hints`: a collector's file read with the default format names the setting that reads it, and
that setting, followed, reads the record as the service wrote it (its own time, not the
collector's). Each line is written as the tool writes it."""

from __future__ import annotations

import re

import pytest

from tests.builders import failure, reconcile_incident, write_incident

RECORD = failure("t1", ts="2025-01-07T20:00:00.5Z")
QUIET = {"ts": "2025-01-07T20:00:01Z", "event": "http.request"}
SERVICE_TIME = "2025-01-07 20:00:00.5+00"


def _datadog(record: dict) -> dict:
    # Datadog's log archive (gzip JSON lines): the record parsed into `attributes`; `date` is
    # when the Agent took the line in (the contract's `ts` is no date attribute Datadog remaps)
    return {
        "_id": "AZQ1",
        "date": "2025-01-07T20:00:02.000Z",
        "host": "node-1",
        "service": "pay",
        "status": "error",
        "message": "",
        "attributes": record,
        "tags": ["env:prod"],
    }


def _cloud_logging(record: dict) -> dict:
    # A Cloud Logging sink's export to Cloud Storage (its keys in order, times in nanoseconds):
    # the JSON line parsed into jsonPayload, `timestamp` the runtime's or the agent's time
    return {
        "insertId": "1a2b3c",
        "jsonPayload": record,
        "logName": "projects/p/logs/stdout",
        "receiveTimestamp": "2025-01-07T20:00:04.123456789Z",
        "resource": {"labels": {"pod_name": "pay-1"}, "type": "k8s_container"},
        "severity": "ERROR",
        "timestamp": "2025-01-07T20:00:02.000000001Z",
    }


def _staged(tmp_path, lines, **log_format) -> list[tuple]:
    path = write_incident(
        tmp_path / "inc",
        lines=lines,
        sources={"log_format": log_format},
        quality={"line_checks": "all"},
    )
    con = reconcile_incident(path, tmp_path)
    return con.sql(
        "select bucket, quarantine_reason, txn_id, ts_utc::varchar "
        "from int_log_lines_bucketed order by line"
    ).fetchall()


def _setting(reason: str) -> dict[str, str]:
    """The `[sources.log_format]` a reason names: its `key = "value"` pairs, and the contract's
    fields it leaves to `...` at the same place as the last one named (`txn_id =
    "attributes.txn_id", ...`)."""
    named = dict(re.findall(r'\b(ts|event|txn_id|payload) = "([^"]+)"', reason.split(" (")[1]))
    prefix = named["txn_id"].rpartition(".")[0]
    rest = ("customer_id", "amount_minor", "currency", "error_code")
    return named | {field: f"{prefix}.{field}" for field in rest}


@pytest.mark.parametrize(
    ("wrap", "collector"),
    [(_datadog, "a Datadog log archive"), (_cloud_logging, "a Cloud Logging export")],
)
def test_the_setting_a_hint_names_reads_the_records_own_time(tmp_path, wrap, collector):
    # Once the hint named the collector's time (ts = "date", "timestamp"): followed, a failure
    # logged before the window's start was read seconds later, inside it, and credited (the
    # sample so read credited a customer more, another a payment more)
    reason = _staged(tmp_path / "default", [QUIET, wrap(RECORD)])[1][1]
    assert reason.startswith(f"missing ts (the line looks like {collector}: set ")
    setting = _setting(reason)
    assert _staged(tmp_path / "set", [wrap(RECORD)], **setting) == [
        ("relevant", None, "t1", SERVICE_TIME)
    ]
