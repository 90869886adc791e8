"""The log contract: every line read, framed, parsed or quarantined with a reason; none lost."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.builders import failure, reconcile_incident, rows, write_incident
from transforms import incident, logs
from transforms.errors import InputError
from transforms.outputs import write_quarantine


def stage(tmp_path, lines, log_name="logs/pod-a.jsonl", **settings):
    path = write_incident(tmp_path / "inc", lines=lines, log_name=log_name, **settings)
    return reconcile_incident(path, tmp_path)


def quarantined(con) -> list[tuple[int, str]]:
    return rows(con, "int_log_lines_bucketed", "line", "quarantine_reason", "bucket")


GOOD = json.dumps(failure("t1")).encode()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"txn_id,amount\n", "not valid JSON"),  # a CSV passed as logs
        (b'{"ts": "2025-01-07T20:00:00Z", "event": \n', "not valid JSON"),  # truncated
        (b"[1, 2]\n", "JSON array, not an object"),
        (b"42\n", "JSON ubigint, not an object"),
        (b'"text"\n', "JSON varchar, not an object"),
        (b"\n", "blank line"),
        (b'{"event": "payment.failed", "txn_id": "t1"}\n', "missing ts"),
        (b'{"ts": 1736280000, "event": "x"}\n', "ts is not a string"),
        (b'{"ts": "yesterday", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-13-07T20:00:00Z", "event": "x"}\n', "ts is not an RFC 3339 timestamp"),
        (b'{"ts": "2025-01-07T20:00:00Z"}\n', "missing event"),
        (b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed"}\n', "payment event without txn_id"),
        (b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "  "}\n', "payment event without txn_id"),
        (json.dumps(failure("t1", amount_minor="12.50")).encode() + b"\n", "amount_minor is not an integer"),
        (json.dumps(failure("t1", amount_minor=12.5)).encode() + b"\n", "amount_minor is not an integer"),
        (json.dumps(failure("t1", amount_minor=0)).encode() + b"\n", "amount_minor is not positive"),
        (json.dumps(failure("t1", amount_minor=-5)).encode() + b"\n", "amount_minor is not positive"),
        (json.dumps(failure("t1", currency="XYZ")).encode() + b"\n", "currency is not an ISO 4217 code"),
        (json.dumps(failure("t1", customer_id=7)).encode() + b"\n", "customer_id is not a string"),
        (b'{"ts": "2025-01-07T20:00:00Z", "event": "payment.failed", "txn_id": "t\xff"}\n', "invalid UTF-8 at byte 71 of the line"),
    ],
)
def test_a_line_breaking_the_contract_is_quarantined_with_its_reason(tmp_path, line, reason):
    con = stage(tmp_path, [GOOD + b"\n", line])
    assert quarantined(con) == [(1, None, "relevant"), (2, reason, "quarantined")]


def test_a_line_over_one_mebibyte_is_quarantined_with_a_preview(tmp_path):
    huge = b'{"ts": "2025-01-07T20:00:00Z", "event": "x", "pad": "' + b"a" * (1 << 20) + b'"}\n'
    con = stage(tmp_path, [huge, GOOD + b"\n"])
    (line, reason, bucket), _ = quarantined(con)
    assert (line, bucket) == (1, "quarantined")
    assert reason.startswith("line is 1048631 bytes, longer than the 1 MiB limit")
    out = tmp_path / "quarantine.jsonl"
    write_quarantine(con, out)
    entry = json.loads(out.read_text().splitlines()[0])
    assert entry["file"] == "logs/pod-a.jsonl" and entry["line"] == 1
    assert len(entry["raw"]) == logs.QUARANTINE_PREVIEW_CHARS


def test_a_bom_and_crlf_line_ends_are_read_as_text(tmp_path):
    con = stage(tmp_path, [b"\xef\xbb\xbf" + GOOD + b"\r\n", json.dumps(failure("t2")).encode() + b"\r\n"])
    assert quarantined(con) == [(1, None, "relevant"), (2, None, "relevant")]


def test_non_payment_events_need_only_ts_and_event(tmp_path):
    con = stage(tmp_path, [b'{"ts": "2025-01-07T20:00:00Z", "event": "http.request", "amount_minor": "x"}\n'])
    assert quarantined(con) == [(1, None, "irrelevant")]


def test_quarantine_file_names_file_line_reason_and_raw_text(tmp_path):
    con = stage(tmp_path, [GOOD + b"\n", b"oops\n"], log_name="logs/pod-a.jsonl.gz")
    out = tmp_path / "quarantine.jsonl"
    assert write_quarantine(con, out) == 1
    assert json.loads(out.read_text()) == {
        "file": "logs/pod-a.jsonl.gz", "line": 2, "reason": "not valid JSON", "raw": "oops",
    }


def test_a_truncated_gzip_names_the_file_and_the_last_good_line(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"] * 2000, log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    log.write_bytes(log.read_bytes()[:-30])
    with pytest.raises(InputError, match=r"logs/a.jsonl.gz: the gzip stream is truncated or corrupt after line \d+"):
        reconcile_incident(path, tmp_path)


def test_a_corrupt_gzip_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], log_name="logs/a.jsonl.gz")
    log = tmp_path / "inc/logs/a.jsonl.gz"
    data = bytearray(log.read_bytes())
    data[20:30] = b"\x00" * 10
    log.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"logs/a.jsonl.gz: the gzip stream is truncated or corrupt"):
        reconcile_incident(path, tmp_path)


def test_a_glob_matching_no_file_is_an_input_error(tmp_path):
    path = write_incident(tmp_path / "inc", lines=[GOOD + b"\n"], sources={"logs": ["nothing/*.gz"]})
    with pytest.raises(InputError, match=r"sources.logs: 'nothing/\*.gz' matches no file"):
        logs.expand(incident.load(path).sources.logs, path.parent)


def test_every_line_is_in_one_bucket_per_file(tmp_path):
    lines = [GOOD + b"\n", GOOD + b"\n", b"bad\n", b'{"ts": "2025-01-07T20:00:00Z", "event": "db.pool.stats"}\n']
    con = stage(tmp_path, lines)
    profile = con.table("int_file_profile").select(
        "lines", "parsed", "relevant", "irrelevant", "duplicates", "quarantined", "accounted"
    ).fetchall()
    assert profile == [(4, 2, 1, 1, 1, 1, 4)]


def test_an_empty_file_gets_a_profile_row_with_no_lines(tmp_path):
    con = stage(tmp_path, [])
    assert con.table("int_file_profile").select("file", "lines", "accounted").fetchall() == [
        ("logs/pod-a.jsonl", 0, 0)
    ]


def test_gzip_and_plain_files_give_the_same_lines(tmp_path):
    lines = [GOOD + b"\n", b"oops\n"]
    plain = stage(tmp_path / "a", lines)
    zipped = stage(tmp_path / "b", lines, log_name="logs/pod-a.jsonl.gz")
    assert quarantined(plain) == quarantined(zipped)
    assert gzip.decompress((tmp_path / "b/inc/logs/pod-a.jsonl.gz").read_bytes()) == b"".join(lines)
