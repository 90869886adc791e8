"""`[sources.log_format]`: the sample written as nested JSON, logfmt and plain text gives the
byte-identical credit file as the JSON lines it came from (and, checked in full, the same
buckets), and either `line_checks` gives the same credits, exceptions and evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import log_formats
from tests.builders import reconcile_incident, write_incident
from transforms import sample
from transforms.errors import ConfigError
from transforms.ingest import incident
from transforms.reconcile import outputs


def credit_file_and_buckets(path: Path, work: Path) -> tuple[bytes, dict[str, int]]:
    con = reconcile_incident(path, work)
    out = work / "credits.csv"
    outputs.write_csv(con, "credits", outputs.CREDIT_COLUMNS, outputs.CREDIT_ORDER, out)
    buckets = con.table("int_log_lines_bucketed").aggregate("bucket, count(*)", "bucket")
    return out.read_bytes(), dict(buckets.fetchall())


@pytest.fixture(scope="module")
def jsonl_sample(tmp_path_factory) -> tuple[Path, bytes, dict[str, int]]:
    folder = tmp_path_factory.mktemp("sample")
    sample.generate(folder / "jsonl", scale=1)
    credits, buckets = credit_file_and_buckets(folder / "jsonl/INC-2025-01-07.toml", folder)
    return folder / "jsonl", credits, buckets


@pytest.mark.parametrize("kind", sorted(log_formats.LOG_FORMATS))
def test_the_sample_in_each_log_format_gives_the_same_credit_file(jsonl_sample, kind, tmp_path):
    source, credits, _ = jsonl_sample
    path = log_formats.write_log_format(source, tmp_path / kind, kind)
    assert incident.load(path).sources.log_format.kind == kind.removesuffix("_nested")
    got_credits, _ = credit_file_and_buckets(path, tmp_path)
    assert got_credits == credits


@pytest.mark.parametrize("kind", sorted(log_formats.LOG_FORMATS))
def test_each_log_format_checked_in_full_gives_the_same_buckets(jsonl_sample, kind, tmp_path):
    # Checked in full, every line is parsed: the malformed lines the formats keep as they were
    # are quarantined alike. (By shape only, a broken JSON line fails the shape of one object
    # while a broken logfmt or text line is merely not blank.)
    source, credits, _ = jsonl_sample
    strict = checking_all(source, tmp_path / "jsonl")
    _, buckets = credit_file_and_buckets(strict, tmp_path / "jsonl")
    path = checking_all(log_formats.write_log_format(source, tmp_path / kind, kind).parent, None)
    got_credits, got_buckets = credit_file_and_buckets(path, tmp_path)
    assert got_buckets == buckets
    assert got_credits == credits


def checking_all(folder: Path, copy_to: Path | None) -> Path:
    """The incident file of `folder` (copied to `copy_to` first, if given) with
    `line_checks = "all"`."""
    if copy_to is not None:
        shutil.copytree(folder, copy_to)
        folder = copy_to
    path = folder / "INC-2025-01-07.toml"
    path.write_text(path.read_text() + '\n[quality]\nline_checks = "all"\n')
    return path


def run_outputs(path: Path, work: Path) -> dict[str, bytes]:
    """credits.csv, exceptions.csv and evidence.parquet of a run of the incident file."""
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
    return {name: file.read_bytes() for name, file in out.items()}


@pytest.mark.parametrize("kind", ["jsonl", "logfmt", "regex"])
def test_both_line_checks_give_byte_identical_outputs(jsonl_sample, kind, tmp_path):
    source = jsonl_sample[0]
    if kind != "jsonl":
        source = log_formats.write_log_format(source, tmp_path / kind, kind).parent
    screened = run_outputs(source / "INC-2025-01-07.toml", tmp_path / "screened")
    strict = run_outputs(checking_all(source, tmp_path / "all"), tmp_path / "strict")
    assert screened == strict


def stage_one(tmp_path, line: str, **log_format) -> list[tuple]:
    path = write_incident(
        tmp_path / "inc",
        lines=[line],
        sources={"log_format": log_format},
        quality={"line_checks": "all"},
    )
    con = reconcile_incident(path, tmp_path)
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
        # epoch milliseconds given as text: not a number
        (
            '{"ts": "1736280000123", "event": "payment.failed", "txn_id": "t1"}',
            {"ts_format": "epoch_ms"},
            ("quarantined", "ts is not a number", None, None),
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


@pytest.mark.parametrize(
    ("log_format", "message"),
    [
        ({"kind": "xml"}, r"sources.log_format.kind: 'xml' is not one of"),
        ({"kind": "regex"}, r"sources.log_format.pattern: is required with kind = 'regex'"),
        ({"kind": "regex", "pattern": "(?P<ts>.*)"}, r"needs a named group \(\?P<event>"),
        ({"kind": "regex", "pattern": "(?<=x)(?P<ts>.)(?P<event>.)(?P<txn_id>.)"}, "RE2"),
        ({"ts_format": "unix"}, r"sources.log_format.ts_format: use one of"),
        ({"txn_id": "a..b"}, r"sources.log_format.txn_id: 'a..b' is not a key or dotted path"),
        ({"tz": "UTC"}, r"sources.log_format.tz: unknown key"),
    ],
)
def test_a_bad_log_format_is_a_config_error(tmp_path, log_format, message):
    path = write_incident(tmp_path / "inc", sources={"log_format": log_format})
    with pytest.raises(ConfigError, match=message):
        incident.load(path)
