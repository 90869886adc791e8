"""Approval from a machine that shares only the warehouse and the outbox: the run folder it
cannot reach is not required; the warehouse's sealed record is checked instead, and the
decision and the journal say so. A folder that is there is checked file by file, as always.
Two warehouses approving into one outbox (a DuckDB file copied to a second machine) never
replace each other's batch files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import stores
from transforms.errors import InputError, ProofFailed
from transforms.finance import journal, ledger, outbox, outbox_head, warehouse


def test_a_run_folder_out_of_reach_is_approved_on_the_sealed_record(desk, tmp_path):
    run_id = desk.run()
    folder = desk.folder(run_id)
    folder.rename(tmp_path / "elsewhere")  # as seen from another machine: not there at all
    decision = desk.approve(run_id)
    assert decision.rows == 2 and decision.batch_id
    assert len(decision.notes) == 1 and "not reachable from this machine" in decision.notes[0]
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        approved = [e for e in journal.entries(con) if e.event == "approved"][-1]
    assert approved.detail == {"run_folder_unreachable": str(folder)}


def test_out_of_reach_credit_lines_that_differ_from_the_sealed_manifest_are_refused(desk, tmp_path):
    run_id = desk.run()
    desk.folder(run_id).rename(tmp_path / "elsewhere")
    desk.tamper(
        "update run_credits set credit_amount_minor = 1 where run_id = $1", parameters=(run_id,)
    )
    with pytest.raises(ProofFailed, match="not those its sealed manifest records"):
        desk.approve(run_id)
    assert desk.ledger() == []


def test_a_reachable_folder_without_its_manifest_is_still_refused(desk):
    run_id = desk.run()
    (desk.folder(run_id) / "manifest.json").unlink()
    with pytest.raises(InputError, match="manifest.json: missing"):
        desk.approve(run_id)
    assert desk.ledger() == []


def test_out_of_reach_credit_lines_paid_to_another_customer_are_refused(desk, tmp_path):
    """The same count and totals, another payee: the lines written again as credits.csv are
    not the file the manifest sealed."""
    run_id = desk.run()
    desk.folder(run_id).rename(tmp_path / "elsewhere")
    desk.tamper(
        "update run_credits set customer_id = 'c2' where run_id = $1 and customer_id = 'c1'",
        parameters=(run_id,),
    )
    with pytest.raises(ProofFailed) as refused:
        desk.approve(run_id)
    assert "the same count and totals, but written as credits.csv" in str(refused.value.findings)
    assert desk.ledger() == []


@stores.duckdb_only  # a DuckDB file copied to a second machine: two writers, one outbox
def test_a_batch_another_warehouse_wrote_meanwhile_is_never_replaced(desk, tmp_path, monkeypatch):
    """Two copies of one DuckDB warehouse approve the same run into one shared outbox at once:
    each finds no batch there, commits B001 and writes it. The later writer replaced the first's
    files and its visible batch.json with its own and said it had published the batch (exit
    0); now what is there is kept and the later one is refused (exit 3), naming the file."""
    run_id = desk.run()
    run_folder = desk.folder(run_id)
    copy = tmp_path / "copy.duckdb"
    shutil.copy(desk.warehouse, copy)
    trailer_of = outbox.trailer_of
    theirs: dict[str, bytes] = {}

    def other_machine_first(*args):
        if not theirs:  # this approval wrote its data files; the other one publishes now
            theirs["approving"] = b""
            # as in the moment before this approval kept its journal head and its run's
            # decision, which the other's would find are not its own (`outbox_head`): both
            # committed B001
            (desk.outbox / "incident=INC-T" / outbox_head.FILE).unlink()
            (run_folder / outbox_head.RUN_FILE).unlink()
            ledger.approve(copy, run_id, by="bob", note=None, outbox=desk.outbox)
            folder = desk.outbox / "incident=INC-T" / "batch=INC-T-B001"
            theirs.update({p.name: p.read_bytes() for p in folder.iterdir()})
        return trailer_of(*args)

    monkeypatch.setattr(outbox, "trailer_of", other_machine_first)
    with pytest.raises(ProofFailed) as refused:
        desk.approve(run_id)
    assert "batch.json: already there with other bytes" in str(refused.value)
    folder = desk.outbox / "incident=INC-T" / "batch=INC-T-B001"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        n: b for n, b in theirs.items() if n != "approving"
    }
    assert outbox.read_trailer(folder)["approved_by"] == "bob"
    assert outbox.verify(folder) == []


@stores.duckdb_only  # a DuckDB file copied to a second machine: two ledgers, one outbox
def test_a_batch_a_copy_of_the_warehouse_published_is_named_as_another_warehouse_s(desk, tmp_path):
    """The copy's approval finds the first machine's batch in the shared outbox: refused (exit
    3). It was named only as a batch "its record was deleted", sending finance to look for a
    tamperer instead of at the second warehouse paying the same credits."""
    run_id = desk.run()
    copy = tmp_path / "copy.duckdb"
    shutil.copy(desk.warehouse, copy)
    assert desk.approve(run_id).batch_id == "INC-T-B001"
    with pytest.raises(ProofFailed) as refused:
        ledger.approve(copy, run_id, by="bob", note=None, outbox=desk.outbox)
    finding, head, decided = refused.value.findings
    assert finding.startswith("batch INC-T-B001: in the outbox (")
    assert "or another warehouse published it (a copy of this one" in finding
    assert "or another warehouse decides this incident into this outbox" in head
    assert "or another warehouse decided this run" in decided
    with warehouse.connect(copy, read_only=True) as con:
        assert con.execute("select count(*) from ledger").fetchall() == [(0,)]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_an_audit_names_the_run_folders_it_does_not_reach_as_not_checked(desk, tmp_path):
    # Two machines share the PostgreSQL store, each its own output folder: the audit on one
    # could not look at the other's run folders (their decision.json), and said nothing of it.
    run_id = desk.run()
    ledger.decline(desk.warehouse, run_id, by="bob", reason="no", outbox=desk.outbox)
    output = desk.folder(run_id).parent.parent
    output.rename(tmp_path / "other-machine")  # as seen from this machine: not there at all
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output
    said = one_line(result.stderr)
    assert f"not checked: {output}: the folders of 1 run(s) ({run_id}) are not reachable" in said
    assert "what this machine could not check is named above" in result.stdout


def test_a_decision_this_login_may_not_read_is_not_checked_never_named_edited(desk, monkeypatch):
    # Another machine's login wrote it into a shared output folder this login may not read: it
    # was named "a decision's record was edited" (exit 3), a tamper nobody made.
    declined, result = audited_unread(desk, monkeypatch, outbox_head.RUN_FILE)
    assert result.exit_code == 0, result.output
    said = one_line(result.stderr)
    kept = desk.folder(declined) / outbox_head.RUN_FILE
    assert f"not checked: {kept}: cannot be read on this machine (Permission denied)" in said
    assert "tampered" not in said
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    with pytest.raises(ProofFailed, match="cannot be read on this machine: nothing was paid"):
        desk.approve(newer)  # fail closed: it may name a warehouse restored from a backup
    assert desk.ledger() == []


def test_an_outbox_head_this_login_may_not_read_is_a_finding_of_the_audit(desk, monkeypatch):
    # The outbox is finance's own folder: a head put back that only another login may read hid
    # a restored backup from the audit, which said "not checked" and exited 0.
    _, result = audited_unread(desk, monkeypatch, outbox_head.FILE)
    assert result.exit_code == 3, result.output
    head = outbox_head.path_of(desk.outbox, "INC-T")
    assert f"{head}: cannot be read on this machine (Permission denied)" in one_line(result.stderr)


@pytest.mark.parametrize("unread", [outbox_head.FILE, outbox_head.RUN_FILE])
def test_a_decline_refuses_a_decision_kept_outside_the_warehouse_it_may_not_read(
    desk, monkeypatch, unread
):
    # The approval refused it, the decline went on: the outbox's head, which may name a restored
    # backup, was not checked, and the decline's own head was written over it.
    declined = desk.run()
    ledger.decline(desk.warehouse, declined, by="bob", reason="no", outbox=desk.outbox)
    head = outbox_head.path_of(desk.outbox, "INC-T")
    before = head.read_bytes()
    unreadable(monkeypatch, unread)
    pending = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    with pytest.raises(ProofFailed, match="cannot be read on this machine"):
        ledger.decline(desk.warehouse, pending, by="bob", reason="no", outbox=desk.outbox)
    monkeypatch.undo()
    assert desk.status(pending) == "pending_approval"
    assert head.read_bytes() == before


def audited_unread(desk, monkeypatch, name: str):
    """A run declined, then `credits audit --verify` by a login that may not read the files
    called `name`: the run, what the audit gave."""
    declined = desk.run()
    ledger.decline(desk.warehouse, declined, by="bob", reason="no", outbox=desk.outbox)
    unreadable(monkeypatch, name)
    return declined, desk.cli("audit", "--verify")


def unreadable(monkeypatch, name: str) -> None:
    """Files called `name` refused to this process, as to a login that may not read them."""
    for method in ("read_bytes", "read_text"):
        monkeypatch.setattr(Path, method, refused_for(getattr(Path, method), name))


def refused_for(read, name: str):
    """`read` (a `Path` method), refused for files called `name` as to a login that may not
    read them."""

    def refused(path, *args, **kwargs):
        if path.name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return read(path, *args, **kwargs)

    return refused
