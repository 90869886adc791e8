"""A JSON string holding a lone surrogate escape (`"\\ud800"`: JavaScript's JSON.stringify
writes one for an emoji cut in two) is read with U+FFFD in its place, as a careful decoder
reads it: the line is no longer lost as not valid JSON."""

from __future__ import annotations

import pytest

from tests.builders import reconcile_incident, write_incident

HEAD = '{"ts":"2025-01-07T20:00:00Z","event":"payment.failed",'


def staged(tmp_path, line: str, checks: str) -> list[tuple]:
    path = write_incident(tmp_path / "inc", lines=[line], quality={"line_checks": checks})
    return (
        reconcile_incident(path, tmp_path)
        .sql("select bucket, quarantine_reason, txn_id, customer_id from int_log_lines_bucketed")
        .fetchall()
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # a lone high or low surrogate in a field the contract ignores
        (HEAD + r'"txn_id":"t1","note":"cut \ud83d"}', ("relevant", None, "t1", None)),
        (HEAD + r'"txn_id":"t1","note":"\uDE00 cut"}', ("relevant", None, "t1", None)),
        # a whole pair is the character it spells; an escaped backslash before `u` is no escape
        (HEAD + r'"txn_id":"t1","note":"\ud83d\ude00 \\ud800"}', ("relevant", None, "t1", None)),
        # in an id it is U+FFFD there: the id is not the one logged
        (
            HEAD + r'"txn_id":"t1\ud800"}',
            (
                "quarantined",
                "txn_id or customer_id holds U+FFFD (bytes a collector could not decode)",
                None,
                None,
            ),
        ),
    ],
)
@pytest.mark.parametrize("checks", ["all", "failure_capable"])
def test_a_lone_surrogate_escape_is_read_as_the_replacement_character(
    tmp_path, line, expected, checks
):
    assert staged(tmp_path, line, checks) == [expected]


def test_a_lone_surrogate_escape_in_a_quoted_logfmt_value_is_read_too(tmp_path):
    line = r'ts=2025-01-07T20:00:00Z event=payment.failed txn_id=t1 note="cut \ud83d"'
    path = write_incident(
        tmp_path / "inc", lines=[line], sources={"log_format": {"kind": "logfmt"}}
    )
    con = reconcile_incident(path, tmp_path)
    assert con.sql("select bucket, txn_id from int_log_lines_bucketed").fetchall() == [
        ("relevant", "t1")
    ]
