"""`[sources.log_format]`: the sample written as nested JSON, logfmt and plain text gives the
byte-identical credit file as the JSON lines it came from (and, checked in full, the same
buckets), and either `line_checks` gives the same credits, exceptions and evidence."""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import log_formats
from tests.builders import reconcile_incident, write_incident
from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.reconcile import outputs

INCIDENT_FILE = "INC-2025-01-07.toml"


@dataclass(frozen=True)
class Outcome:
    """A reconciliation's credits.csv, exceptions.csv and evidence.parquet, its buckets and
    the number of log files it read."""

    outputs: dict[str, bytes]
    buckets: dict[str, int]
    files_read: int


class Formats:
    """The session's sample in a log format (`jsonl`: as generated, else a key of
    `LOG_FORMATS`), its lines checked by their shape (`failure_capable`) or in full (`all`),
    each written and reconciled once."""

    def __init__(self, source: Path, root: Path):
        self.source, self.root = source, root

    @functools.cache  # noqa: B019 (one instance, for the module)
    def folder(self, kind: str) -> Path:
        if kind == "jsonl":
            return self.source
        envelope, _, split = kind.partition("_split")
        if envelope in log_formats.ENVELOPES:
            # `_split<n>`: every record cut into partial lines of n bytes, stderr between them.
            path = log_formats.write_envelope(
                self.source, self.root / kind, envelope, int(split or 0)
            )
            return path.parent
        return log_formats.write_log_format(self.source, self.root / kind, kind).parent

    @functools.cache  # noqa: B019
    def outcome(self, kind: str, line_checks: str = "failure_capable") -> Outcome:
        path = self.folder(kind) / INCIDENT_FILE
        if line_checks == "all":
            path = checking_all(self.folder(kind), self.root / f"{kind}-all")
        return run_outputs(path, self.root / f"work-{kind}-{line_checks}")


@pytest.fixture(scope="module")
def formats(sample_incident, tmp_path_factory) -> Formats:
    return Formats(sample_incident.parent, tmp_path_factory.mktemp("formats"))


def checking_all(folder: Path, copy_to: Path) -> Path:
    """The incident file of `folder`, copied to `copy_to`, with `line_checks = "all"`."""
    shutil.copytree(folder, copy_to)
    path = copy_to / INCIDENT_FILE
    path.write_text(path.read_text() + '\n[quality]\nline_checks = "all"\n')
    return path


def run_outputs(path: Path, work: Path) -> Outcome:
    """What a reconciliation of the incident file writes, and its line buckets."""
    work.mkdir()
    con = reconcile_incident(path, work)
    out = {name: work / name for name in ("credits.csv", "exceptions.csv", "evidence.parquet")}
    outputs.write_csv(
        con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, out["credits.csv"]
    )
    outputs.write_csv(
        con, "exceptions", outputs.EXCEPTION_COLUMNS, outputs.EXCEPTION_ORDER, out["exceptions.csv"]
    )
    outputs.write_evidence(con, out["evidence.parquet"])
    buckets = con.table("int_log_lines_bucketed").aggregate("bucket, count(*)", "bucket")
    return Outcome(
        {name: file.read_bytes() for name, file in out.items()},
        dict(buckets.fetchall()),
        len(con.table("log_files")),
    )


@pytest.mark.parametrize("kind", sorted(log_formats.LOG_FORMATS))
def test_the_sample_in_each_log_format_gives_the_same_credit_file(formats, kind):
    path = formats.folder(kind) / INCIDENT_FILE
    assert incident.load(path).sources.log_format.kind == kind.removesuffix("_nested")
    credits = formats.outcome(kind).outputs["credits.csv"]
    assert credits == formats.outcome("jsonl").outputs["credits.csv"]


@pytest.mark.parametrize("kind", sorted(log_formats.LOG_FORMATS))
def test_each_log_format_checked_in_full_gives_the_same_buckets(formats, kind):
    # Checked in full, every line is parsed: the malformed lines the formats keep as they were
    # are quarantined alike. (By shape only, a broken JSON line fails the shape of one object
    # while a broken logfmt or text line is merely not blank.)
    strict = formats.outcome(kind, "all")
    assert strict.buckets == formats.outcome("jsonl", "all").buckets
    assert strict.outputs["credits.csv"] == formats.outcome("jsonl").outputs["credits.csv"]


@pytest.mark.parametrize("kind", ["jsonl", "logfmt", "regex"])
def test_both_line_checks_give_byte_identical_outputs(formats, kind):
    assert formats.outcome(kind).outputs == formats.outcome(kind, "all").outputs


ENVELOPED = [
    "cri",
    "cri_split40",
    "docker",
    "docker_split100",
    "fluentbit",
    "otlp",
    "cloudwatch",
    "syslog",
]


@pytest.mark.parametrize("kind", ENVELOPED)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_the_sample_in_each_envelope_gives_byte_identical_outputs(formats, kind, line_checks):
    # Same file names, same records: the credits, exceptions and evidence are the plain run's.
    assert formats.outcome(kind, line_checks).outputs == formats.outcome("jsonl").outputs


@pytest.mark.parametrize("kind", ["cri", "docker", "fluentbit", "otlp", "cloudwatch", "syslog"])
def test_an_envelope_checked_in_full_gives_the_plain_buckets(formats, kind):
    # One record per line, none split: every record in the bucket its plain line is in (OTLP:
    # 10 records a line). CloudWatch adds one CONTROL_MESSAGE a file, counted irrelevant.
    expected = dict(formats.outcome("jsonl", "all").buckets)
    if kind == "cloudwatch":
        expected["irrelevant"] += formats.outcome(kind, "all").files_read
    assert formats.outcome(kind, "all").buckets == expected


def reconciled_one(tmp_path, line: str, **log_format):
    """The work database of an incident of one log line in `log_format`, checked in full."""
    path = write_incident(
        tmp_path / "inc",
        lines=[line],
        sources={"log_format": log_format},
        quality={"line_checks": "all"},
    )
    return reconcile_incident(path, tmp_path)


def stage_one(tmp_path, line: str, **log_format) -> list[tuple]:
    con = reconciled_one(tmp_path, line, **log_format)
    return con.sql(
        "select bucket, quarantine_reason, txn_id, ts_utc::varchar from int_log_lines_bucketed"
    ).fetchall()


@pytest.mark.parametrize(
    ("line", "log_format", "expected"),
    [
        # nested paths and keys that are not identifiers
        (
            '{"@timestamp": "2025-01-07T20:00:00Z", "type": "payment.failed", '
            '"payment": {"id": "t1"}}',
            {"ts": "@timestamp", "event": "type", "txn_id": "payment.id"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        # RFC 3339 in lowercase, in logfmt and in a regex's named group
        (
            "ts=2025-01-08t04:44:59+05:30 event=payment.failed txn_id=t1",
            {"kind": "logfmt"},
            ("relevant", None, "t1", "2025-01-07 23:14:59+00"),
        ),
        (
            "2025-01-07t20:00:00.5z payment.failed t1",
            {"kind": "regex", "pattern": r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.5+00"),
        ),
        # epoch seconds with a fraction, exact to the microsecond
        (
            '{"ts": 1736280000.123456, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_s"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.123456+00"),
        ),
        # ... and beyond it truncated, as RFC 3339's are: never rounded into the next second
        (
            '{"ts": 1736279999.9999996, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_s"},
            ("relevant", None, "t1", "2025-01-07 19:59:59.999999+00"),
        ),
        (
            '{"ts": 1736279999999.9996, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ms"},
            ("relevant", None, "t1", "2025-01-07 19:59:59.999999+00"),
        ),
        # epoch milliseconds given as text: not a number
        (
            '{"ts": "1736280000123", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ms"},
            ("quarantined", "ts is not a number", None, None),
        ),
        # epoch microseconds and nanoseconds, as numbers or strings of digits, read exactly
        # (as a double, ...123456789 ns would round to ...123456768 ns: a different microsecond
        # for ...999 ns); nanoseconds are truncated to the microsecond
        (
            '{"ts": 1736280000123456, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_us"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.123456+00"),
        ),
        (
            '{"ts": "1736280000999999", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_us"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.999999+00"),
        ),
        (
            '{"ts": 1736280000999999999, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ns"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.999999+00"),
        ),
        (
            '{"ts": "1736280000000000999", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ns"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        (
            "ts=1736280000123456789 event=payment.failed txn_id=t1",
            {"kind": "logfmt", "ts_format": "epoch_ns"},
            ("relevant", None, "t1", "2025-01-07 20:00:00.123456+00"),
        ),
        # ... but never a fraction, a float, a sign or anything else
        (
            '{"ts": 1736280000123456.5, "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_us"},
            ("quarantined", "ts is not a whole number or a string of digits", None, None),
        ),
        (
            '{"ts": "-1736280000000000000", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ns"},
            ("quarantined", "ts is not epoch nanoseconds", None, None),
        ),
        (
            '{"ts": "99999999999999999999999999", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_us"},
            ("quarantined", "ts is not epoch microseconds", None, None),
        ),
        # a strptime pattern with an offset
        (
            '{"ts": "07/Jan/2025:21:00:00 +0100", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "%d/%b/%Y:%H:%M:%S %z"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        # a strptime pattern without an offset is read in logs_timezone (UTC here)
        (
            '{"ts": "2025-01-07 20:00:00", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "%Y-%m-%d %H:%M:%S"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        # a time that does not match the pattern
        (
            '{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "%Y-%m-%d %H:%M:%S"},
            ("quarantined", "ts does not match sources.log_format.ts_format", None, None),
        ),
        # logfmt: quoted values, padded txn_id trimmed
        (
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id=" t1 " msg="a b=c"',
            {"kind": "logfmt"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        # logfmt: digits are numbers, so an amount with a dot is not an integer
        (
            "ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 amount_minor=12.50",
            {"kind": "logfmt"},
            ("quarantined", "amount_minor is not an integer", None, None),
        ),
        # logfmt and regex: digits are text in a text field (payment ids, customer ids and
        # HTTP codes are often digits: such a line was quarantined)
        (
            "ts=2025-01-07T20:00:00Z event=payment.failed txn_id=12345 customer_id=42 "
            "error_code=500 amount_minor=1250",
            {"kind": "logfmt"},
            ("relevant", None, "12345", "2025-01-07 20:00:00+00"),
        ),
        (
            "2025-01-07T20:00:00Z payment.failed 12345",
            {"kind": "regex", "pattern": r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"},
            ("relevant", None, "12345", "2025-01-07 20:00:00+00"),
        ),
        # logfmt: a quote never closed (it said "payment event without txn_id")
        (
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id="t1 error_code=DB_POOL_TIMEOUT',
            {"kind": "logfmt"},
            ("quarantined", "not a logfmt line: a quoted value is never closed", None, None),
        ),
        (  # a value that ends in "=" closes its quote (it read as one opening)
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 msg="retry=" error_code=X',
            {"kind": "logfmt"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        (  # an escaped quote inside a closed one is fine
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 msg="a \\"b\\" c"',
            {"kind": "logfmt"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        # logfmt: a quoted value holding a raw tab, CR or colour escape is read as written (JSON
        # refuses them unescaped: the run ended in a traceback, exit 1)
        (
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 msg="a\tb\rc\x1b[0m"',
            {"kind": "logfmt"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        (  # in the id, the contract's check of its characters names it
            'ts=2025-01-07T20:00:00Z event=payment.failed txn_id="t1\tx"',
            {"kind": "logfmt"},
            (
                "quarantined",
                "txn_id holds U+0009 (a control, format or space character other than U+0020): "
                "ids compare exactly, so it would not match the table's id as written",
                None,
                None,
            ),
        ),
        # logfmt: a line with no key=value pair
        (
            "Caused by: java.net.ConnectException",
            {"kind": "logfmt"},
            ("quarantined", "not a logfmt line", None, None),
        ),
        # regex: named groups, and a line the pattern does not match
        (
            "2025-01-07T20:00:00Z payment.failed t1",
            {"kind": "regex", "pattern": r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"},
            ("relevant", None, "t1", "2025-01-07 20:00:00+00"),
        ),
        (
            "2025-01-07T20:00:00Z payment.failed",
            {"kind": "regex", "pattern": r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+)$"},
            ("quarantined", "does not match sources.log_format.pattern", None, None),
        ),
    ],
)
def test_each_format_reads_or_quarantines_a_line(tmp_path, line, log_format, expected):
    assert stage_one(tmp_path, line, **log_format) == [expected]


_AMOUNT_PATTERN = r"^(?P<ts>\S+) (?P<event>\S+) (?P<txn_id>\S+) (?P<amount_minor>\S+)$"


@pytest.mark.parametrize(
    ("line", "log_format", "expected"),
    [
        # leading zeros are read as a table's `000500` is, 500 (it was "not an integer")
        ("amount_minor=0500", {"kind": "logfmt"}, (None, 500)),
        ("amount_minor=0500.00", {"kind": "logfmt"}, (None, 500)),
        ("amount_minor=00", {"kind": "logfmt"}, ("amount_minor is not positive", None)),
        ("amount_minor=012.50", {"kind": "logfmt"}, ("amount_minor is not an integer", None)),
        ("000500", {"kind": "regex", "pattern": _AMOUNT_PATTERN}, (None, 500)),
    ],
)
def test_a_text_formats_amount_is_read_as_a_tables(tmp_path, line, log_format, expected):
    if log_format["kind"] == "logfmt":
        line = f"ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 {line}"
    else:
        line = f"2025-01-07T20:00:00Z payment.failed t1 {line}"
    con = reconciled_one(tmp_path, line, **log_format)
    [(reason,)] = con.sql("select quarantine_reason from int_log_lines_bucketed").fetchall()
    amounts = con.sql("select amount_minor from stg_log_events").fetchall()
    assert (reason, amounts[0][0] if amounts else None) == expected


@pytest.mark.parametrize(
    ("log_format", "message"),
    [
        ({"kind": "xml"}, r"sources.log_format.kind: 'xml' is not one of"),
        ({"kind": "regex"}, r"sources.log_format.pattern: is required with kind = 'regex'"),
        ({"kind": "regex", "pattern": "(?P<ts>.*)"}, r"needs a named group \(\?P<event>"),
        ({"kind": "regex", "pattern": "(?<=x)(?P<ts>.)(?P<event>.)(?P<txn_id>.)"}, "RE2"),
        ({"ts_format": "unix"}, r"sources.log_format.ts_format: use one of"),
        # a strptime pattern DuckDB cannot read stopped staging with its traceback (exit 1)
        ({"ts_format": "%Y-%m-%d %Q"}, r"sources.log_format.ts_format: '%Y-%m-%d %Q' is not a"),
        ({"ts_format": "%s"}, r"sources.log_format.ts_format: '%s' is not a strptime pattern"),
        ({"ts_format": "%Y %H:%M %"}, r"ts_format: .* \(Trailing format character %\)"),
        ({"txn_id": "a..b"}, r"sources.log_format.txn_id: 'a..b' is not a key or dotted path"),
        ({"tz": "UTC"}, r"sources.log_format.tz: unknown key"),
    ],
)
def test_a_bad_log_format_is_a_config_error(tmp_path, log_format, message):
    path = write_incident(tmp_path / "inc", sources={"log_format": log_format})
    with pytest.raises(ConfigError, match=message):
        incident.load(path)
