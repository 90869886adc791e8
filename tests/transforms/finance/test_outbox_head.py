"""The decisions kept outside the warehouse (`outbox_head`): the outbox's journal head and each
run folder's decision, checked against the journal."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from transforms.finance import journal, outbox_head


def entry(seq: int, digest: str, event: str = "declined") -> journal.Entry:
    at = datetime(2025, 1, 8, tzinfo=UTC)
    return journal.Entry(seq, at, "I", "r1", event, "bob", {}, "p", digest, "sha256")


@pytest.mark.parametrize(
    ("journal_entries", "named"),
    [
        ([entry(1, "a"), entry(2, "b")], None),  # the journal holds the decision
        ([entry(1, "a")], "the warehouse's journal ends at entry 1"),  # a backup restored
        ([entry(1, "a"), entry(2, "c", "approved")], "its entry 2 is another: approved of run r1"),
    ],
    ids=["held", "cut-off", "another"],
)
def test_a_run_folder_s_decision_the_journal_lacks_is_named(tmp_path, journal_entries, named):
    run = SimpleNamespace(run_id="r1", run_folder=tmp_path)
    assert outbox_head.record_run(run, entry(2, "b")) is None
    found = outbox_head.check_runs(outbox_head.runs_kept([run]), journal_entries)
    if named is None:
        assert found == []
    else:
        (finding,) = found
        assert finding.startswith(f"{tmp_path / 'decision.json'} records journal entry 2 (declined")
        assert named in finding and "or another warehouse decided this run" in finding


def test_a_run_folder_out_of_reach_keeps_and_checks_nothing(tmp_path):
    run = SimpleNamespace(run_id="r1", run_folder=tmp_path / "elsewhere")
    assert outbox_head.record_run(run, entry(2, "b")) is None
    assert not run.run_folder.exists()
    assert outbox_head.check_runs(outbox_head.runs_kept([run]), []) == []


@pytest.mark.parametrize("place", ["outbox", "run folder"])
def test_a_named_pipe_in_place_of_a_kept_head_is_named_not_waited_on(tmp_path, place):
    # the read waited for a writer forever: `audit --verify` and every approval hung
    if place == "outbox":
        path = tmp_path / "incident=I" / outbox_head.FILE
        path.parent.mkdir()
        os.mkfifo(path)
        found = outbox_head.check(outbox_head.heads_kept(tmp_path), None, [entry(1, "a")])
    else:
        path = tmp_path / outbox_head.RUN_FILE
        os.mkfifo(path)
        found = outbox_head.check_runs(
            outbox_head.runs_kept([SimpleNamespace(run_id="r1", run_folder=tmp_path)]), []
        )
    assert found == [
        f"{path}: it is no journal head this product writes (not a file): a decision's record "
        f"was edited in the {place}"
    ]
