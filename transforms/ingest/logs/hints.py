"""The setting that reads a collector's line, named in its quarantine reason when the default
format read it (`missing ts (the line looks like ...)`, `not valid JSON (the line looks like
...)`): the keys or the prefix that tell the collector, bound into `stg_logs.sql`."""

from __future__ import annotations

from transforms.ingest.incident import LogFormat
from transforms.ingest.logs import cloudwatch
from transforms.ingest.logs.screen import CRI_LINE, PREFIX_PATTERNS

# A collector's line read as the record (the default format) has no `ts` of its own: the keys
# that tell which collector wrote it, and the setting that reads it, for the reason (`missing
# ts (the line looks like ...)`). The first whose keys the line holds is named.
# journald's export, whose message holding a control or non-UTF-8 byte is its byte values: a
# failure event spelled in numbers, which no screen of the default format finds (`misread.Misread`)
BYTE_VALUED = "journalctl -o json:"
AZURE_STORAGE = (
    "Azure Monitor's resource logs as a diagnostic setting archives them (PT1H.json): set payload"
)
# A CloudWatch Logs subscription's Lambda event kept as a line (read with the default format,
# or with a payload: `log_payload.sql`), its objects gzip in base64 (`misread` unpacks them)
LAMBDA_HINT = f'{cloudwatch.LAMBDA_EVENT}: {cloudwatch.LAMBDA_FIX}, and set envelope = "cloudwatch"'
COLLECTOR_HINTS = [
    # Fluent Bit's multiline cri parser keeps the kubelet's fields beside the message: a Docker
    # entry's keys, but the message in `log` has no line feed, so envelope = "docker" would
    # join every record to the next as a partial one
    (
        ("_p", "log", "stream", "time"),
        'Fluent Bit\'s record of a CRI line (multiline.parser cri): set payload = "log", and '
        'ts = "envelope.time" if the message has no time of its own,',
    ),
    (("log", "stream", "time"), 'a Docker json-file entry: set envelope = "docker"'),
    (
        ("MESSAGE", "__REALTIME_TIMESTAMP"),
        f'{BYTE_VALUED} set payload = "MESSAGE", and ts = "envelope.__REALTIME_TIMESTAMP" '
        'with ts_format = "epoch_us" if the message has no time of its own,',
    ),
    (("message", "source_type", "timestamp"), 'Vector\'s JSON: set payload = "message"'),
    (("message", "@timestamp", "@version"), 'Logstash\'s JSON: set payload = "message"'),
    (("date", "log"), 'Fluent Bit\'s JSON: set payload = "log"'),
    (("resourceLogs",), 'OTLP JSON: set envelope = "otlp"'),
    (("messageType", "logEvents"), 'a CloudWatch Logs object: set envelope = "cloudwatch"'),
    (
        ("labels", "line", "timestamp"),
        'a Loki export (logcli --output jsonl): set payload = "line"',
    ),
    (
        ("@timestamp", "message", "ecs"),
        'Filebeat\'s JSON (Elastic Common Schema): set payload = "message"',
    ),
    # Vector's gelf codec, Docker's gelf driver: GELF's required keys, the line in short_message
    (
        ("version", "host", "short_message"),
        'GELF (Graylog Extended Log Format): set payload = "short_message", and ts = '
        '"envelope.timestamp" with ts_format = "epoch_s" if the message has no time of its own,',
    ),
    # The record's fields parsed into an object of the entry: its own time is there too, and
    # the entry's is the collector's (Cloud Logging's `timestamp`: the runtime's or the agent's;
    # Datadog's `date`: when the Agent took the line in), seconds late on a backlog, which
    # read a failure logged before the window inside it
    (
        ("jsonPayload",),
        'a Cloud Logging export: set ts = "jsonPayload.ts", event = "jsonPayload.event", '
        'txn_id = "jsonPayload.txn_id", ... (ts = "timestamp", the entry\'s time, only if the '
        "record has no time of its own)",
    ),
    (("textPayload",), 'a Cloud Logging export of text: set payload = "textPayload"'),
    (
        ("_id", "date", "attributes"),
        'a Datadog log archive: set ts = "attributes.ts", event = "attributes.event", txn_id = '
        '"attributes.txn_id", ... (ts = "date", Datadog\'s time of the line, only if the record '
        'has no time of its own; or payload = "message")',
    ),
    # An Elasticsearch dump (elasticdump's data file, a `_search` scroll's hits one a line):
    # each document in `_source`, the service's line the text of its `message` (Filebeat's,
    # Logstash's), or its fields (their JSON decoding), beside Filebeat's or Logstash's time
    (
        ("_index", "_source"),
        'an Elasticsearch dump (elasticdump, _search hits): set payload = "_source.message"',
        "$._source.message",
    ),
    (
        ("_index", "_source"),
        'an Elasticsearch dump (elasticdump, _search hits): set ts = "_source.ts", event = '
        '"_source.event", txn_id = "_source.txn_id", ... (the document\'s fields)',
    ),
    # Splunk's export (REST /services/search/jobs/export or `splunk search -output json`,
    # output_mode=json): one object a result, the event's text in result._raw
    (
        ("preview", "result"),
        'a Splunk export (output_mode=json): set payload = "result._raw", and ts = '
        '"envelope.result._time" if the message has no time of its own,',
        "$.result._raw",
    ),
    # Azure Monitor: a Log Analytics export of ContainerLogV2 (a data export rule's JSON lines),
    # the container's line in LogMessage (an object when it is JSON), and resource logs as Event
    # Hubs (and storage before November 2018) batch them
    (
        ("TimeGenerated", "LogMessage"),
        'an Azure Log Analytics export (ContainerLogV2): set payload = "LogMessage", and ts = '
        '"envelope.TimeGenerated" if the message has no time of its own,',
    ),
    (
        ("records",),
        'Azure Monitor\'s resource logs as Event Hubs batch them ({"records": [...]}): write '
        "each record a line (jq -c '.records[]' FILE) and set payload to its field holding the "
        "service's line",
        "$.records[0]",
    ),
    # ... and as a diagnostic setting archives them to a storage account since then (PT1H.json,
    # one record a line): the common schema's time, resourceId and category, the service's line
    # at its category's field (App Service's console logs: resultDescription). Before the
    # logger's `time` below: read with ts = "time", each failure line was `missing event`
    *(
        (("time", "resourceId", "category"), f"{AZURE_STORAGE}{setting}", *text)
        for setting, *text in [
            (' = "resultDescription"', "$.resultDescription"),
            (
                " to its category's field holding the service's line (App Service's console logs: "
                '"resultDescription")',
            ),
        ]
    ),
    (
        ("awslogs",),
        LAMBDA_HINT,
    ),
    *(
        # the AWS CLI's output made one line (jq -c .): every event of the page in one object
        (
            ("events", key),
            "the AWS CLI's aws logs get-log-events (or filter-log-events) output: write each "
            "event a line (jq -c '.events[]' FILE) and set payload = \"message\"",
        )
        for key in ("nextForwardToken", "searchedLogStreams")
    ),
    # The last hints' lines hold the service's record as text starting as a JSON object, at a
    # path (third, as JSONPath): a `message` of plain text is the service's own field.
    # Vector's native_json codec: the event's fields an object in `log`, the record the text of
    # its message; before the record in `log` below, which its object matches
    (("log",), 'Vector\'s native_json codec: set payload = "log.message"', "$.log.message"),
    # Last, any other collector's record holding the service's JSON line as the text of `log`
    # or `message`: Fluent Bit's plain output of its tail input, fluentd's in_tail without a
    # parser, Fluent Bit's classic cri parser, a CloudWatch event as `aws logs get-log-events`
    # gives it
    *(
        ((key,), f'a collector\'s record: set payload = "{key}"', f"$.{key}")
        for key in ("log", "message")
    ),
    # Last of all, the service's own record with its time at `time` rather than `ts`: Go's
    # log/slog JSONHandler, pino (epoch milliseconds: its ts_format named next), bunyan
    (
        ("time",),
        "a logger's record with its time at time (Go's slog, pino, bunyan): set ts = \"time\"",
    ),
]
# A syslog header before the record (RFC 5424's version and time, RFC 3164's date), or a syslog
# file's (rsyslog's file formats, journalctl's text output): the envelope that reads it.
SYSLOG_FIX = 'set envelope = "syslog"'
SYSLOG_FILE_HINT = f"a syslog file (rsyslog's, or journalctl's text output): {SYSLOG_FIX}"
# Likewise a line whose record comes after a collector's prefix (`not valid JSON (the line looks
# like ...)`): the pattern its start matches, and the setting that reads it. Those of the
# prefix envelopes want the record, a JSON object (`{"`, `{ "`, `{}`), right after the prefix
# (two tabs alone are no fluentd line, a Loki stream's labels no record); a CRI prefix is told
# by itself. The first that matches is named.
JSON_OBJECT_START = '\\{[ \\t]*["}]'
LOGFMT_PAIR = '[A-Za-z_][A-Za-z0-9_.@/-]*=("([^"\\\\]|\\\\.)*"|[^ \\t"=]*)'
PREFIX_HINTS = [
    (CRI_LINE, 'a CRI line (containerd, CRI-O): set envelope = "cri"'),
    # (RFC 5424's after an octet count or not: Heroku's HTTPS drains frame messages so)
    *(
        (f"^{count}<[0-9]{{1,3}}>{header}[^{{]*\\{{", f"syslog (RFC {rfc}): {SYSLOG_FIX}")
        for rfc, count, header in [
            ("5424", "([0-9]{1,7} )?", "1 [0-9]{4}-"),
            ("3164", "", "[A-Z][a-z]{2} [ 0-9][0-9] "),
        ]
    ),
    (
        # rsyslog's traditional file format (/var/log/syslog, /var/log/messages) and
        # journalctl's default output: `<Mmm dd hh:mm:ss> <host> <tag[pid]>: <message>`
        "^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ \\n]+ [^ \\n]+: " + JSON_OBJECT_START,
        SYSLOG_FILE_HINT,
    ),
    (
        # rsyslog's RSYSLOG_FileFormat, journalctl -o short-iso: an RFC 3339 time instead
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \\n]+ [^ \\n]+ [^ \\n]+: " + JSON_OBJECT_START,
        SYSLOG_FILE_HINT,
    ),
    (
        # `heroku logs`: an RFC 3339 time, then `<source>[<dyno>]: ` (no host)
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \\n]+ [^ \\n\\[{"]+\\[[^\\]\\n]+\\]: ' + JSON_OBJECT_START,
        f"heroku logs' output: {SYSLOG_FIX}",
    ),
    (
        # journalctl's other text formats, before `<tag>[<pid>]: ` and the message: -o
        # short-unix (epoch seconds), short-full and with-unit (a weekday, a zone's name),
        # short-monotonic (the monotonic clock)
        "^([0-9]+\\.[0-9]{6}|[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [A-Za-z0-9+-]+"
        "|\\[ *[0-9]+\\.[0-9]{6}\\]) [^ \\n]+ [^ \\n]+: " + JSON_OBJECT_START,
        "journalctl's text output in a format no setting reads (-o short-unix, short-full, "
        'short-monotonic, with-unit): export with -o short-iso (envelope = "syslog") or -o '
        'json (payload = "MESSAGE")',
    ),
    (
        # the AWS CLI's `aws logs filter-log-events` (or get-log-events) `--output text`: an
        # EVENTS row a line, the event's values in its keys' order, tab-separated, the message
        # among them (filter-log-events: eventId, ingestionTime, logStreamName, message, ...)
        "^EVENTS\\t([^\\t\\n]*\\t){1,3}" + JSON_OBJECT_START,
        "the AWS CLI's aws logs output as text (--output text), which no setting reads: run it "
        "with --output json, write each event a line (jq -c '.events[]' FILE) and set payload = "
        '"message"',
    ),
    ("^MESSAGE=", 'journalctl -o export: export with -o json and set payload = "MESSAGE"'),
    (
        # journalctl -o json-sse: server-sent events, each entry after `data: `
        "^data: " + JSON_OBJECT_START,
        'journalctl -o json-sse: export with -o json and set payload = "MESSAGE"',
    ),
    (
        # Fluent Bit's file output, format csv (the time, then each value, a string quoted
        # but not escaped; its delimiter a comma, tab or space) or ltsv (`"time":<time>`, then
        # each `"key":value`, tab-separated)
        '^([0-9]+\\.[0-9]{6,9}[,\\t ]"|"time":[0-9]+\\.[0-9]+\\t")',
        "Fluent Bit's file output in format csv or ltsv, which no setting reads (its values are "
        'unescaped): set the output\'s format to out_file and envelope = "fluentbit", or to plain',
    ),
    (
        # a CSV file holding the record in a quoted field, its quotes doubled (RFC 4180):
        # Splunk's CSV export (`"{""ts"":...}","2025-01-07T20:00:00.500+0000",...`), a
        # spreadsheet's; after Fluent Bit's csv, whose values are not escaped
        '(^|,)"\\{[ \\t]*""',
        "a CSV export holding the record in a quoted field (Splunk's, a spreadsheet's), which no "
        "setting reads: export JSON instead (Splunk: output_mode=json, then set payload = "
        '"result._raw")',
    ),
    (
        # Fluent Bit's stdout output in its default format, msgpack: `[<count>] <tag>: [<time>,
        # ` (`[[<time>, {<metadata>}], ` since 2.1), then the record as msgpack-c prints it
        # (`{"key"=>value}`); before the file output's pattern, which its tag would match
        "^\\[[0-9]+\\] [^ \\n]+: \\[\\[?[0-9]+\\.[0-9]+, ",
        "Fluent Bit's stdout output in format msgpack, which no setting reads (its values are "
        "unescaped): set its format to json_lines",
    ),
    (
        # `logcli query`'s default output: the time, the stream's labels not common to all,
        # padded, and the line (`{}` when all are common)
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ \\n]+ \\{([^"}\\n]+="[^\\n]*)?\\} +' + JSON_OBJECT_START,
        "Loki's logcli default output (time, labels, line): export with --output raw, or with "
        '--output jsonl and set payload = "line"',
    ),
    (
        # `aws logs tail` (`--format detailed`, its default): the event's time as Python's
        # isoformat() writes it in UTC (microseconds unless none), the log stream, the message
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})?\\+00:00 [^ \\n]+ "
        + JSON_OBJECT_START,
        "aws logs tail's default output (time, log stream, message), which no setting reads: "
        'run it with --format short and set envelope = "cloudwatch_export"',
    ),
    (
        # fluentd's stdout output (its stdout format, `%Y-%m-%d %H:%M:%S.%N %z`), `<tag>: `
        "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)? [+-][0-9]{4} "
        "[^ \\n]+: " + JSON_OBJECT_START,
        "fluentd's stdout output (time, tag, record), which no setting reads: write the records "
        'with out_file and set envelope = "fluentd"',
    ),
    *(
        # `kubectl logs --prefix` (`[pod/<pod>/<container>] `) and `docker compose logs` (the
        # container's name padded, `| `), each with --timestamps' time or not: many
        # containers' lines in one file
        (
            f"^{prefix}([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[^ \\n]+ )?{JSON_OBJECT_START}",
            f"{tool}, which no setting reads: write each {unit}'s logs to a file of its own"
            f'{flag} (with --timestamps: envelope = "cloudwatch_export")',
        )
        for prefix, tool, unit, flag in [
            (
                "\\[pod/[^\\] \\n]+/[^\\] \\n]+\\] ",
                "kubectl logs --prefix",
                "container",
                ", without --prefix",
            ),
            (
                "[A-Za-z0-9][A-Za-z0-9_.-]* +\\| ",
                "docker compose logs (service | line)",
                "service",
                " with --no-log-prefix",
            ),
        ]
    ),
    *(
        (
            f"^{PREFIX_PATTERNS[envelope][0]}{JSON_OBJECT_START}",
            f'{tool}: set envelope = "{envelope}"',
        )
        for envelope, tool in [
            ("fluentd", "fluentd's out_file"),
            ("fluentbit", "Fluent Bit's file output"),
            # the same `<RFC 3339 time> <message>`
            (
                "cloudwatch_export",
                "CloudWatch Logs' export, kubectl logs --timestamps or docker logs --timestamps",
            ),
        ]
    ),
    (
        # a collector's logfmt line whose `message` (or `log`) is the service's JSON record,
        # quoted (Vector's logfmt codec): kind = "logfmt" would read the collector's keys
        f'^({LOGFMT_PAIR}[ \\t]+)*(message|log)="\\{{\\\\"([^"\\\\]|\\\\.)*"'
        f"([ \\t]+{LOGFMT_PAIR})*\\s*$",
        "a collector's logfmt line holding the record in message (Vector's logfmt codec), "
        'which no setting reads: have it write JSON (encoding.codec = "json") and set payload = '
        '"message"',
    ),
    (
        # the service's own lines in logfmt, `key=value key="quoted value"`, two pairs or more
        # and nothing else (logrus' and zap's text formats, Go's slog TextHandler, Heroku's)
        f"^{LOGFMT_PAIR}([ \\t]+{LOGFMT_PAIR})+\\s*$",
        'logfmt (key=value key="quoted value"): set kind = "logfmt"',
    ),
]

# A payload's record that is the kubelet's whole line: the collector read the CRI files without
# parsing them (Fluent Bit's tail without its cri parser, or with the docker one).
PAYLOAD_HINTS = [
    (
        CRI_LINE,
        "a CRI line (containerd, CRI-O) the collector did not parse: have it parse the kubelet's "
        "lines (Fluent Bit: multiline.parser cri in its tail input), or read the kubelet's files "
        'with envelope = "cri"',
    )
]

# A syslog record that starts as a JSON object but ends otherwise: the daemon cut a message over
# its maximum size (`not valid JSON (a record cut short ...)`). Quarantined, not stopping the
# run: a record cut off before its whole copy (a retry) is read from the copy, and the gate warns
# of a failure line quarantined without one (`no_failure_line_quarantined`).
SYSLOG_CUT = (
    "^\\s*\\{[^\\n]*[^}\\s]\\s*$",
    " (a record cut short: a syslog daemon cuts a message over its maximum size, rsyslog's "
    "maxMessageSize 8 KiB by default, syslog-ng's log-msg-size() 64 KiB, journald's LineMax= "
    "48K; raise it above the longest record)",
)

# A line that is a JSON array of records (`lost.batched`): the outputs known to batch records
# into one array, and the setting that writes one record a line instead.
BATCHED_HINT = (
    "an HTTP output batching records writes such arrays: set Fluent Bit's http output to "
    "format json_lines, fluentd's out_http to json_array false"
)


# What a reason naming the setting that reads a collector's line says first (`misread.Misread`)
LOOKS_LIKE = " (the line looks like "

# A `ts` that is not RFC 3339 but a time a strptime `ts_format` reads, under the default
# (`ts is not an RFC 3339 timestamp (the line looks like ...)`): fluentd's time formats (its
# default `%Y-%m-%d %H:%M:%S %z`, out_file's `%Y-%m-%dT%H:%M:%S%z`: the offset without a colon),
# and a space before an offset; fractions of up to 6 digits (strptime's %f) or 9 (DuckDB's %n,
# fluentd's %N). The first that matches the whole ts is named.
FLUENTD_TIME = "a time as fluentd writes it, its offset without a colon"
SPACED_OFFSET = "a time with a space before its offset"
TS_FORMAT_HINTS = [
    (
        rf"\d{{4}}-\d{{2}}-\d{{2}}{sep}\d{{2}}:\d{{2}}:\d{{2}}{fraction}{space}"
        + (r"[+-]\d{2}:\d{2}" if colon else r"[+-]\d{4}"),
        f"%Y-%m-%d{sep}%H:%M:%S{directive}{space}%z",
        SPACED_OFFSET if colon else FLUENTD_TIME,
    )
    for sep in (" ", "T")
    for fraction, directive in (("", ""), (r"\.\d{1,6}", ".%f"), (r"\.\d{7,9}", ".%n"))
    for space, colon in ((" ", False), ("", False), (" ", True))  # `+00:00` unspaced is RFC 3339
]

# A `ts` that is epoch time under the default ts_format, RFC 3339 (`ts is not a string`, `ts is
# not an RFC 3339 timestamp`): its unit told by its whole digits, a JSON number (zap's
# production JSON writes `"ts": 1736280000.5001233`, seconds), or for the units read from a
# string of digits, such a string too (fourth). The first that matches the whole ts is named.
EPOCH_HINTS = [
    (r"[0-9]{9,10}(\.[0-9]+)?", "epoch_s", "epoch seconds (zap's JSON ts)", False),
    (r"[0-9]{12,13}(\.[0-9]+)?", "epoch_ms", "epoch milliseconds", False),
    (r"[0-9]{15,16}", "epoch_us", "epoch microseconds", True),
    (r"[0-9]{18,19}", "epoch_ns", "epoch nanoseconds", True),
]


def parameters(fmt: LogFormat) -> dict[str, object]:
    """The hints' parameters of `stg_logs.sql`: given with the default format (JSON lines, no
    envelope, no payload), where a collector's file is read as if it were the service's; for
    JSON records in a payload without an envelope, the line the collector did not parse; and
    for JSON records in a syslog file, a record the daemon cut (`SYSLOG_CUT`)."""
    hint_collectors = fmt.kind == "jsonl" and fmt.envelope == "none" and fmt.payload is None
    hint_payload = fmt.kind == "jsonl" and fmt.envelope == "none" and fmt.payload is not None
    prefix_hints = [
        {"pattern": pattern, "hint": f"{LOOKS_LIKE}{hint} in [sources.log_format])"}
        for pattern, hint in PREFIX_HINTS
    ]
    if hint_payload:
        prefix_hints = [
            {"pattern": pattern, "hint": f" (the record looks like {hint})"}
            for pattern, hint in PAYLOAD_HINTS
        ]
    hint_cut = fmt.kind == "jsonl" and fmt.envelope == "syslog"
    if hint_cut:
        prefix_hints = [{"pattern": SYSLOG_CUT[0], "hint": SYSLOG_CUT[1]}]
    return {
        "hint_collectors": hint_collectors,
        "hint_prefixes": hint_collectors or hint_payload or hint_cut,
        "collector_hints": [
            {
                "keys": list(keys),
                "hint": f"{LOOKS_LIKE}{hint} in [sources.log_format])",
                "text": text[0] if text else None,
            }
            for keys, hint, *text in COLLECTOR_HINTS
        ],
        "prefix_hints": prefix_hints,
        "ts_epoch_hints": [
            {"pattern": pattern, "hint": _ts_format_hint(looks, ts_format), "text": text}
            for pattern, ts_format, looks, text in EPOCH_HINTS
        ],
        "ts_format_hints": [
            {"pattern": pattern, "hint": _ts_format_hint(looks, ts_format)}
            for pattern, ts_format, looks in TS_FORMAT_HINTS
        ],
    }


def _ts_format_hint(looks: str, ts_format: str) -> str:
    """The reason's hint naming the ts_format that reads a ts that looks like `looks`."""
    return f'{LOOKS_LIKE}{looks}: set ts_format = "{ts_format}" in [sources.log_format])'
