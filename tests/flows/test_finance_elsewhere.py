"""Approval from a machine that shares only the warehouse and the outbox: the run folder it
cannot reach is not required; the warehouse's sealed record is checked instead, and the
decision and the journal say so. A folder that is there is checked file by file, as always."""

from __future__ import annotations

import pytest

from transforms.errors import InputError, ProofFailed
from transforms.finance import journal, warehouse


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
