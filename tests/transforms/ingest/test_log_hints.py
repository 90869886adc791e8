"""`hints`: a collector's file read with the default format names the setting that reads it, and
that setting, followed, reads the record as the service wrote it (its own time, not the
collector's). Each line is written as the tool writes it."""

from __future__ import annotations

import json
import re

import pytest

from tests.builders import failure, reconcile_incident, stopped, write_incident

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


def _hit(source: dict) -> str:
    """One document as an Elasticsearch dump writes it: elasticdump's `--type=data` file, or
    the hits of a `_search` scroll one a line (`jq -c '.hits.hits[]'`)."""
    hit = {"_index": ".ds-logs-pay-2025.01.07-000001", "_id": "AZQ1", "_score": 1}
    return json.dumps(hit | {"_source": source}, separators=(",", ":"))


def _filebeat(record: dict) -> dict:
    # Filebeat's document: the service's line the text of `message`, Filebeat's own time
    return {
        "@timestamp": "2025-01-07T20:00:02.000Z",
        "message": json.dumps(record),
        "log": {"file": {"path": "/var/log/pay.log"}},
        "ecs": {"version": "8.0.0"},
    }


ELASTIC_TEXT = 'an Elasticsearch dump (elasticdump, _search hits): set payload = "_source.message"'
ELASTIC_FIELDS = (
    'an Elasticsearch dump (elasticdump, _search hits): set ts = "_source.ts", event = '
    '"_source.event", txn_id = "_source.txn_id", ...'
)


@pytest.mark.parametrize(
    ("document", "hint"),
    [
        (_filebeat, ELASTIC_TEXT),
        # a document of the record's own fields (Filebeat's or Logstash's JSON decoding)
        (lambda record: record | {"@timestamp": "2025-01-07T20:00:02.000Z"}, ELASTIC_FIELDS),
    ],
)
def test_an_elasticsearch_dump_names_the_setting_that_reads_it(tmp_path, document, hint):
    # Once a bare `missing ts`: its failure lines were quarantined under the quarantine limit
    # beside its quiet ones, counted irrelevant, and the run passed, the failures never credited
    lines = [_hit(document(QUIET))] * 20 + [_hit(document(RECORD))]
    path = write_incident(tmp_path / "inc", lines=lines)
    assert re.match(
        r"logs/pod-a.jsonl: no line of it is a record read with \[sources.log_format\], and "
        rf"line [0-9]+ looks like {re.escape(hint)}",
        stopped(path, tmp_path),
    )


@pytest.mark.parametrize(
    ("document", "log_format"),
    [
        (_filebeat, {"payload": "_source.message"}),
        (
            lambda record: record | {"@timestamp": "2025-01-07T20:00:02.000Z"},
            {
                "ts": "_source.ts",
                "event": "_source.event",
                "txn_id": "_source.txn_id",
                "error_code": "_source.error_code",
            },
        ),
    ],
)
def test_an_elasticsearch_dump_is_read_with_the_setting_named(tmp_path, document, log_format):
    got = _staged(tmp_path, [_hit(document(QUIET)), _hit(document(RECORD))], **log_format)
    assert got == [
        ("irrelevant", None, None, None),
        ("relevant", None, "t1", SERVICE_TIME),
    ]


LINE = json.dumps(RECORD, separators=(",", ":"))
AWS_TAIL = (
    "aws logs tail's default output (time, log stream, message), which no setting reads: run "
    'it with --format short and set envelope = "cloudwatch_export"'
)
FLUENTD_STDOUT = (
    "fluentd's stdout output (time, tag, record), which no setting reads: write the records "
    'with out_file and set envelope = "fluentd"'
)
KUBECTL_PREFIX = (
    "kubectl logs --prefix, which no setting reads: write each container's logs to a file of "
    'its own, without --prefix (with --timestamps: envelope = "cloudwatch_export")'
)
COMPOSE = (
    "docker compose logs (service | line), which no setting reads: write each service's logs "
    "to a file of its own with --no-log-prefix (with --timestamps: envelope = "
    '"cloudwatch_export")'
)
JOURNALCTL = (
    "journalctl's text output in a format no setting reads (-o short-unix, short-full, "
    'short-monotonic, with-unit): export with -o short-iso (envelope = "syslog") or -o json '
    '(payload = "MESSAGE")'
)
AWS_TEXT = (
    "the AWS CLI's aws logs output as text (--output text), which no setting reads: run it "
    "with --output json, write each event a line (jq -c '.events[]' FILE) and set payload = "
    '"message"'
)
PREFIXED = [
    # the AWS CLI's --output text: an `EVENTS` row a line, the event's values in its keys'
    # order, tab-separated (filter-log-events: eventId, ingestionTime, logStreamName,
    # message, timestamp; get-log-events: ingestionTime, message, timestamp)
    (f"EVENTS\t37910\t1736280001000\tpayment-api/api/0a1b\t{LINE}\t1736280000500", AWS_TEXT),
    (f"EVENTS\t1736280001000\t{LINE}\t1736280000500", AWS_TEXT),
    # journalctl's other text formats: the time as epoch seconds, with its weekday and zone,
    # the monotonic clock's (`-o short-unix`, `short-full` and `with-unit`, `short-monotonic`)
    (f"1736280000.500123 node-1 payments[42]: {LINE}", JOURNALCTL),
    (f"Tue 2025-01-07 20:00:00 UTC node-1 payments[42]: {LINE}", JOURNALCTL),
    (f"Tue 2025-01-07 15:00:00 EST node-1 payments.service[42]: {LINE}", JOURNALCTL),
    (f"[  123.456789] node-1 payments[42]: {LINE}", JOURNALCTL),
    # aws logs tail: `isoformat()` of the event's time (microseconds unless none, +00:00),
    # the log stream, the message (`--format detailed`, the default)
    (f"2025-01-07T20:00:00.500000+00:00 payment-api/api/0a1b2c3d {LINE}", AWS_TAIL),
    (f"2025-01-07T20:00:00+00:00 2025/01/07/[$LATEST]0a1b2c3d {LINE}", AWS_TAIL),
    # fluentd's stdout output (its stdout format): the time, `%z`, the tag and a colon
    (f"2025-01-07 20:00:00.500000000 +0000 payments.api: {LINE}", FLUENTD_STDOUT),
    (f"2025-01-07 20:00:00 +0000 payments.api: {json.dumps({'log': LINE})}", FLUENTD_STDOUT),
    # kubectl logs --prefix (and --timestamps): `[pod/<pod>/<container>] `
    (f"[pod/payment-api-5c4b/api] {LINE}", KUBECTL_PREFIX),
    (f"[pod/payment-api-5c4b/api] 2025-01-07T20:00:00.123456789Z {LINE}", KUBECTL_PREFIX),
    # docker compose logs: the service's container name padded, ` | ` (and --timestamps)
    (f"payments-api-1  | {LINE}", COMPOSE),
    (f"api-1           | 2025-01-07T20:00:00.123456789Z {LINE}", COMPOSE),
]


@pytest.mark.parametrize(("line", "hint"), PREFIXED)
def test_a_prefix_no_setting_reads_is_named_with_what_to_do(tmp_path, line, hint):
    # Once the run stopped telling to "set the envelope that reads it", which none does, or
    # (fluentd's stdout of a collector's record, its event inside the record's string) passed,
    # the failure quarantined as a bare `not valid JSON` under the quarantine limit
    quiet = line.replace(LINE, json.dumps(QUIET))
    assert _staged(tmp_path / "quiet", [json.dumps(QUIET), quiet])[1][1] == (
        f"not valid JSON (the line looks like {hint} in [sources.log_format])"
    )
    path = write_incident(tmp_path / "inc", lines=[quiet] * 5 + [line])
    assert f"looks like {hint} in [sources.log_format]" in stopped(path, tmp_path)


def _zap(event: str, txn_id: str | None = None, ts: object = 1736280000.5001233) -> str:
    """A line of zap's production JSON encoder: `ts` epoch seconds as a JSON number."""
    fields = {"level": "error", "ts": ts, "caller": "pay/charge.go:88", "msg": "charge"}
    return json.dumps(fields | {"event": event} | ({"txn_id": txn_id} if txn_id else {}))


@pytest.mark.parametrize(
    ("ts", "ts_format", "looks"),
    [
        (1736280000.5001233, "epoch_s", "epoch seconds (zap's JSON ts)"),
        (1736280000500, "epoch_ms", "epoch milliseconds"),
        ("1736280000500123", "epoch_us", "epoch microseconds"),
        (1736280000500123456, "epoch_ns", "epoch nanoseconds"),
    ],
)
def test_an_epoch_ts_read_as_rfc3339_names_its_ts_format(tmp_path, ts, ts_format, looks):
    # Once `ts is not a string` (or not RFC 3339), named no setting: a file of zap's lines had
    # its failure lines quarantined under the quarantine limit, and the run passed
    lines = [_zap("http.request", ts=ts)] * 5 + [_zap("payment.failed", "t1", ts=ts)]
    hint = f'(the line looks like {looks}: set ts_format = "{ts_format}" in [sources.log_format])'
    assert hint in _staged(tmp_path / "one", [json.dumps(QUIET), lines[-1]])[-1][1]
    path = write_incident(tmp_path / "inc", lines=lines)
    assert f"looks like {looks}: set ts_format" in stopped(path, tmp_path)
    ((bucket, _, txn_id, at),) = _staged(tmp_path / "set", lines[-1:], ts_format=ts_format)
    assert (bucket, txn_id) == ("relevant", "t1")
    assert at in (SERVICE_TIME, "2025-01-07 20:00:00.500123+00")  # to the microsecond


@pytest.mark.parametrize("ts", ["1736280000.5", -1736280000, 17362800, 17362800005])
def test_a_ts_no_epoch_unit_reads_names_none(tmp_path, ts):
    # a string of epoch seconds (epoch_s reads numbers alone), a negative, a number of too few
    # digits or of eleven (between seconds and milliseconds): no setting named
    reason = _staged(tmp_path, [_zap("payment.failed", "t1", ts=ts)])[0][1]
    assert reason in ("ts is not a string", "ts is not an RFC 3339 timestamp")


@pytest.mark.parametrize(
    "record",
    [
        # Go's log/slog JSONHandler, bunyan: the time at `time`, RFC 3339
        {"time": "2025-01-07T20:00:00.5Z", "level": "ERROR", "msg": "charge failed"},
        {"name": "pay", "hostname": "n1", "pid": 1, "level": 50, "time": "2025-01-07T20:00:00.5Z"},
        # pino: epoch milliseconds at `time` (then named ts_format = "epoch_ms", above)
        {"level": 50, "time": 1736280000500, "pid": 1, "hostname": "n1", "msg": "charge failed"},
    ],
)
def test_a_record_with_its_time_at_time_names_ts_time(tmp_path, record):
    # Once a bare `missing ts`: a file of a logger's records with `time` for `ts` had its failure
    # lines quarantined under the quarantine limit, and the run passed
    line = json.dumps(record | RECORD | {"time": record["time"]})
    line = json.dumps({k: v for k, v in json.loads(line).items() if k != "ts"})
    reason = _staged(tmp_path / "one", [json.dumps(QUIET), line])[1][1]
    assert reason == (
        "missing ts (the line looks like a logger's record with its time at time (Go's slog, "
        'pino, bunyan): set ts = "time" in [sources.log_format])'
    )
    quiet = json.dumps({k: v for k, v in json.loads(line).items() if k != "txn_id"})
    quiet = quiet.replace("payment.failed", "http.request")
    path = write_incident(tmp_path / "inc", lines=[quiet] * 5 + [line])
    assert "looks like a logger's record with its time at time" in stopped(path, tmp_path)


def _app_service_console(record: dict) -> dict:
    # Azure Monitor's resource log as a diagnostic setting archives it to a storage account
    # (`PT1H.json`, one record a line): the common schema's `time`, `resourceId`, `category`,
    # the container's line in App Service's console logs' `resultDescription`
    resource = "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/PAY"
    common = {"time": "2025-01-07T20:00:02.0000000Z", "resourceId": resource}
    category = {"category": "AppServiceConsoleLogs", "operationName": "Microsoft.Web/sites/log"}
    return common | category | {"level": "Informational", "resultDescription": json.dumps(record)}


AZURE_STORAGE = (
    "missing ts (the line looks like Azure Monitor's resource logs as a diagnostic setting "
    "archives them (PT1H.json): set payload"
)


def test_azure_resource_logs_archived_to_storage_name_their_payload(tmp_path):
    # Once named `ts = "time"` (a logger's record): followed, the failure line was quarantined
    # as a bare `missing event`, under the quarantine limit, and the run passed uncredited
    reason = _staged(tmp_path / "default", [QUIET, _app_service_console(RECORD)])[1][1]
    assert reason == f'{AZURE_STORAGE} = "resultDescription" in [sources.log_format])'
    assert _staged(
        tmp_path / "set", [_app_service_console(RECORD)], payload="resultDescription"
    ) == [("relevant", None, "t1", SERVICE_TIME)]
    # another category's record, its line elsewhere: the setting still named, generically
    other = _app_service_console(RECORD) | {"resultDescription": "started"}
    other["properties"] = {"Log": json.dumps(RECORD)}
    reason = _staged(tmp_path / "other", [QUIET, other])[1][1]
    assert reason.startswith(f"{AZURE_STORAGE} to its category's field holding the service's line")
