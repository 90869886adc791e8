"""A run id: its UTC start, then a suffix from the run's inputs (window, policy, input files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.builders import failure, txn, write_incident
from transforms.ingest import incident
from transforms.runfolder import runs

AT = datetime(2025, 1, 8, 12, tzinfo=UTC)
STAMP_NS = 1_736_000_000 * 10**9


def suffix(folder, touched: bool = False, lines=None, **changes) -> str:
    """The run id's suffix of the incident written (again) into `folder`, its files stamped
    with one fixed time (a second later for the log when `touched`)."""
    lines = lines or [failure("t1")]
    path = write_incident(folder, lines=lines, transactions=[txn("t1")], **changes)
    for file in folder.rglob("*"):
        os.utime(file, ns=(STAMP_NS, STAMP_NS))
    if touched:
        os.utime(folder / "logs" / "pod-a.jsonl", ns=(STAMP_NS, STAMP_NS + 10**9))
    run = runs.start(incident.load(path), folder.parent / "out", now=AT)
    assert run.run_id.startswith("20250108T120000000000Z-")
    runs.finish(run)
    run.folder.rmdir()
    return run.run_id.split("-", 1)[1]


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({}, False),  # the same inputs again: the same suffix
        ({"top": {"window_end": "2025-01-07T17:15:00"}}, True),  # a narrower window
        ({"policy": {"flat_minor": {"USD": 2000, "EUR": 900, "JPY": 1500}}}, True),  # policy
        ({"lines": [failure("t1"), failure("t2")]}, True),  # another log
        ({"touched": True}, True),  # the same log bytes, written again later
    ],
)
def test_the_suffix_changes_with_the_inputs(tmp_path, changes, differs):
    first = suffix(tmp_path / "inc")
    assert (suffix(tmp_path / "inc", **changes) != first) is differs


@pytest.mark.parametrize(
    ("logs", "output"),
    [
        (["logs/**/*.jsonl"], "logs/out"),  # an earlier run's quarantine.jsonl read as logs
        (["**"], "out"),  # a run read its own scratch
    ],
)
def test_an_output_folder_the_logs_globs_read_is_refused(tmp_path, logs, output):
    from transforms.errors import ConfigError

    folder = tmp_path / "inc"
    path = write_incident(
        folder, lines=[failure("t1")], transactions=[txn("t1")], sources={"logs": logs}
    )
    (folder / "logs" / "out" / "incident=INC-T" / "run=old").mkdir(parents=True)
    (folder / "logs" / "out" / "incident=INC-T" / "run=old" / "quarantine.jsonl").write_text("")
    with pytest.raises(ConfigError, match="is inside what sources.logs reads"):
        runs.start(incident.load(path), folder / output, now=AT)
    assert not list((folder / output).glob("incident=*/run=2025*"))  # its folder removed


@pytest.mark.parametrize("output", [".", "..", "logs-out"])
def test_an_output_folder_above_or_beside_the_logs_is_fine(tmp_path, output):
    # `--output-dir .` (the logs below it, no run's files among them) was refused
    folder = tmp_path / "inc"
    path = write_incident(folder, lines=[failure("t1")], transactions=[txn("t1")])
    run = runs.start(incident.load(path), folder / output, now=AT)
    assert run.folder.is_dir()


@dataclass(frozen=True)
class Written:
    """A number as the TOML file writes it, word for word (`toml_value` quotes a string)."""

    text: str

    def __str__(self) -> str:
        return self.text


@pytest.mark.parametrize("written", ["10.0", "10.00", "1e1", "1.0E+1", "1000e-2", "+10"])
def test_one_percent_written_otherwise_is_the_same_policy(tmp_path, written):
    # `percent = 10.0` gave another run id suffix, policy sha256 and manifest policy than
    # `percent = 10`: the same policy, two runs finance could not tell apart but by their ids
    folder = tmp_path / "inc"
    policy = {"basis": "percent_of_failed_amount", "percent": 10}
    plain = suffix(folder, policy=policy)
    plain_policy = incident.load(folder / "incident.toml").policy
    assert suffix(folder, policy={**policy, "percent": Written(written)}) == plain
    written_policy = incident.load(folder / "incident.toml").policy
    assert f"percent = {written}\n" in (folder / "incident.toml").read_text(encoding="utf-8")
    assert written_policy.as_json() == plain_policy.as_json()  # the manifest's policy
    assert written_policy.sha256 == plain_policy.sha256
