"""The pipeline against the reference model, on generated incidents.

The transforms run as in a run, without Prefect, and must give the same `credits.csv` byte for
byte, the same exceptions, the same class, credit and reason per transaction and the same log
funnel as `tests/reference/model.py`. Every failure Hypothesis has shrunk is kept below as an
`@example`.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import itertools
import json
import math
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tests.reference import model
from tests.reference.incidents import incidents, write
from transforms import db
from transforms.errors import ConfigError, InputError
from transforms.ingest import incident, logs, tables
from transforms.reconcile import credits, outputs
from transforms.runfolder import manifest

FUNNEL = ("lines_read", "relevant", "irrelevant", "duplicates", "quarantined")
PRICED = model.Policy(flat_minor={"BHD": 1000, "EUR": 900, "JPY": 1500, "USD": 1000})
# The envelopes' cases ask one thing more of the same pipeline (their framing, which
# tests/transforms/ingest/test_log_envelopes*.py also take apart line by line): a quarter of
# the profile's examples each (15 in `make test`, 625 in `make fuzz`); the model's own case
# keeps them all.
ENVELOPE_EXAMPLES = max(15, settings().max_examples // 4)


def shrunk(lines: bytes, start="2025-01-07T00:00:00", end="2025-01-07T00:01:00", **settings):
    """A failure Hypothesis found and shrank: one log file, the window in UTC unless given."""
    files = (("logs/a.jsonl", lines),)
    return model.Incident(start, end, policy=PRICED, log_files=files, **settings)


BGN_LINE = (
    b'{"ts": "2026-02-01T00:00:30Z", "event": "payment.failed", "txn_id": "t1", '
    b'"customer_id": "c1", "amount_minor": 1000, "currency": "BGN", '
    b'"error_code": "DB_POOL_TIMEOUT"}\n'
)
REGRESSIONS = [
    # the pipeline quarantined RFC 3339 with a lowercase t (fixed on main)
    shrunk(b'{"ts": "2025-01-06t23:59:59.999999Z", "event": "payment.failed", "txn_id": "t1"}\n'),
    # a leap second is its minute's last microsecond, inside a window ending on the next
    # (both quarantined it as no RFC 3339 time)
    shrunk(
        b'{"ts": "2025-01-06T23:59:60.5Z", "event": "payment.failed", "txn_id": "t1"}\n',
        start="2025-01-06T23:59:59",
        end="2025-01-07T00:00:00",
    ),
    # a file holding only a byte-order mark is one blank line (the model counted none)
    shrunk(b"\xef\xbb\xbf"),
    # a failure line without error_code: no codes, shown as null (the model said "")
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
        b'"customer_id": "c1", "amount_minor": 1, "currency": null}\n'
    ),
    # an error_code "" is a code in neither list, shown as "" (the model said null)
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
        b'"error_code": ""}\n'
    ),
    # a line without customer_id (the model read a missing key)
    shrunk(
        b'{"ts": "2025-01-07T00:00:00.000001Z", "event": "payment.failed", "txn_id": "t1", '
        b'"currency": null, "error_code": null}\n'
    ),
    # exceptions with and without a customer (the model could not sort them)
    model.Incident(
        "2025-01-07T00:00:00",
        "2025-01-07T00:01:00",
        policy=PRICED,
        log_files=(
            (
                "logs/sub/c.jsonl",
                b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
                b'"error_code": "DB_POOL_TIMEOUT"}\n'
                b'{"ts": "2025-01-07T00:00:30Z", "event": "payment.failed", "txn_id": "T1", '
                b'"error_code": "RISK_REVIEW"}\n',
            ),
        ),
        transactions=(
            {
                "txn_id": " T1 \r\n",
                "customer_id": "C1",
                "amount_minor": 15,
                "currency": "EUR",
                "status": "failed",
                "error_code": "RISK_REVIEW",
                "created_at": datetime(2025, 1, 7, 0, 0, 10, tzinfo=UTC),
            },
        ),
    ),
    # a naive time in New York's DST fold is its first occurrence (the pipeline took the second)
    shrunk(
        b'{"ts": "2025-11-02T01:00:00", "event": "payment.failed", "txn_id": "t1"}\n',
        start="2025-11-02T05:00:00",
        end="2025-11-02T05:01:00",
        logs_timezone="America/New_York",
    ),
    # NaN where the contract ignores the value is tolerated (the model quarantined the line)
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", "x": NaN}\n' * 3
    ),
    # a JSON array of failure events beside quiet lines stops the run (it was one quarantined
    # line, under the quarantine limit: its failures lost); one without stays quarantined
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "db.pool.stats"}\n'
        b'[{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1"}, 7]\n'
    ),
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1"}\n'
        b'[{"ts": "2025-01-07T00:00:00Z", "event": "charge.error", "txn_id": "t2"}, [1, 2]]\n'
    ),
    # hour 24 and an offset past 23:59 are not RFC 3339 (the pipeline read them)
    shrunk(
        b'{"ts": "2025-01-06T24:00:00Z", "event": "payment.failed", "txn_id": "t1"}\n'
        b'{"ts": "2025-01-07T00:00:00+24:00", "event": "payment.failed", "txn_id": "t2"}\n'
    ),
    # an amount above 10^16 is out of range, 10^16 itself is not (the model kept up to 2^63 - 1)
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
        b'"customer_id": "c1", "amount_minor": 10000000000000001, "currency": "USD", '
        b'"error_code": "DB_POOL_TIMEOUT"}\n'
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t2", '
        b'"customer_id": "c1", "amount_minor": 10000000000000000, "currency": "USD", '
        b'"error_code": "DB_POOL_TIMEOUT"}\n'
    ),
    # a customer_id of ASCII white space only (VT, FF) names no customer: unattributable (the
    # pipeline read RE2's \S, which leaves VT out: a log_only payment owed to customer "\v")
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
        b'"customer_id": " \\u000b\\f", "amount_minor": 5, "currency": "USD", '
        b'"error_code": "DB_POOL_TIMEOUT"}\n'
    ),
    # a log's customer_id with white space at its ends is read as written: an unknown customer
    # whose detail says so (the model left that out)
    shrunk(
        b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
        b'"customer_id": "c1 ", "amount_minor": 5, "currency": "USD", '
        b'"error_code": "DB_POOL_TIMEOUT"}\n'
    ),
    # an unknown customer the customer table holds in two forms: the detail names the first
    # such id's difference (the pipeline skipped one without a hidden character, and named the
    # U+00A0 of the second)
    dataclasses.replace(
        shrunk(
            b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
            b'"customer_id": "c1", "amount_minor": 5, "currency": "USD", '
            b'"error_code": "DB_POOL_TIMEOUT"}\n'
        ),
        customers=tuple(
            {
                "customer_id": customer_id,
                "name": "Name",
                "email": "n@example.com",
                "country": "US",
                "segment": "consumer",
                "status": "active",
            }
            for customer_id in (" c1", "c1\u00a0")
        ),
    ),
    # the lev is money on a window touching 2026-01-31, its last day, and none after it
    *(
        model.Incident(
            start,
            end,
            policy=model.Policy(basis="percent_of_failed_amount", percent=Decimal(10)),
            log_files=(("logs/a.jsonl", BGN_LINE),),
        )
        for start, end in (
            ("2026-01-31T23:59:00", "2026-02-01T00:01:00"),
            ("2026-02-01T00:00:00", "2026-02-01T00:01:00"),
        )
    ),
]


def pipeline(case: model.Incident, folder: Path, log_format: str = "") -> model.Outcome:
    """The pipeline's transforms on the incident, in this process, as the model's outcome;
    `log_format` is TOML added to the incident file (`[sources.log_format]`)."""
    path = write(case, folder / "incident")
    if log_format:
        path.write_text(path.read_text(encoding="utf-8") + log_format, encoding="utf-8")
    try:
        loaded = incident.load(path)
    except ConfigError:
        return model.Outcome(config_error=True)
    with db.connect() as con:
        try:
            read = logs.stage(con, loaded, folder / "work")
        except InputError:  # a log file refused whole (named .gz, neither gzip nor text)
            return model.Outcome(config_error=True)
        tables.stage(con, loaded)
        try:
            credits.reconcile(con, loaded)
        except ConfigError:
            return model.Outcome(config_error=True)
        written = {}
        for name, columns, order in (
            ("credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER),
            ("exceptions", outputs.EXCEPTION_COLUMNS, outputs.EXCEPTION_ORDER),
        ):
            written[name] = folder / f"{name}.csv"
            outputs.write_csv(con, name, columns, order, written[name])
        funnel = manifest.account(con, read).funnel
        evidence = con.table("evidence").select(
            "txn_id, class, credited, reason, customer_id, amount_minor, currency, "
            "error_codes, failure_lines, edge"
        )
        quarantined = con.sql(
            "select f.name, q.line from stg_log_quarantine as q join log_files as f using (file_id)"
        )
        with open(written["exceptions"], encoding="utf-8", newline="") as handle:
            exceptions = list(csv.reader(handle))[1:]
        return model.Outcome(
            credits_csv=written["credits"].read_text(encoding="utf-8"),
            exceptions=tuple(sorted(tuple(row) for row in exceptions)),
            evidence={row[0]: model.Evidence(*row[1:]) for row in evidence.fetchall()},
            funnel={k: funnel.counts[k] for k in FUNNEL},
            quarantined=frozenset(quarantined.fetchall()),
        )


def as_written(outcome: model.Outcome) -> model.Outcome:
    """The model's exceptions as the CSV file holds them: text, a null as an empty field."""
    rows = (tuple("" if v is None else str(v) for v in row) for row in outcome.exceptions)
    return model.Outcome(
        credits_csv=outcome.credits_csv,
        exceptions=tuple(sorted(rows)),  # the file's order is checked by its own tests
        evidence=outcome.evidence,
        funnel=outcome.funnel,
        quarantined=outcome.quarantined,
        config_error=outcome.config_error,
    )


def assert_agrees(found: model.Outcome, expected: model.Outcome) -> None:
    """The pipeline's outcome is the model's, part by part (the first that differs named)."""
    assert found.config_error == expected.config_error
    assert found.funnel == expected.funnel
    assert found.quarantined == expected.quarantined
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv


def _with_regressions(test):
    for case in reversed(REGRESSIONS):
        test = example(case)(test)
    return test


@given(incidents())
@_with_regressions
def test_the_pipeline_agrees_with_the_reference_model(case):
    expected = as_written(model.run(case))
    with tempfile.TemporaryDirectory() as folder:
        found = pipeline(case, Path(folder))
    assert_agrees(found, expected)


def through(
    case: model.Incident, wrap, envelope: str, settings: str = ""
) -> tuple[model.Outcome, model.Outcome]:
    """The pipeline's outcome on the case's log files each wrapped by `wrap(name, data)` and
    read with `envelope = "<envelope>"` (and the other `[sources.log_format]` lines given), and
    the model's on the plain lines (a file refused whole judged on the bytes as wrapped)."""
    wrapped = dataclasses.replace(
        case, log_files=tuple((name, wrap(name, data)) for name, data in case.log_files)
    )
    expected = as_written(model.run(case, stored=wrapped.log_files))
    log_format = f'[sources.log_format]\nenvelope = "{envelope}"\n{settings}'
    with tempfile.TemporaryDirectory() as folder:
        return pipeline(wrapped, Path(folder), log_format), expected


CRI_TIME = b"2025-01-07T00:00:00.123456789Z"


def _lines(data: bytes) -> list[bytes]:
    """A plain file's lines without their line feeds; a byte-order mark, which belongs to the
    file and not to a record, left out."""
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def cri_wrapped(data: bytes, split: int) -> bytes:
    """A log file's lines as a container runtime writes them (`<time> stdout F <line>`), each
    cut into partial lines of `split` characters when > 0 (a line that is not UTF-8 whole: a
    cut inside a character is not supported). A byte-order mark belongs to the file, not to a
    record: it is left out."""
    if data.startswith(b"\x1f\x8b"):  # gzip, by its magic bytes as the framing sees it
        return gzip.compress(cri_wrapped(gzip.decompress(data), split), mtime=0)
    out = []
    for line in _lines(data):
        parts = [line]
        if split:
            try:
                text = line.decode("utf-8")
                parts = [text[i : i + split].encode() for i in range(0, len(text), split)] or [b""]
            except UnicodeDecodeError:
                pass
        for i, part in enumerate(parts):
            tag = b"F" if i == len(parts) - 1 else b"P"
            out.append(CRI_TIME + b" stdout " + tag + b" " + part + b"\n")
    return b"".join(out)


@given(incidents(), st.sampled_from([0, 1, 7, 40]))
@settings(max_examples=ENVELOPE_EXAMPLES)
def test_the_pipeline_reads_the_same_records_through_a_cri_envelope(case, split):
    # The model reads the plain lines; the pipeline the same lines wrapped (and cut into
    # partial lines): the same funnel, evidence, exceptions and credits. Records are keyed by
    # their first line, so with cuts only the number of quarantined records can be compared.
    found, expected = through(case, lambda _, data: cri_wrapped(data, split), "cri")
    assert found.config_error == expected.config_error
    if expected.config_error:
        return
    if split:
        # From a file's first partial line on every line is checked in full, so a line the
        # shape check leaves `irrelevant` may be a `duplicate` or quarantined there, as under
        # line_checks = "all"; the records and the relevant ones stay the same.
        assert found.funnel["lines_read"] == expected.funnel["lines_read"]
        assert found.funnel["relevant"] == expected.funnel["relevant"]
    else:
        assert found.funnel == expected.funnel
        assert found.quarantined == expected.quarantined
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv


PREFIXES = {  # the envelope's text before and after each line
    "fluentd": (b"2025-01-07T00:00:00+0000\tpayments.api\t", b""),
    "fluentbit": (b"payments.api: [1736208000.123456789, ", b"]"),
    "cloudwatch_export": (b"2025-01-07T00:00:00.000Z ", b""),
    "syslog": (b"Jan  7 00:00:00 node-1 payments[42]: ", b""),
}
# A syslog file's lines after each header `envelope = "syslog"` reads in turn: RFC 3164's,
# rsyslog's high-precision one after a PRI, RFC 5424's with structured data, `heroku logs`'
SYSLOG_HEADERS = (
    PREFIXES["syslog"][0],
    b"<134>2025-01-07T00:00:00.123456+00:00 node-1 payments: ",
    b'<134>1 2025-01-07T00:00:00.123Z node-1 payments 42 - [meta pod="pay-1"] ',
    b"2025-01-07T00:00:00.123456+00:00 app[web.1]: ",
)


def prefixed(data: bytes, envelope: str) -> bytes:
    """A log file's lines as fluentd's out_file (`<time>\\t<tag>\\t<line>`), Fluent Bit's file
    output (`<tag>: [<time>, <line>]`), CloudWatch Logs' export (`<timestamp> <line>`) or a
    syslog daemon (`SYSLOG_HEADERS`) writes them; a byte-order mark belongs to the file, and so
    does a CR before the line feed."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.compress(prefixed(gzip.decompress(data), envelope), mtime=0)
    before, after = PREFIXES[envelope]
    out = []
    for number, line in enumerate(_lines(data)):
        record = line.removesuffix(b"\r")
        if envelope == "syslog":
            before = SYSLOG_HEADERS[number % len(SYSLOG_HEADERS)]
        out.append(before + record + after + line[len(record) :] + b"\n")
    return b"".join(out)


@given(incidents(), st.sampled_from(sorted(PREFIXES)))
@settings(max_examples=ENVELOPE_EXAMPLES)
def test_the_pipeline_reads_the_same_records_after_a_prefix(case, envelope):
    # The model reads the plain lines; the pipeline the same lines after fluentd's, Fluent
    # Bit's, the CloudWatch export's or a syslog prefix (and Fluent Bit's suffix): the same funnel,
    # quarantine, evidence and credits.
    found, expected = through(case, lambda _, data: prefixed(data, envelope), envelope)
    assert found.config_error == expected.config_error
    assert found.funnel == expected.funnel
    assert found.quarantined == expected.quarantined
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def docker_wrapped(data: bytes, split: int) -> bytes:
    """A log file's lines as Docker's json-file driver writes them (`{"log": "<line>\\n",
    "stream": "stdout", "time": ...}`), each cut into entries of `split` characters when > 0,
    only the last ending in a line feed. A line that is not UTF-8 is not cut, and its bytes are
    written as they are (the entry is then not UTF-8, as the line was); a byte-order mark
    belongs to the file."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.compress(docker_wrapped(gzip.decompress(data), split), mtime=0)
    out = []
    for line in _lines(data):
        text = line.decode("utf-8", "surrogateescape")
        parts = [text]
        if split and _utf8(line):  # a line that is not UTF-8 is not cut
            parts = [text[i : i + split] for i in range(0, len(text), split)] or [text]
        for i, part in enumerate(parts):
            log = part + ("\n" if i == len(parts) - 1 else "")
            entry = {"log": log, "stream": "stdout", "time": CRI_TIME.decode()}
            out.append(json.dumps(entry, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    return b"".join(entry + b"\n" for entry in out)


@given(incidents(), st.sampled_from([0, 7]))
@settings(max_examples=ENVELOPE_EXAMPLES)
def test_the_pipeline_reads_the_same_records_through_docker_entries(case, split):
    # The model reads the plain lines; the pipeline the same lines as Docker json-file entries
    # (cut into partial entries): the same evidence, exceptions and credits, and the same
    # records and relevant ones. The shape check of an entry is the entry's (one object), not
    # its record's, so a line that is not an object and holds no failure event is `irrelevant`
    # here where the model quarantines it: the rest of the funnel is not compared.
    found, expected = through(case, lambda _, data: docker_wrapped(data, split), "docker")
    assert found.config_error == expected.config_error
    if expected.config_error:
        return
    assert found.funnel["lines_read"] == expected.funnel["lines_read"]
    assert found.funnel["relevant"] == expected.funnel["relevant"]
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv


def cloudwatch_wrapped(data: bytes, per_object: int, cut: float) -> bytes:
    """A log file's lines as CloudWatch Logs subscription objects as Firehose writes them: each
    line the message of a log event (its CR LF or LF dropped), `per_object` events an object,
    the objects concatenated with no separator in two gzip members cut at `cut` of the stream.
    A line that is not UTF-8 keeps its bytes and is an object of its own (that object is
    quarantined whole, as the model quarantines the line; sharing one, it would take its
    neighbours' failures with it); a byte-order mark belongs to the file: a file holding only
    one is one blank message, as it is one blank line."""
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if lines[-1] == b"" and (len(lines) > 1 or not data):
        lines.pop()
    messages = [line.removesuffix(b"\r").decode("utf-8", "surrogateescape") for line in lines]
    chunks: list[list[tuple[int, str]]] = []
    alone = False  # the last object holds a line that is not UTF-8: no other line joins it
    for number, message in enumerate(messages):
        not_utf8 = any("\udc80" <= c <= "\udcff" for c in message)  # surrogateescape's
        if not_utf8 or alone or not chunks or len(chunks[-1]) == per_object:
            chunks.append([])
        chunks[-1].append((number, message))
        alone = not_utf8
    objects = []
    for chunk in chunks:
        events = [{"id": str(n), "timestamp": 0, "message": m} for n, m in chunk]
        body = {
            "messageType": "DATA_MESSAGE",
            "logGroup": "g",
            "logStream": "s",
            "logEvents": events,
        }
        objects.append(json.dumps(body, ensure_ascii=False))
    stream = "".join(objects).encode("utf-8", "surrogateescape")
    at = int(len(stream) * cut)
    return gzip.compress(stream[:at], mtime=0) + gzip.compress(stream[at:], mtime=0)


@given(incidents(), st.sampled_from([1, 3]), st.sampled_from([0.0, 0.37, 0.5]))
@settings(max_examples=ENVELOPE_EXAMPLES)
def test_the_pipeline_reads_the_same_records_through_cloudwatch_objects(case, per_object, cut):
    # The model reads the plain lines; the pipeline the same lines as messages of CloudWatch
    # objects in gzip members. One event an object: the same funnel and quarantined lines (an
    # event's number in its file is its line's). Several: an object is screened whole, and one
    # with a byte that is not UTF-8 is one item, so only the credits and what leads to them.
    found, expected = through(
        case, lambda _, data: cloudwatch_wrapped(data, per_object, cut), "cloudwatch"
    )
    assert found.config_error == expected.config_error
    if per_object == 1:
        assert found.funnel == expected.funnel
        assert found.quarantined == expected.quarantined
    else:
        # (a file both refuse has no funnel)
        assert found.funnel.get("relevant") == expected.funnel.get("relevant")
    assert found.evidence == expected.evidence
    assert found.exceptions == expected.exceptions
    assert found.credits_csv == expected.credits_csv


OTLP_TIME = 946684800000000000  # 2000-01-01: a record's own time, never read (ts is a field)
ORIGINAL = "log.record.original"  # OpenTelemetry's attribute for the text a record came from


class _Pairs(list):
    """A JSON object's members in order, repeated keys kept (`object_pairs_hook`)."""


def otlp_value(value, ints) -> dict:
    """A decoded JSON value as an OTLP `AnyValue`; an integer written as a string or as a
    number as `next(ints)` says (the JSON mapping allows both)."""
    if value is None:
        return {}  # an empty AnyValue: null to the reader
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):  # beyond 64 bits too: the reader reads integers exactly
        return {"intValue": str(value) if next(ints) else value}
    if isinstance(value, float):  # NaN and the infinities as the mapping spells them
        return {"doubleValue": value if math.isfinite(value) else json.dumps(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, _Pairs):
        return {"kvlistValue": {"values": otlp_attributes(value, ints)}}
    return {"arrayValue": {"values": [otlp_value(item, ints) for item in value]}}


def otlp_attributes(pairs, ints) -> list[dict]:
    return [{"key": key, "value": otlp_value(value, ints)} for key, value in pairs]


def otlp_wrapped(data: bytes, per_line: int, into: str, gzipped: bool = False) -> bytes:
    """A log file's lines (the model's, `model.file_lines`) as an OpenTelemetry collector's file
    exporter writes them: each line that is a JSON object one log record, `per_line` records an
    `ExportLogsServiceRequest` line, spread over two resources and two scopes. The object's
    members are the record's attributes (`into` "attributes") with the line as its string body,
    as the filelog receiver's json_parser leaves them, or its key/value list body (`into`
    "body") with the line as the attribute log.record.original, or the line alone as its string
    body (`into` "string"), as the filelog receiver reads it without a json_parser. Either way
    the record's text holds the line, so records are duplicates and failure-capable as their
    lines are.

    A line that is not a JSON object (blank, garbage, not UTF-8, an array) is written as a JSON
    string on a line of its own: a value that is not a request, quarantined as one item. Written
    raw, text that does not parse would run on to the next line starting with `{` as one
    item. Gzip when the file is, or when `gzipped`."""
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
        gzipped = True
    if gzipped:
        return gzip.compress(otlp_wrapped(data, per_line, into), mtime=0)
    ints = itertools.cycle((True, False))
    out, records = [], []

    def flush():
        if not records:
            return
        groups = [records[i : i + 2] for i in range(0, len(records), 2)]  # two records a scope
        resources = [groups[i : i + 2] for i in range(0, len(groups), 2)]  # two scopes a resource
        request = {
            "resourceLogs": [
                {
                    "resource": {"attributes": [{"key": "pod", "value": {"stringValue": str(r)}}]},
                    "scopeLogs": [
                        {"scope": {"name": f"s{s}"}, "logRecords": group}
                        for s, group in enumerate(scopes)
                    ],
                }
                for r, scopes in enumerate(resources)
            ]
        }
        out.append(json.dumps(request, ensure_ascii=False).encode())
        records.clear()

    for _, number, line in model.file_lines("", data):
        try:
            members = json.loads(line.decode("utf-8"), object_pairs_hook=_Pairs)
        except ValueError:  # not UTF-8 (UnicodeDecodeError) or not JSON
            members = None
        text = line.decode("utf-8", "surrogateescape")
        if not isinstance(members, _Pairs):
            flush()
            out.append(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogateescape"))
            continue
        original = {"stringValue": text}
        record = {"timeUnixNano": OTLP_TIME, "observedTimeUnixNano": str(OTLP_TIME + number)}
        if into == "attributes":
            record |= {"attributes": otlp_attributes(members, ints), "body": original}
        elif into == "string":
            record |= {"body": original}
        else:
            record |= {
                "attributes": [{"key": ORIGINAL, "value": original}],
                "body": otlp_value(members, ints),
            }
        records.append(record)
        if len(records) == per_line:
            flush()
    flush()
    return b"".join(line + b"\n" for line in out)


OTLP_EDGES = shrunk(
    # What the generator does not make or rarely puts together: a BOM, a contract key given
    # twice (quarantined, the record too), the same fields written twice (two lines, not a
    # duplicate), integers beyond 64 bits, NaN, a number as text, lines that are not objects
    # between records, a copy.
    model.BOM + b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "t1", '
    b'"amount_minor": 10, "amount_minor": 15, "currency": "USD", "customer_id": "c1", '
    b'"error_code": "DB_POOL_TIMEOUT"}\r\n'
    b'{"ts":"2025-01-07T00:00:00Z","event":"payment.failed","txn_id":"t1","amount_minor":15,'
    b'"currency":"USD","customer_id":"c1","error_code":"DB_POOL_TIMEOUT"}\n'
    b'{"event": "payment.failed", "ts": "2025-01-07T00:00:01Z", "txn_id": "t2", '
    b'"amount_minor": 100000000000000000000000000000}\n'
    b"garbage\n\n[1, 2]\n"
    b'{"txn_id": "t3", "ts": "2025-01-07T00:00:02Z", "event": "payment.failed", '
    b'"amount_minor": 9223372036854775808, "x": NaN}\n'
    b'{"ts": "2025-01-07T00:00:03Z", "event": "payment.failed", "txn_id": "t4", '
    b'"error_code": "DB_POOL_TIMEOUT", "amount_minor": "100", "msg": {"n": [1, 2.5, null]}}\n'
    b'{"ts":"2025-01-07T00:00:00Z","event":"payment.failed","txn_id":"t1","amount_minor":15,'
    b'"currency":"USD","customer_id":"c1","error_code":"DB_POOL_TIMEOUT"}\n',
    customers=(
        {
            "customer_id": "c1",
            "name": "C",
            "email": "c@example.com",
            "country": "US",
            "segment": "consumer",
            "status": "active",
        },
    ),
)


@given(incidents(), st.sampled_from([1, 5]), st.sampled_from(["attributes", "body", "string"]))
@settings(max_examples=ENVELOPE_EXAMPLES)
@example(OTLP_EDGES, 1, "attributes")
@example(OTLP_EDGES, 5, "body")
@example(OTLP_EDGES, 5, "string")
# a plain file named .gz with a line not UTF-8: wrapped plain, it stopped the run (see below)
@example(
    model.Incident(
        "2025-01-07T00:00:00",
        "2025-01-07T00:01:00",
        policy=PRICED,
        log_files=(
            (
                "logs/b.log.gz",
                b'{"ts": "2025-01-07T00:00:00Z", "event": "payment.failed", "txn_id": "\xff"}\n',
            ),
        ),
    ),
    1,
    "attributes",
)
def test_the_pipeline_reads_the_same_records_through_otlp_requests(case, per_line, into):
    # The model reads the plain lines; the pipeline the same lines as OTLP log records, ts read
    # from the record's field (not its timeUnixNano), so the model's time rules apply. A record
    # is one item numbered in its file like its line, and its text holds the line: the same
    # funnel and quarantined lines, however many records a request holds. A file named .gz is
    # written gzip (one that is neither gzip nor text would stop the run), and a line that is
    # not UTF-8 is carried as it is. A line that is a JSON array has no OTLP form (a record is
    # one object; `otlp_wrapped` writes it as a value that is no request): one holding a failure
    # event, which stops the run, is left to the other envelopes' cases.
    assume(model.batched(case.log_files, case.policy) is None)
    found, expected = through(
        case,
        lambda name, data: otlp_wrapped(data, per_line, into, gzipped=name.endswith(".gz")),
        "otlp",
        f'ts = "{"body" if into == "string" else into}.ts"\n',
    )
    assert_agrees(found, expected)
