"""`credits audit --verify` against the run folders this machine reaches: each sealed run's
`manifest.json` must be the one the warehouse recorded and every output it lists must still have
its sha256, pending, decided or rejected (what finance reviewed, and the evidence behind each
line). Approving checks its own run's folder (`test_finance_faults`).

Each test runs the real flow (Prefect test harness) and approves as `credits approve` does.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.flows.desk import LINES
from transforms.errors import ValidationRejected


def _edit_amount(path):
    path.write_text(path.read_text().replace(",1000,", ",99000,"))


def _drop_last_row(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))


def _add_row(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines, lines[-1].replace("c1", "c9")]))


def _edit_manifest(path):
    content = json.loads(path.read_text())
    content["totals_minor"]["USD"] = 99_000
    path.write_text(json.dumps(content, indent=2))


def _replace(path):
    path.write_bytes(b"PAR1 not the run's evidence PAR1")


CHANGES = {
    # a credit's amount raised in the credit file finance reviewed
    "amount": ("credits.csv", _edit_amount, "credits.csv: does not match its sha256"),
    "row removed": ("credits.csv", _drop_last_row, "credits.csv: does not match its sha256"),
    "row added": ("credits.csv", _add_row, "credits.csv: does not match its sha256"),
    "manifest": ("manifest.json", _edit_manifest, "is not the manifest the warehouse recorded"),
    "evidence": ("evidence.parquet", _replace, "evidence.parquet: does not match its sha256"),
    "exceptions gone": ("exceptions.csv", os.unlink, "exceptions.csv: is missing"),
    "credits gone": ("credits.csv", os.unlink, "credits.csv: is missing"),
}


def audited(desk, code: int) -> str:
    result = desk.cli("audit", "--verify")
    assert result.exit_code == code, result.output
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("change", "decided"),
    [
        *((change, False) for change in sorted(CHANGES)),  # pending approval
        ("amount", True),  # after approval: the record of what finance reviewed and paid
        ("row removed", True),
        ("manifest", True),
        ("evidence", True),
    ],
)
def test_a_run_folder_changed_after_its_seal_is_named_by_audit(desk, change, decided):
    run_id = desk.run()
    if decided:
        desk.approve(run_id)
    audited(desk, 0)  # untouched: nothing to name
    name, edit, named = CHANGES[change]
    edit(desk.folder(run_id) / name)
    said = audited(desk, 3)
    assert f"tampered: run {run_id}: " in said and named in said
    assert "changed after the run was sealed" in said or "edited or replaced" in said


def test_a_rejected_run_s_folder_changed_after_its_seal_is_named_by_audit(desk):
    with pytest.raises(ValidationRejected) as rejected:
        desk.run(lines=[*LINES, "garbage"])
    run_id = rejected.value.summary.run_id
    audited(desk, 0)
    _replace(desk.folder(run_id) / "evidence.parquet")
    said = audited(desk, 3)
    assert f"run {run_id}: " in said and "evidence.parquet: does not match its sha256" in said


def test_a_run_folder_file_swapped_for_a_pipe_is_named_not_read(desk):
    run_id = desk.run()
    path = desk.folder(run_id) / "credits.csv"
    path.unlink()
    os.mkfifo(path)  # a read would wait forever
    said = audited(desk, 3)
    assert f"run {run_id}: " in said and "credits.csv: is not a file" in said


def test_a_run_folder_out_of_reach_is_not_checked_not_named_tampered(desk, tmp_path):
    run_id = desk.run()
    folder = desk.folder(run_id)
    folder.rename(tmp_path / folder.name)  # another machine's output folder
    said = audited(desk, 0)
    assert "not checked" in said and "tampered" not in said


@pytest.mark.parametrize("how", [shutil.copytree, shutil.move])
def test_a_run_folder_put_under_another_incident_is_named_as_a_copy(desk, how):
    # it was named as the other incident's journal_head.json deleted from the outbox, and the
    # restored backup that would hide
    run_id = desk.run()
    desk.approve(run_id)
    folder = desk.folder(run_id)
    other = folder.parent.with_name("incident=INC-OTHER") / folder.name
    how(folder, other)
    said = audited(desk, 3)
    assert f"{other / 'decision.json'} records journal entry" in said
    assert f"a decision on run {run_id} of incident" in said and "a copy of that run's" in said
    assert "journal_head.json is missing" not in said


@pytest.mark.parametrize("where", ["beside it", "under another incident"])
@pytest.mark.parametrize("command", ["approve", "decline"])
def test_a_decision_refuses_a_copied_run_folder_naming_the_copy(desk, where, command):
    # approve named the copy; decline said another incident's journal_head.json was missing
    # (a copy under another incident) or declined as if nothing was wrong (a copy beside it)
    decided = desk.run()
    desk.approve(decided)
    folder = desk.folder(decided)
    if where == "beside it":
        pending = desk.run(policy={"version": "t2"})
        copy = folder.with_name(f"{folder.name}.bak")
    else:
        pending = desk.run(top={"id": "INC-OTHER"})
        copy = desk.folder(pending).parent / folder.name
    shutil.copytree(folder, copy)
    extra = ("--reason", "no") if command == "decline" else ()
    result = desk.cli(command, pending, "--by", "bob", *extra)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 3, result.output
    assert f"{copy / 'decision.json'} records journal entry" in said
    assert f"a decision on run {decided} of incident" in said and "a copy of that run's" in said
    assert "journal_head.json is missing" not in said
    assert desk.status(pending) == "pending_approval"


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        # a credit's amount raised in the warehouse: what approving would pay, what support says
        (
            "update run_credits set credit_amount_minor = 9000, credit_amount = '90.00' "
            "where run_id = $1 and customer_id = 'c1'",
            "its credit lines in the warehouse are not those its sealed manifest records",
        ),
        # an account to pay by hand added: the batch's pay_by_hand.csv is made from these rows
        (
            "insert into run_exceptions (run_id, incident_id, exception, customer_id, currency, "
            "credit_owed_minor) values ($1, 'INC-T', 'closed_account', 'c9', 'USD', 9000)",
            "its exceptions in the warehouse are not those its sealed manifest records",
        ),
    ],
    ids=["credit amount", "exception added"],
)
@pytest.mark.parametrize("decided", [False, True], ids=["pending", "published"])
def test_a_run_s_rows_edited_in_the_warehouse_are_named_by_audit(desk, edit, named, decided):
    # audit --verify said "every chain intact": only an approval of that very run compared its
    # rows with what was sealed
    run_id = desk.run()
    if decided:
        desk.approve(run_id)
    desk.tamper(edit, parameters=(run_id,))
    said = audited(desk, 3)
    assert f"tampered: run {run_id}: {named}" in said
