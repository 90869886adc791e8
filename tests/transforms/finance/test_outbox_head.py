"""The decisions kept outside the warehouse (`outbox_head`): the outbox's journal head and each
run folder's decision, checked against the journal."""

from __future__ import annotations

import json
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
    run = made_run(tmp_path)
    assert outbox_head.record_run(run, entry(2, "b")) is None
    found = outbox_head.check_runs(outbox_head.runs_kept([run.run_folder]), journal_entries)
    if named is None:
        assert found == []
    else:
        (finding,) = found
        kept = run.run_folder / "decision.json"
        assert finding.startswith(f"{kept} records journal entry 2 (declined")
        assert named in finding and "or another warehouse decided this run" in finding


def folder_of(root, run_id: str):
    return root / "out" / "incident=I" / f"run={run_id}"


def made_run(root, run_id: str = "r1") -> SimpleNamespace:
    """A run of incident I whose folder is there."""
    run = SimpleNamespace(run_id=run_id, incident_id="I", run_folder=folder_of(root, run_id))
    run.run_folder.mkdir(parents=True)
    return run


def test_a_decision_kept_beside_the_runs_the_warehouse_lists_is_checked_too(tmp_path):
    # A backup from before run r2, restored: r2's row is gone, its declined decision in its
    # folder is not, and a rerun of its inputs was paid, `audit --verify` exiting 0.
    listed, gone = made_run(tmp_path, "r1"), made_run(tmp_path, "r2")
    assert outbox_head.record_run(gone, entry(5, "e")) is None
    (finding,) = outbox_head.check_runs(outbox_head.runs_kept([listed.run_folder]), [entry(1, "a")])
    assert finding.startswith(f"{gone.run_folder / 'decision.json'} records journal entry 5")


def test_a_decision_is_kept_only_in_a_folder_named_as_its_run_s(tmp_path):
    # whoever may add a run's row (credits_runner) chose where finance's decision was written
    target = tmp_path / "elsewhere"
    target.mkdir()
    run = SimpleNamespace(run_id="r1", incident_id="I", run_folder=target)
    note = outbox_head.record_run(run, entry(2, "b"))
    assert note is not None and "not the folder of run r1" in note
    assert not (target / "decision.json").exists()


def test_a_run_folder_out_of_reach_keeps_and_checks_nothing(tmp_path):
    run = SimpleNamespace(run_id="r1", incident_id="I", run_folder=folder_of(tmp_path, "r1"))
    assert outbox_head.record_run(run, entry(2, "b")) is None
    assert not run.run_folder.exists()
    assert outbox_head.check_runs(outbox_head.runs_kept([run.run_folder]), []) == []


@pytest.mark.parametrize("place", ["outbox", "run folder"])
def test_a_named_pipe_in_place_of_a_kept_head_is_named_not_waited_on(tmp_path, place):
    # the read waited for a writer forever: `audit --verify` and every approval hung
    if place == "outbox":
        path = tmp_path / "incident=I" / outbox_head.FILE
        path.parent.mkdir()
        os.mkfifo(path)
        found = outbox_head.check(outbox_head.heads_kept(tmp_path), None, [entry(1, "a")])
    else:
        folder = made_run(tmp_path).run_folder
        path = folder / outbox_head.RUN_FILE
        os.mkfifo(path)
        found = outbox_head.check_runs(outbox_head.runs_kept([folder]), [])
    assert found == [
        f"{path}: it is no journal head this product writes (not a file): a decision's record "
        f"was edited in the {place}"
    ]


def test_an_incident_folder_holding_runs_is_no_outbox_folder_made_by_a_head(tmp_path):
    # An outbox given as the runs' output folder: `incident=X/run=...` was taken for a folder a
    # decision made with its first head, its head deleted, and every first decision refused.
    (tmp_path / "incident=INC-A" / "run=20250107T200000000000Z-1a2b3c4d").mkdir(parents=True)
    (tmp_path / "incident=INC-B").mkdir()
    (tmp_path / "incident=INC-C" / "batch=b1").mkdir(parents=True)
    assert outbox_head.incident_folders(tmp_path) == {(tmp_path / "incident=INC-B").resolve()}


@pytest.mark.parametrize("place", ["outbox", "run folder"])
@pytest.mark.parametrize(("key", "edited"), [("event", "approved"), ("run_id", "r9")])
def test_a_kept_head_whose_event_or_run_was_edited_is_named(tmp_path, place, key, edited):
    # Only its seq and hash were compared with the journal: its event or run edited by hand
    # left `audit --verify` clean (exit 0), the record naming a decision never taken.
    if place == "outbox":
        assert outbox_head.record(tmp_path, "I", entry(2, "b")) is None
        path = outbox_head.path_of(tmp_path, "I")
    else:
        run = made_run(tmp_path)
        assert outbox_head.record_run(run, entry(2, "b")) is None
        path = run.run_folder / outbox_head.RUN_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), key: edited}))
    entries = [entry(1, "a"), entry(2, "b")]
    if place == "outbox":
        found = outbox_head.check(outbox_head.heads_kept(tmp_path), None, entries)
    else:
        found = outbox_head.check_runs(outbox_head.runs_kept([path.parent]), entries)
    (finding,) = found
    assert finding.startswith(f"{path} records journal entry 2 (")
    assert "the journal holds it as declined of run r1: edited in the " + place in finding
