"""A warehouse restored from an older backup: what it no longer records (a decline, an approval
that paid nothing new) is still in the outbox, which names it. And a batch's record edited
where no trailer field names it (its folder, its publication time, its heads set to NULL).

Each test starts from the desk's cached runs (`tests/flows/desk_runs.py`)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import stores
from transforms.errors import ProofFailed
from transforms.finance import ledger, outbox, outbox_head


def backed_up(desk):
    """A backup of the desk's warehouse as it is now; calling what is returned restores it (a
    copy of the PostgreSQL database the desk is then pointed at)."""
    if stores.kind(desk.warehouse) == "duckdb":
        path = Path(desk.warehouse)
        backup = path.with_name("backup.duckdb")
        shutil.copy2(path, backup)

        def restore() -> None:
            Path(f"{path}.wal").unlink(missing_ok=True)
            shutil.copy2(backup, path)

        return restore
    name = str(desk.warehouse).rsplit("/", 1)[-1]
    copy = desk._databases.enter_context(stores.database(stores.server(), template=name))

    def restore() -> None:
        desk.warehouse = copy

    return restore


def test_a_decline_undone_by_restoring_a_backup_is_named_and_the_run_is_never_paid(desk):
    run_id = desk.run()
    restore = backed_up(desk)
    ledger.decline(desk.warehouse, run_id, by="bob", reason="window not final", outbox=desk.outbox)
    restore()
    assert desk.status(run_id) == "pending_approval"  # the backup knows no decline
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert "journal_head.json records journal entry" in said
    assert "the warehouse is older than the outbox" in said
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)
    assert desk.ledger() == []
    result = desk.cli("decline", run_id, "--by", "carol", "--reason", "again")
    assert result.exit_code == 3, result.output  # nor is the outbox's record overwritten


@pytest.mark.parametrize("outbox_record", ["deleted", "not shared"])
def test_a_decline_undone_without_the_outbox_s_record_is_named_by_the_run_folder(
    desk, tmp_path, outbox_record
):
    # the outbox's journal_head.json deleted by hand, or the decline given another machine's
    # outbox: the run folder keeps the decision too, and the restored warehouse lacks it
    run_id = desk.run()
    restore = backed_up(desk)
    elsewhere = tmp_path / "other-outbox"
    elsewhere.mkdir()
    declined_into = desk.outbox if outbox_record == "deleted" else elsewhere
    ledger.decline(desk.warehouse, run_id, by="bob", reason="not final", outbox=declined_into)
    (desk.outbox / "incident=INC-T" / outbox_head.FILE).unlink(missing_ok=True)
    restore()
    assert desk.status(run_id) == "pending_approval"  # the backup knows no decline
    said = audited(desk)
    assert f"{desk.folder(run_id) / outbox_head.RUN_FILE} records journal entry" in said
    assert "(declined of run " in said
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)
    assert desk.ledger() == []
    result = desk.cli("decline", run_id, "--by", "carol", "--reason", "again")
    assert result.exit_code == 3, result.output


def test_a_warehouse_that_decided_after_the_outbox_s_record_verifies_and_approves(desk):
    run_id = desk.run()
    ledger.decline(desk.warehouse, run_id, by="bob", reason="window not final", outbox=desk.outbox)
    again = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    decision = desk.approve(again)
    assert decision.batch_id is not None
    assert desk.cli("audit", "--verify").exit_code == 0


class Stopped(Exception):
    """The command stopped at this point, as a SIGKILL would stop it (nothing after it runs)."""


def decided_until(desk, monkeypatch, decision: str, run_id: str, stopped_at: str) -> None:
    """`decision` ("decline" or "approve") on `run_id`, stopped (`Stopped`) as it calls
    `outbox_head.<stopped_at>`, after its commit."""

    def stopped(*args):
        raise Stopped

    monkeypatch.setattr(outbox_head, stopped_at, stopped)  # the desk sees it: no remembered step
    with pytest.raises(Stopped):
        if decision == "decline":
            ledger.decline(desk.warehouse, run_id, by="bob", reason="x", outbox=desk.outbox)
        else:
            desk.approve(run_id)
    monkeypatch.undo()


@pytest.mark.parametrize("decision", ["decline", "approve"])
def test_a_decision_stopped_before_its_journal_head_gets_it_from_its_resumption(
    desk, monkeypatch, decision
):
    # Stopped (killed) after its commit, before journal_head.json: the decision was run again,
    # as a stopped command is, and answered "already decided" without keeping the head. A
    # backup older than the decision, restored, then had the declined run pending and approved
    # (the approval, of a run that pays nothing new, leaves no batch trailer to tell either).
    if decision == "approve":
        desk.approve(desk.run())
    run_id = desk.run()
    restore = backed_up(desk)
    decided_until(desk, monkeypatch, decision, run_id, stopped_at="keep")
    head = outbox_head.path_of(desk.outbox, "INC-T")

    def kept_for() -> str | None:
        kept = outbox_head.read(head)
        return kept.run_id if isinstance(kept, outbox_head.Head) else None

    assert kept_for() != run_id  # stopped before it kept its head
    if decision == "decline":
        ledger.decline(desk.warehouse, run_id, by="bob", reason="x", outbox=desk.outbox)
    else:
        assert desk.approve(run_id).already_decided
    assert kept_for() == run_id
    restore()
    assert desk.status(run_id) == "pending_approval"  # the backup knows no decision
    # the outbox's head alone: the run folder's decision (`decision.json`) out of reach
    (desk.folder(run_id) / outbox_head.RUN_FILE).unlink()
    with pytest.raises(ProofFailed, match="is not the one that last decided"):
        ledger.decline(desk.warehouse, run_id, by="carol", reason="again", outbox=desk.outbox)
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)


def audited(desk) -> str:
    """`credits audit --verify` on the desk, which must exit 3: what it said, on one line."""
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("tampering", "named"),
    [
        (
            "update batches set folder = '/srv/elsewhere'",
            "the warehouse records folder '/srv/elsewhere', journal entry 4 recorded '",
        ),
        ("update batches set published_at = null", "published, but the warehouse records no time"),
        (
            "update batches set published_at = created_at - interval '1 day'",
            "published before it was committed",
        ),
        ("update batches set journal_head = null", "the warehouse records journal_head None"),
        ("update batches set ledger_head = null", "the warehouse records ledger_head None"),
    ],
    ids=["folder", "published_at-null", "published_at-early", "journal_head", "ledger_head"],
)
def test_a_batch_record_edited_where_no_trailer_field_shows_it_is_named(desk, tampering, named):
    decision = desk.approve(desk.run())
    desk.tamper(tampering)
    assert f"batch {decision.batch_id}: " in audited(desk)
    assert named in audited(desk)
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


@pytest.mark.parametrize(
    "moved",
    [
        "update batches set published_at = published_at + interval '1 hour' where batch_id = $1",
        "update batches set published_at = created_at where batch_id = $1",
    ],
    ids=["later", "to-the-commit"],
)
def test_a_publication_time_moved_within_its_range_is_named_once_an_approval_followed(desk, moved):
    # after its commit, so no order shows it: the next approval journaled the time it found
    first = desk.approve(desk.run())
    desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    desk.tamper(moved, parameters=(first.batch_id,))
    said = audited(desk)
    assert f"batch {first.batch_id}: the warehouse records it published at " in said
    assert "(the next approval) recorded " in said
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 2000, "EUR": 1200}}))


def test_a_clock_set_back_while_a_batch_is_written_is_not_read_as_an_edit(desk, monkeypatch):
    # the batch is committed, then the machine's clock steps back before it is marked published
    class SetBack(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2020, 1, 1, tzinfo=UTC)

    monkeypatch.setattr(outbox, "datetime", SetBack)
    desk.approve(desk.run())
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("recorded", "named"), [(True, 1), (False, 0)])
def test_a_publication_time_before_the_commit_is_named_only_for_this_version_s_batches(
    recorded, named
):
    # an earlier version stamped the finishing machine's clock, which may be a little behind
    from types import SimpleNamespace

    from transforms.finance import batch_records
    from transforms.finance.rows import BatchState

    created = datetime(2025, 1, 8, 12, 0, 0, tzinfo=UTC)
    batch = SimpleNamespace(
        batch_id="b1",
        folder=Path("/outbox/incident=I/batch=b1"),
        state=BatchState.PUBLISHED,
        created_at=created,
        published_at=created.replace(second=0, minute=0, hour=11, microsecond=0),
    )
    detail = {"batch_id": "b1", **({"folder": str(batch.folder)} if recorded else {})}
    entry = SimpleNamespace(seq=4, event="published", detail=detail)
    found = batch_records.committed([entry], [batch])
    assert len(found) == named
    assert all("published before it was committed" in f for f in found)


def test_a_decline_given_an_outbox_whose_folder_does_not_exist_makes_none_and_says_so(
    desk, tmp_path
):
    run_id = desk.run()
    nowhere = tmp_path / "elsewhere" / "data" / "outbox"  # the default, from another folder
    result = desk.cli("decline", run_id, "--by", "bob", "--reason", "r", "--outbox", str(nowhere))
    assert result.exit_code == 0, result.output
    assert "no such outbox folder, so the journal head is not kept" in " ".join(
        result.stderr.split()
    )
    assert not (tmp_path / "elsewhere").exists()
    assert desk.status(run_id) == "declined"


def test_a_backup_from_before_a_declined_run_is_named_by_its_folder_beside_the_others(
    desk, tmp_path
):
    # The decline went to another machine's outbox (or the outbox's record was deleted), and
    # the backup restored predates the declined run: its row is gone, so its folder's
    # decision.json was never looked at; `audit --verify` exited 0 and approval paid.
    first = desk.run()
    restore = backed_up(desk)
    second = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    elsewhere = tmp_path / "other-outbox"
    elsewhere.mkdir()
    ledger.decline(desk.warehouse, second, by="bob", reason="no", outbox=elsewhere)
    restore()
    assert desk.query("select count(*) from runs where run_id = $1", second) == [(0,)]
    said = audited(desk)
    assert f"run={second}/decision.json records journal entry" in said
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(first)
    assert desk.paid() == {}


@pytest.mark.parametrize("decision", ["decline", "approve"])
def test_a_decision_stopped_before_the_run_folder_s_record_gets_it_from_its_resumption(
    desk, monkeypatch, decision
):
    run_id = desk.run()
    decided_until(desk, monkeypatch, decision, run_id, stopped_at="keep_run")
    kept = desk.folder(run_id) / outbox_head.RUN_FILE
    assert not kept.exists()
    if decision == "decline":
        ledger.decline(desk.warehouse, run_id, by="bob", reason="x", outbox=desk.outbox)
    else:
        assert desk.approve(run_id).already_decided
    head = outbox_head.read(kept)
    assert isinstance(head, outbox_head.Head) and head.run_id == run_id
    assert head.event == ("declined" if decision == "decline" else "published")


def test_a_backup_from_before_an_incident_s_first_run_is_named_by_that_run_s_decision(
    desk, tmp_path
):
    # The backup lists no run of INC-U (its run came after it), and the decline went to
    # another machine's outbox: no folder of INC-U was looked beside, and `audit --verify`
    # exited 0 on a warehouse missing a decision.
    first = desk.run()
    restore = backed_up(desk)
    other = desk.run(top={"id": "INC-U"})
    elsewhere = tmp_path / "other-outbox"
    elsewhere.mkdir()
    ledger.decline(desk.warehouse, other, by="bob", reason="no", outbox=elsewhere)
    restore()
    assert desk.query("select count(*) from runs where incident_id = 'INC-U'") == [(0,)]
    said = audited(desk)
    assert f"incident=INC-U/run={other}/decision.json records journal entry" in said
    result = desk.cli("approve", first, "--dry-run")  # an approval checks its incident's
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("before", ["no decision", "a batch", "a decline"])
def test_a_decline_undone_with_both_its_records_deleted_is_refused_by_what_remains(desk, before):
    # journal_head.json and decision.json deleted, then a backup from before the decline
    # restored: the declined run was pending again and approved. What remains says a head was
    # kept: the incident's folder in the outbox (made with its first head), a batch trailer or
    # an earlier run's decision.json (each written after the head; the last names the outbox).
    if before == "a batch":
        desk.approve(desk.run())
    if before == "a decline":
        first = desk.run()  # before the warehouse is named: a restored step may change it
        ledger.decline(desk.warehouse, first, by="bob", reason="no", outbox=desk.outbox)
    run_id = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    paid = desk.paid()
    restore = backed_up(desk)
    ledger.decline(desk.warehouse, run_id, by="bob", reason="not final", outbox=desk.outbox)
    (desk.outbox / "incident=INC-T" / outbox_head.FILE).unlink()
    (desk.folder(run_id) / outbox_head.RUN_FILE).unlink()
    if before == "a decline":
        (desk.outbox / "incident=INC-T").rmdir()  # the incident's whole folder
    restore()
    assert desk.status(run_id) == "pending_approval"  # the backup knows no decline
    said = audited(desk)
    assert f"{desk.outbox / 'incident=INC-T' / outbox_head.FILE} is missing" in said
    with pytest.raises(ProofFailed, match="nothing was paid") as refused:
        desk.approve(run_id)
    assert "journal_head.json is missing" in " ".join(refused.value.findings)
    assert desk.paid() == paid
    result = desk.cli("decline", run_id, "--by", "carol", "--reason", "again")
    assert result.exit_code == 3, result.output  # no head kept for the restored warehouse


def test_a_journal_head_deleted_from_a_warehouse_never_restored_is_kept_again_by_its_decision(
    desk,
):
    # fail closed on the head that should be there; the incident's last decision, taken again
    # on the warehouse finance knows is the real one, keeps it anew
    declined = desk.run()
    ledger.decline(desk.warehouse, declined, by="bob", reason="no", outbox=desk.outbox)
    (desk.outbox / "incident=INC-T" / outbox_head.FILE).unlink()
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    with pytest.raises(ProofFailed) as refused:
        desk.approve(newer)
    (finding,) = refused.value.findings
    assert f"run decline of run {declined}, its last decision on INC-T, again" in finding
    result = desk.cli("decline", declined, "--by", "bob", "--reason", "no")
    assert result.exit_code == 0, result.output
    assert desk.approve(newer).batch_id == "INC-T-B001"
    assert desk.cli("audit", "--verify").exit_code == 0


def test_a_batch_finished_by_an_approval_then_refused_keeps_its_head_first(desk, monkeypatch):
    # The approval that committed the batch was stopped before its head; the next approval
    # finished the batch (its trailer in the incident's folder), then refused its own run: the
    # trailer without a head read as a head deleted, and every approval was refused.
    from transforms.errors import ConfigError

    older = desk.run()
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    decided_until(desk, monkeypatch, "approve", newer, stopped_at="keep")
    with pytest.raises(ConfigError, match="superseded"):
        desk.approve(older)  # finishes the batch left writing first
    assert (desk.outbox / "incident=INC-T" / "batch=INC-T-B001" / outbox.TRAILER).is_file()
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output


def test_a_run_pointed_at_a_copy_of_its_folder_elsewhere_is_named_and_refused(desk, tmp_path):
    # A run's folder, in the warehouse, moved to a copy of it made before its decline: its
    # own folder's decision.json (the decline's witness) was no longer looked at, and nothing
    # said the row pointed elsewhere (the copy's manifest and outputs are the sealed ones).
    run_id = desk.run()
    own = desk.folder(run_id)
    copy = tmp_path / "elsewhere" / own.parent.name / own.name
    shutil.copytree(own, copy)
    desk.tamper("update runs set run_folder = $1 where run_id = $2", parameters=(str(copy), run_id))
    said = audited(desk)
    assert f"run {run_id}: its folder in the warehouse is {copy}" in said, said
    assert f"not the folder {own} journal entry" in said
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)
    assert desk.paid() == {}
