"""The sample's logs rewritten in other log formats (`[sources.log_format]`): jsonl with nested
fields, logfmt and plain text by a regex. Only tests use it: every format must give the same
credits as the sample's own JSON lines."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from transforms.files import atomic_path, write_text
from transforms.sample import INCIDENT_TOML

_TEXT_PATTERN = (
    r"^(?P<ts>\S+ \S+ \S+) (?P<level>[A-Z]+) (?P<event>\S+)( txn=\[(?P<txn_id>[^\]]*)\])?"
    r"( customer=(?P<customer_id>\S+))?( amount=(?P<amount_minor>\S+))?"
    r"( currency=(?P<currency>\S+))?( code=(?P<error_code>\S+))?( .*)?$"
)
LOG_FORMATS: dict[str, str] = {
    # JSON lines with nested fields and the time in epoch milliseconds (microsecond fractions).
    "jsonl_nested": """\
[sources.log_format]
kind = "jsonl"
ts = "@timestamp"
ts_format = "epoch_ms"
event = "type"
txn_id = "payment.id"
customer_id = "payment.customer.id"
amount_minor = "payment.amount_minor"
currency = "payment.currency"
error_code = "error.code"
""",
    # logfmt with the sample's own RFC 3339 times.
    "logfmt": """\
[sources.log_format]
kind = "logfmt"
""",
    # Plain text lines; the time as written by strftime with an offset.
    "regex": f"""\
[sources.log_format]
kind = "regex"
pattern = '{_TEXT_PATTERN}'
ts_format = "%Y-%m-%d %H:%M:%S.%f %z"
""",
}


def write_log_format(sample_dir: Path, out_dir: Path, kind: str) -> Path:
    """Rewrite the sample under ``sample_dir`` with its logs in another format (a key of
    ``LOG_FORMATS``) under ``out_dir``; returns the new incident file.

    Every well-formed line says the same in the new format; a malformed line stays as it was
    (so it is malformed there too), and byte-identical lines stay byte-identical.
    """
    render = {"jsonl_nested": _nested_line, "logfmt": _logfmt_line, "regex": _text_line}[kind]
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    for source in sorted((sample_dir / "logs").glob("*.jsonl.gz")):
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            text = "".join(_convert(line.rstrip("\n"), render) + "\n" for line in lines)
        target = out_dir / "logs" / source.name.replace(".jsonl.gz", f".{kind}.log")
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    for table in ("transactions.parquet", "customers.parquet"):
        with atomic_path(out_dir / table) as tmp:
            tmp.write_bytes((sample_dir / table).read_bytes())
    incident = INCIDENT_TOML.replace('logs = ["logs/*.jsonl.gz"]', f'logs = ["logs/*.{kind}.log"]')
    incident = incident.replace("\n[policy]", "\n" + LOG_FORMATS[kind] + "\n[policy]")
    write_text(out_dir / "INC-2025-01-07.toml", incident)
    return out_dir / "INC-2025-01-07.toml"


def _convert(line: str, render) -> str:
    try:
        fields = json.loads(line)
    except ValueError:
        return line
    return render(fields) if isinstance(fields, dict) else line


def _nested_line(f: dict) -> str:
    at = datetime.fromisoformat(f.pop("ts").replace("Z", "+00:00"))
    micros = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    out: dict = {"type": f.pop("event")}
    payment = {k: f.pop(k) for k in ("txn_id", "amount_minor", "currency") if k in f}
    if "txn_id" in payment:
        payment["id"] = payment.pop("txn_id")
    if "customer_id" in f:
        payment["customer"] = {"id": f.pop("customer_id")}
    if payment:
        out["payment"] = payment
    if "error_code" in f:
        out["error"] = {"code": f.pop("error_code")}
    body = json.dumps({**out, **f}, separators=(",", ":"), ensure_ascii=False)
    return f'{{"@timestamp":{micros // 1000}.{micros % 1000:03d},{body[1:]}'


def _logfmt_line(f: dict) -> str:
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in f.items())


def _logfmt_value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if text and not any(c in text for c in ' "=\\') and text == text.strip():
        return text
    return json.dumps(text, ensure_ascii=False)


def _text_line(f: dict) -> str:
    at = datetime.fromisoformat(f["ts"].replace("Z", "+00:00"))
    parts = [at.strftime("%Y-%m-%d %H:%M:%S.%f %z"), f.get("level", "INFO"), f["event"]]
    if "txn_id" in f:
        parts.append(f"txn=[{f['txn_id']}]")
    if "customer_id" in f:
        parts.append(f"customer={f['customer_id']}")
    if "amount_minor" in f:
        parts.append(f"amount={f['amount_minor']}")
    if "currency" in f:
        parts.append(f"currency={f['currency']}")
    if "error_code" in f:
        parts.append(f"code={f['error_code']}")
    rest = {k: v for k, v in f.items() if k not in _TEXT_FIELDS}
    return " ".join(parts + [_logfmt_line(rest)] if rest else parts)


_TEXT_FIELDS = {
    "ts",
    "level",
    "event",
    "txn_id",
    "customer_id",
    "amount_minor",
    "currency",
    "error_code",
}


# Envelopes: the sample's lines wrapped as collectors store them -------------------------------
ENVELOPES: dict[str, str] = {
    # Kubelet files (containerd, CRI-O); `split` also cuts every record into partial lines.
    "cri": '[sources.log_format]\nenvelope = "cri"\n',
    # Docker's json-file driver.
    "docker": '[sources.log_format]\nenvelope = "docker"\n',
    # Fluent Bit to S3 without a parser: the record is the text of `log`.
    "fluentbit": '[sources.log_format]\npayload = "log"\n',
    # The OpenTelemetry collector's file exporter: 10 records a line, fields as attributes.
    "otlp": '[sources.log_format]\nenvelope = "otlp"\n',
    # CloudWatch Logs to Firehose: concatenated objects in gzip members.
    "cloudwatch": '[sources.log_format]\nenvelope = "cloudwatch"\n',
    # Syslog files: RFC 3164 (rsyslog's traditional file format), rsyslog's high-precision
    # format, RFC 5424 (with structured data), Heroku's logplex drain frames (an octet count,
    # no structured data: a JSON record's) and `heroku logs`' lines, by each line's bytes.
    "syslog": '[sources.log_format]\nenvelope = "syslog"\n',
}
SYSLOG_HEADERS = (
    "Jan  7 20:00:00 node-1 payments[42]: ",
    "<134>2025-01-07T20:00:00.123456+00:00 node-1 payments: ",
    '<134>1 2025-01-07T20:00:00.123Z node-1 payments 42 - [meta pod="pay-1"] ',
    "<190>1 2025-01-07T20:00:00.123456+00:00 host app web.1 - ",
    "2025-01-07T20:00:00.123456+00:00 app[web.1]: ",
)
MANY = {"otlp": lambda lines: otlp_lines(lines), "cloudwatch": lambda lines: cloudwatch_file(lines)}
CRI_TIME = "2025-01-07T20:00:00.123456789Z"


def _gzip(data: bytes) -> bytes:
    """A gzip member of ``data`` with no name and mtime 0, at the fastest level: the readers
    take any level alike, and level 9 on the sample's wrapped lines (tens of megabytes) costs
    seconds a format."""
    return gzip.compress(data, compresslevel=1, mtime=0)


def write_envelope(sample_dir: Path, out_dir: Path, envelope: str, split: int = 0) -> Path:
    """Rewrite the sample under ``sample_dir`` with each log line wrapped in an envelope (a key
    of ``ENVELOPES``) under ``out_dir``, the files keeping their names; returns the new
    incident file.

    With ``split`` > 0 (cri and docker), each record is cut into parts of ``split`` bytes, as a
    runtime cuts a long message, and a line of the other stream (stderr, not a log record:
    plain text) is written between each two parts. A line that is not UTF-8 stays as it was
    (a collector could not have wrapped it either: the framing quarantines it alike).
    """
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    for source in sorted((sample_dir / "logs").glob("*.jsonl.gz")):
        with gzip.open(source, "rb") as handle:
            lines = handle.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if envelope in MANY:
            data = MANY[envelope](lines)
        else:
            data = _gzip(b"".join(wrap(line, envelope, split) for line in lines))
        with atomic_path(out_dir / "logs" / source.name) as tmp:
            tmp.write_bytes(data)
    for table in ("transactions.parquet", "customers.parquet"):
        with atomic_path(out_dir / table) as tmp:
            tmp.write_bytes((sample_dir / table).read_bytes())
    incident = INCIDENT_TOML.replace("\n[policy]", "\n" + ENVELOPES[envelope] + "\n[policy]")
    write_text(out_dir / "INC-2025-01-07.toml", incident)
    return out_dir / "INC-2025-01-07.toml"


def wrap(line: bytes, envelope: str, split: int = 0) -> bytes:
    """One log line (without its LF) as the envelope's lines (each with its LF)."""
    line = line.removesuffix(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return line + b"\n"
    if envelope == "syslog":
        header = SYSLOG_HEADERS[zlib.crc32(line) % len(SYSLOG_HEADERS)]
        if header.startswith("<190>"):  # logplex's: its frame's length first, a JSON record
            if not text.startswith("{"):
                return (SYSLOG_HEADERS[0] + text + "\n").encode()
            framed = (header + text + "\n").encode()
            return f"{len(framed)} ".encode() + framed
        return (header + text + "\n").encode()
    if envelope == "fluentbit":
        holder = {"date": 1736280000.5, "log": text + "\n", "kubernetes": {"pod_name": "pay"}}
        return (json.dumps(holder, ensure_ascii=False) + "\n").encode()
    parts = [text[i : i + split] for i in range(0, len(text), split)] if split else [text]
    parts = parts or [""]
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if envelope == "cri":
            out.append(f"{CRI_TIME} stdout {'F' if last else 'P'} {part}\n")
            if not last:
                out.append(f"{CRI_TIME} stderr F noise between parts\n")
        else:
            entry = {"log": part + ("\n" if last else ""), "stream": "stdout", "time": CRI_TIME}
            out.append(json.dumps(entry, ensure_ascii=False) + "\n")
            if not last:
                noise = {"log": "noise between parts\n", "stream": "stderr", "time": CRI_TIME}
                out.append(json.dumps(noise) + "\n")
    return "".join(out).encode()


# Envelopes of many records: OTLP JSON lines and CloudWatch objects -----------------------------
OTLP_RECORDS_PER_LINE = 10


def otlp_lines(lines: list[bytes]) -> bytes:
    """The lines as OTLP JSON, gzip: `OTLP_RECORDS_PER_LINE` log records a line over two
    resources and three scopes, the fields as attributes (as a kvlist body on every tenth),
    integers as strings and as numbers in turn, `timeUnixNano` exact to the nanosecond (0 or
    absent on some, with `observedTimeUnixNano` holding the time). A line that is not UTF-8
    stays as it was, on its own line (no JSON can hold it)."""
    out: list[str] = []
    pending: list[dict] = []
    for line in lines:
        try:
            text = line.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            out.extend(_otlp_request(pending))
            out.append(line.decode("utf-8", "surrogateescape"))
            pending = []
            continue
        # The variant by the line's bytes: a line written twice is the same record twice.
        pending.append(otlp_record(text, zlib.crc32(line)))
        if len(pending) == OTLP_RECORDS_PER_LINE:
            out.extend(_otlp_request(pending))
            pending = []
    out.extend(_otlp_request(pending))
    data = "".join(f"{line}\n" for line in out).encode("utf-8", "surrogateescape")
    return _gzip(data)


def _otlp_request(records: list[dict]) -> list[str]:
    if not records:
        return []
    resources = [
        {
            "resource": {"attributes": [_kv("service.name", "payment-api")]},
            "scopeLogs": [
                {"scope": {"name": "payments"}, "logRecords": records[:4]},
                {"scope": {"name": "payments.db", "version": "1"}, "logRecords": records[4:7]},
            ],
        },
        {
            "resource": {"attributes": [_kv("host.name", "node-2"), _kv("pid", 7, 1)]},
            "scopeLogs": [{"scope": {}, "logRecords": records[7:]}],
        },
    ]
    return [json.dumps({"resourceLogs": resources}, ensure_ascii=False, separators=(",", ":"))]


def otlp_record(text: str, number: int) -> dict:
    """One log line as an OTLP log record: its fields as attributes, its time in
    `timeUnixNano`; a line that is not a JSON object is the record's string body only.
    `number` picks the variant (where the time is, integers as strings or numbers, a kvlist
    body)."""
    try:
        fields = json.loads(text)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        return {"body": {"stringValue": text}}
    time = _nanoseconds(fields["ts"]) if isinstance(fields.get("ts"), str) else None
    if time is not None:
        fields = {k: v for k, v in fields.items() if k != "ts"}
    pairs = [_kv(key, value, number) for key, value in fields.items()]
    record: dict = {}
    if time is not None and number % 10 == 3:  # 0: the observed time is the record's
        record |= {"timeUnixNano": "0", "observedTimeUnixNano": time}
    elif time is not None and number % 10 == 6:  # absent, likewise
        record |= {"observedTimeUnixNano": str(time)}
    elif time is not None:
        record |= {"timeUnixNano": str(time) if number % 2 else time}
        record |= {"observedTimeUnixNano": "1736300000000000000"}  # the collector's: ignored
    record["severityText"] = str(fields.get("level", "INFO"))
    if number % 10 == 5:
        return record | {"body": {"kvlistValue": {"values": pairs}}}
    return record | {"body": {"stringValue": str(fields.get("event"))}, "attributes": pairs}


def _nanoseconds(ts: str) -> int | None:
    """An RFC 3339 time with an offset as epoch nanoseconds, exactly; None otherwise."""
    match = re.fullmatch(r"(.{19})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", ts)
    if match is None:
        return None
    try:
        at = datetime.fromisoformat(match.group(1) + match.group(3).replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    return seconds * 10**9 + int((match.group(2) or "").ljust(9, "0"))


def _kv(key: str, value, number: int = 0) -> dict:
    return {"key": key, "value": _any_value(value, number)}


def _any_value(value, number: int) -> dict:
    """A JSON value as an OTLP AnyValue (an integer as a string on even records)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": value if number % 2 else str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [_kv(k, v, number) for k, v in value.items()]}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any_value(v, number) for v in value]}}
    return {"stringValue": value}


CLOUDWATCH_EVENTS_PER_OBJECT = 7
CLOUDWATCH_CONTROL = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1736280000000,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
        }
    ],
}


def cloudwatch_file(lines: list[bytes]) -> bytes:
    """The lines as CloudWatch Logs subscription objects as Firehose writes them to S3: a
    `CONTROL_MESSAGE` first, then `CLOUDWATCH_EVENTS_PER_OBJECT` log events an object, the
    objects concatenated with no separator, in three gzip members cut inside objects. A line
    that is not UTF-8 is a message with its bad bytes escaped (quarantined, as the line is)."""
    objects = [json.dumps(CLOUDWATCH_CONTROL)]
    for first in range(0, len(lines), CLOUDWATCH_EVENTS_PER_OBJECT):
        chunk = lines[first : first + CLOUDWATCH_EVENTS_PER_OBJECT]
        events = [
            {
                "id": f"{first + i:056d}",
                "timestamp": 1736280000000 + first + i,
                "message": line.removesuffix(b"\r").decode("utf-8", "surrogateescape"),
            }
            for i, line in enumerate(chunk)
        ]
        data = {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/eks/payments/payment-api",
            "logStream": "payment-api-5c4b",
            "subscriptionFilters": ["to-firehose"],
            "logEvents": events,
        }
        objects.append(json.dumps(data, separators=(",", ":")))
    stream = "".join(objects).encode()
    cuts = [0, len(stream) // 3 + 1, 2 * len(stream) // 3 + 5, len(stream)]
    return b"".join(_gzip(stream[start:end]) for start, end in itertools.pairwise(cuts))
