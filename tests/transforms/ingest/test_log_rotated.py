"""A record a rotation cut in two (`rotated`): its start ends one file (no line feed after it,
or a runtime's partial line), its rest opens the next. Either part holding a failure event
stops the run naming its file and line; a whole record, or a part without one, is read or
quarantined as before."""

from __future__ import annotations

import json

import pytest

from tests.builders import failure, reconcile_incident, stopped, write_incident

RECORD = json.dumps(failure("t2", ts="2025-01-07T20:00:00.5Z"), separators=(",", ":"))
WHOLE = json.dumps(failure("t1", ts="2025-01-07T20:00:00.5Z"), separators=(",", ":"))
AFTER_EVENT = RECORD.index('"txn_id"')  # a cut after the event: the start holds it
BEFORE_EVENT = RECORD.index('"event"')  # a cut before it: the rest holds it
TIME = "2025-01-07T20:00:00.600000000Z"
OLD, NEW = "logs/app.log.1", "logs/app.log"  # one rotation: the older file, the newer


def incident(tmp_path, older: bytes, newer: bytes, line_checks: str, **log_format):
    """An incident of two files of one rotation: `app.log.1` (older) and `app.log`."""
    path = write_incident(
        tmp_path / "inc",
        lines=[older],
        sources={"log_format": log_format},
        quality={"line_checks": line_checks},
        log_name="logs/app.log.1",
    )
    (path.parent / "logs" / "app.log").write_bytes(newer)
    return path


def cri(message: str, stream: str = "stdout", tag: str = "F") -> bytes:
    return f"{TIME} {stream} {tag} {message}\n".encode()


def docker(log: str, stream: str = "stdout") -> bytes:
    return (json.dumps({"log": log, "stream": stream, "time": TIME}) + "\n").encode()


def buckets(path, tmp_path) -> list[tuple]:
    con = reconcile_incident(path, tmp_path)
    return con.sql(
        "select f.name, l.line, l.bucket, l.txn_id from int_log_lines_bucketed l "
        "join log_files f using (file_id) order by f.name, l.line"
    ).fetchall()


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        # The cut came after the event: app.log.1's last line, its start, holds it.
        (
            AFTER_EVENT,
            "logs/app.log.1: line 2, its last, has no line feed at its end and holds a failure "
            "event (payment.failed) in a record cut short (not valid JSON): quarantined, ",
        ),
        # The cut came before the event: the rest, opening app.log, holds it.
        (
            BEFORE_EVENT,
            "logs/app.log: line 1 opens the file (or its stream) with the rest of a record "
            "holding a failure event (payment.failed) (not valid JSON): quarantined, ",
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_a_copytruncate_rotation_cut_stops_the_run(tmp_path, cut, expected, line_checks):
    # The writer was mid-line when logrotate copied and truncated app.log: app.log.1 ends with
    # the record's start (no line feed), app.log opens with its rest. Once both quarantined
    # as not valid JSON, the run passed without t2.
    older = f"{WHOLE}\n{RECORD[:cut]}".encode()
    newer = f"{RECORD[cut:]}\n{WHOLE.replace('t1', 't3')}\n".encode()
    message = stopped(incident(tmp_path, older, newer, line_checks), tmp_path)
    assert message.startswith(expected)
    assert "join the two, in order, into one file" in message


@pytest.mark.parametrize(
    ("envelope", "older", "newer", "line"),
    [
        # The kubelet rotated between the P and the F line of a record; a stderr line opens
        # the new file, so the rest is the first line of its stream, not of the file.
        (
            "cri",
            cri(WHOLE) + cri(RECORD[:BEFORE_EVENT], tag="P"),
            cri('{"ts": "2025-01-07T20:00:01Z", "event": "retrying"}', "stderr")
            + cri(RECORD[BEFORE_EVENT:AFTER_EVENT], tag="P")
            + cri(RECORD[AFTER_EVENT:]),
            2,
        ),
        # Docker rotated between two parts of an entry over 16 KiB.
        (
            "docker",
            docker(WHOLE + "\n") + docker(RECORD[:BEFORE_EVENT]),
            docker("starting\n", "stderr") + docker(RECORD[BEFORE_EVENT:] + "\n"),
            2,
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_whose_rest_opens_a_runtimes_rotated_file_stops_the_run(
    tmp_path, envelope, older, newer, line, line_checks
):
    # Once the rest was quarantined as not valid JSON and the start as an unfinished partial
    # line without a failure event: the run passed without t2.
    path = incident(tmp_path, older, newer, line_checks, envelope=envelope)
    assert stopped(path, tmp_path).startswith(
        f"logs/app.log: line {line} opens the file (or its stream) with the rest of a record "
        "holding a failure event (payment.failed) (not valid JSON): quarantined, "
    )


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_the_two_files_joined_as_the_message_says_are_read(tmp_path, line_checks):
    older = f"{WHOLE}\n{RECORD[:AFTER_EVENT]}".encode()
    path = incident(tmp_path, older + f"{RECORD[AFTER_EVENT:]}\n".encode(), b"", line_checks)
    assert buckets(path, tmp_path) == [(OLD, 1, "relevant", "t1"), (OLD, 2, "relevant", "t2")]


@pytest.mark.parametrize(
    ("older", "newer", "expected"),
    [
        # A whole record without a line feed after it (a file written so): read.
        (f"{WHOLE}\n{RECORD}", b"", [(OLD, 2, "relevant", "t2")]),
        # A cut record with a line feed after it (a writer killed mid-line, the line ended by
        # hand): quarantined, never stopped (the gate's warning names it).
        (f"{WHOLE}\n{RECORD[:AFTER_EVENT]}\n", b"", [(OLD, 2, "quarantined", None)]),
        # A start and a rest without a failure event: quarantined, as any cut line.
        (
            WHOLE + "\n" + '{"ts": "2025-01-07T20:00:01Z", "event": "retr',
            b'ying"}\n',
            [(NEW, 1, "quarantined", None), (OLD, 2, "quarantined", None)],
        ),
    ],
)
@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_line_no_rotation_cut_in_a_failure_is_read_or_quarantined(
    tmp_path, older, newer, expected, line_checks
):
    path = incident(tmp_path, older.encode(), newer, line_checks)
    assert [row for row in buckets(path, tmp_path) if row[2] != "irrelevant"] == sorted(
        [(OLD, 1, "relevant", "t1"), *expected]
    )


@pytest.mark.parametrize("line_checks", ["failure_capable", "all"])
def test_a_failure_line_opening_a_file_that_is_no_rest_is_only_quarantined(tmp_path, line_checks):
    # A whole failure record that breaks the contract (an amount of 12.5), and a CRI record
    # that is the service's text naming the event after another line of its stream: no part of
    # a cut record, quarantined as before (the gate's warning names them).
    bad_amount = RECORD.replace('"error_code"', '"amount_minor":12.5,"error_code"')
    path = incident(
        tmp_path,
        cri(WHOLE),
        cri(bad_amount) + cri(WHOLE.replace("t1", "t3")) + cri("retrying after payment.failed"),
        line_checks,
        envelope="cri",
    )
    assert [row[:3] for row in buckets(path, tmp_path) if row[2] == "quarantined"] == [
        (NEW, 1, "quarantined"),
        (NEW, 3, "quarantined"),
    ]


def test_a_file_of_another_format_is_named_as_such_not_as_a_rest(tmp_path):
    # fluentd's out_file with its delimiter SPACE under envelope = "fluentd": no line is the
    # envelope's, and the first holds a failure record; named by the file's format, never as
    # the rest of a record a rotation cut
    line = f"2025-01-07T20:00:00+0000 payments.api {WHOLE}\n".encode()
    path = incident(
        tmp_path, line, line.replace(b"t1", b"t2"), "failure_capable", envelope="fluentd"
    )
    assert stopped(path, tmp_path).startswith(
        f'{NEW}: no line of it is read with envelope = "fluentd", and line 1, quarantined as '
        "not a fluentd out_file line"
    )


def test_an_ecs_record_cut_after_its_event_stops_the_run(tmp_path):
    # An ECS logger writes the event's key whole, dots in it (`"event.action"`): a cut record
    # holding it as its member is one the run would lose.
    ecs = RECORD.replace('"event"', '"event.action"')
    older = f"{ecs[: ecs.index('txn_id')]}".encode()
    newer = f"{ecs[ecs.index('txn_id') :]}\n".encode()
    path = incident(tmp_path, older, newer, "all", event="event.action")
    assert stopped(path, tmp_path).startswith(
        "logs/app.log.1: line 1, its last, has no line feed at its end and holds a failure "
    )
