"""The sample's logs rewritten in other log formats (`[sources.log_format]`): jsonl with nested
fields, logfmt and plain text by a regex. Only tests use it: every format must give the same
credits as the sample's own JSON lines."""

from __future__ import annotations

import gzip
import json
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
}
CRI_TIME = "2025-01-07T20:00:00.123456789Z"


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
        out = b"".join(wrap(line, envelope, split) for line in lines)
        with atomic_path(out_dir / "logs" / source.name) as tmp:
            tmp.write_bytes(gzip.compress(out, mtime=0))
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
