"""The outbox batch carries what finance pays by hand: `decreases.csv`, `pay_by_hand.csv` (the
run's closed accounts, what is left to pay of each), both covered by the trailer's hashes; a
closed account is never paid twice, by hand or by the ledger; older batches still verify."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests import stores
from tests.builders import customer
from tests.flows.desk import approve_killed_writing
from transforms.finance import outbox

CLOSED_C1 = [customer("c1", status="closed"), customer("c2"), customer("c3")]


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _by_hand(decision) -> list[tuple[str, str, str, str]]:
    rows = _rows(decision.batch_folder / "pay_by_hand.csv")
    return [
        (r["customer_id"], r["credit_owed_minor"], r["paid_minor"], r["to_pay_minor"]) for r in rows
    ]


def test_a_closed_account_is_in_the_batch_to_pay_by_hand_covered_by_the_trailer(desk):
    decision = desk.approve(desk.run(customers=CLOSED_C1))
    assert decision.rows == 1 and decision.pay_by_hand == 1
    assert _by_hand(decision) == [("c1", "1000", "0", "1000")]
    assert _rows(decision.batch_folder / "pay_by_hand.csv")[0]["to_pay"] == "10.00"
    trailer = json.loads((decision.batch_folder / "batch.json").read_text())
    assert sorted(trailer["files"]) == ["credits.csv", "decreases.csv", "pay_by_hand.csv"]
    assert not (decision.batch_folder / "exceptions.csv").exists()
    assert outbox.verify(decision.batch_folder) == []
    assert desk.cli("audit", "--verify").exit_code == 0
    # the same run again: nothing new to pay by hand, no batch
    assert desk.approve(desk.run(customers=CLOSED_C1)).batch_id is None
    # edited by hand: the trailer and the audit say so
    path = decision.batch_folder / "pay_by_hand.csv"
    path.write_text(path.read_text().replace(",1000,", ",100000,"))
    assert outbox.verify(decision.batch_folder)[0].startswith("pay_by_hand.csv: sha256 is")
    audit = desk.cli("audit", "--verify")
    assert audit.exit_code == 3 and "pay_by_hand.csv: sha256" in audit.stderr


def test_a_paid_customer_whose_account_closes_is_not_paid_again_by_hand(desk):
    desk.approve(desk.run())
    decision = desk.approve(desk.run(customers=CLOSED_C1), accept_decreases=True)
    assert decision.decreases == 1 and decision.rows == 0
    assert _by_hand(decision) == [("c1", "1000", "1000", "0")]
    assert _rows(decision.batch_folder / "decreases.csv")[0]["customer_id"] == "c1"
    assert desk.paid()[("c1", "USD")] == 1000


def test_a_closed_account_listed_by_hand_then_reopened_is_not_paid_again(desk):
    desk.approve(desk.run(customers=CLOSED_C1))
    run_id = desk.run()
    assert ": no change" in desk.cli("diff", run_id).stdout.splitlines()[0]
    decision = desk.approve(run_id)
    assert decision.batch_id is None
    assert ("c1", "USD") not in desk.paid()


def test_a_closed_account_owed_less_than_listed_by_hand_is_named_before_approval(desk):
    # listed USD 20.00 to pay by hand, then a lower policy owes it USD 10.00: no payment, no
    # decrease and no batch, so finance saw it nowhere ("no change")
    desk.approve(desk.run(customers=CLOSED_C1, policy={"flat_minor": {"USD": 2000, "EUR": 900}}))
    sealed = desk.sealed(customers=CLOSED_C1)
    run_id = sealed.run_id
    assert sealed.nothing_new.listed_beyond == 1  # it said only "nothing new to pay"
    beyond = "c1 USD: listed USD 20.00 to pay by hand, owed USD 10.00 now (USD 10.00 beyond)"
    for command in (("diff", run_id), ("approve", run_id, "--dry-run")):
        shown = desk.cli(*command).stdout
        assert "1 closed account(s) listed to pay by hand beyond what" in shown, shown
        assert beyond in shown, shown
    assert json.loads(desk.cli("diff", run_id, "--format", "json").stdout)["listed_beyond"] == [
        {"customer_id": "c1", "currency": "USD", "listed_minor": 2000, "to_pay_minor": 1000}
    ]
    # a customer with a credit line again is the diff's own line: not named twice
    assert "listed to pay by hand beyond" not in desk.cli("diff", desk.run()).stdout


def test_a_batch_written_before_the_files_were_renamed_still_verifies(desk, monkeypatch):
    # as the version that wrote such batches: no sha256 of the files in the journal
    monkeypatch.setattr(outbox, "digests", lambda con, batch_id: None)
    decision = desk.approve(desk.run())
    folder = decision.batch_folder
    (folder / "decreases.csv").rename(folder / "exceptions.csv")
    (folder / "pay_by_hand.csv").unlink()
    trailer = json.loads((folder / "batch.json").read_text())
    trailer["files"] = {n: trailer["files"].get(n) for n in ("credits.csv",)}
    trailer["files"]["exceptions.csv"] = outbox.files.sha256(folder / "exceptions.csv")
    (folder / "batch.json").write_text(json.dumps(trailer, indent=2, sort_keys=True) + "\n")
    assert outbox.verify(folder) == []
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output


def test_verify_batch_of_a_folder_that_is_no_batch_lists_the_batches_below_it(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    box = tmp_path / "outbox"
    for batch in ("INC-A-B001", "INC-A-B002"):
        (box / "incident=INC-A" / f"batch={batch}").mkdir(parents=True)
        (box / "incident=INC-A" / f"batch={batch}" / "batch.json").write_text("{}")
    listed = f"{box}/incident=INC-A/batch=INC-A-B001, {box}/incident=INC-A/batch=INC-A-B002"
    for given, what in [
        (box, f"{box}: not a batch folder (no batch.json); the batch folders below {box}: "),
        (box / "nope", f"{box}/nope: no such folder; the batch folders below {box}: "),
    ]:
        result = CliRunner().invoke(app, ["verify-batch", str(given)])
        assert result.exit_code == 2, result.output
        assert " ".join(result.stderr.split()) == f"error: {what}{listed}"
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(app, ["verify-batch", str(tmp_path / "empty" / "nope")])
    assert f"no batch folder below {tmp_path / 'empty'}" in " ".join(empty.stderr.split())
    # a file of a batch: it said "no such folder" of a file that is there
    folder = box / "incident=INC-A" / "batch=INC-A-B001"
    (folder / "credits.csv").write_text("")
    a_file = CliRunner().invoke(app, ["verify-batch", str(folder / "credits.csv")])
    assert " ".join(a_file.stderr.split()) == (
        f"error: {folder}/credits.csv: a file, not a batch folder; give its folder: {folder}"
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"batch_id": "INC-A-B001", ', "batch.json: not valid JSON"),
        ("[1, 2]", "batch.json: not a batch trailer (a JSON object), but [1, 2]"),
        ("{}", "batch_id: missing from the trailer"),
    ],
    ids=["not-json", "not-an-object", "no-fields"],
)
def test_verify_batch_of_a_batch_whose_trailer_is_no_trailer_names_it_tampered(
    tmp_path, monkeypatch, text, named
):
    # A batch folder of the outbox whose batch.json was edited into no JSON exited 2, a
    # usage error's code, where a batch that does not prove itself exits 3.
    from typer.testing import CliRunner

    from flows.cli import app

    folder = tmp_path / "outbox" / "incident=INC-A" / "batch=INC-A-B001"
    folder.mkdir(parents=True)
    (folder / "batch.json").write_text(text)
    monkeypatch.chdir(tmp_path)  # no warehouse here: checked against its own trailer
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    result = CliRunner().invoke(app, ["verify-batch", str(folder)])
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert named in said, said
    assert "Traceback" not in result.output


def test_verify_batch_of_a_batch_whose_trailer_is_a_named_pipe_names_it_tampered(
    tmp_path, monkeypatch
):
    # It said "not final (no batch.json)" (exit 2) of a trailer swapped for a pipe, which
    # `audit --verify` names as replaced (exit 3).
    import os

    from typer.testing import CliRunner

    from flows.cli import app

    folder = tmp_path / "outbox" / "incident=INC-A" / "batch=INC-A-B001"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "batch.json")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    result = CliRunner().invoke(app, ["verify-batch", str(folder)])
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert f"{folder}/batch.json: not a regular file" in said, said


def test_verify_batch_without_a_warehouse_names_where_it_looked(tmp_path, monkeypatch):
    # run from another folder it said "no warehouse at data/warehouse.duckdb": not where
    from typer.testing import CliRunner

    from flows.cli import app
    from transforms.finance import proof

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CREDITS_WAREHOUSE", raising=False)
    monkeypatch.setattr(proof, "verify_batch", lambda *_: proof.BatchVerified([], False))
    result = CliRunner().invoke(app, ["verify-batch", "b"])
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == (
        f"b: verified against its own trailer only: no warehouse at "
        f"{tmp_path}/data/warehouse.duckdb (data/warehouse.duckdb, relative to the current "
        "folder) to check it against the journal; give it as --warehouse PATH (or set "
        "CREDITS_WAREHOUSE)"
    )


def test_a_killed_writer_s_temporary_file_in_a_batch_is_named_as_a_warning(desk):
    # Each writer's temporary file has a name of its own: one SIGKILL left stays in the batch's
    # folder for good (a copy of payment data), which nothing named.
    folder = desk.approve(desk.run()).batch_folder
    left = folder / f".pay_by_hand.csv.{'0' * 32}.tmp"
    left.write_text("customer_id,to_pay_minor\nc1,1000\n")
    (folder / ".credits.csv.tmp").write_text("")  # not a name a writer gives: not named
    for args in (["verify-batch", str(folder)], ["audit", "--verify"]):
        result = desk.cli(*args)
        assert result.exit_code == 0, result.output  # a warning: the batch proves itself
        said = " ".join(result.stderr.split())
        assert f"warning: {folder}: {left.name} is what a writer killed while it wrote" in said
        assert "safe to delete now that batch.json is there, once no approval is running" in said
        assert said.count("warning:") == 1
    left.unlink()
    assert "warning" not in desk.cli("verify-batch", str(folder)).stderr


def test_verify_batch_from_inside_the_batch_folder_verifies_it(desk, monkeypatch):
    # `cd` into the batch, then `credits verify-batch .` (or `batch.json`, as its help offers):
    # the folder's name read as "" made an intact batch a mismatch, exit 3 ("its folder is
    # named "), a tamper alarm for nothing.
    folder = desk.approve(desk.run()).batch_folder
    monkeypatch.chdir(folder)
    for given in (".", "batch.json", f"../{folder.name}/."):
        result = desk.cli("verify-batch", given)
        assert result.exit_code == 0, (given, result.output)
        assert "verified, and it is the batch the journal recorded" in result.stdout


def test_verify_batch_of_a_copy_or_a_link_under_a_plain_name_verifies_it(desk, tmp_path):
    # finance copies batches out of the outbox (as docs/finance.md asks) or links one: a folder
    # named `today` or `pu_batchlink` was a tamper alarm, exit 3 ("its folder is named today").
    folder = desk.approve(desk.run()).batch_folder
    copy = tmp_path / "picked up" / "today"
    shutil.copytree(folder, copy)
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    for given in (copy, link, tmp_path / "picked up" / ".." / "picked up" / "today"):
        result = desk.cli("verify-batch", str(given))
        assert result.exit_code == 0, (given, result.output)
        assert "verified, and it is the batch the journal recorded" in result.stdout
    # the negative case: a name of the outbox's layout that is another batch's is still named
    other = tmp_path / "batch=INC-T-B009"
    other.symlink_to(folder, target_is_directory=True)
    misnamed = desk.cli("verify-batch", str(other))
    assert misnamed.exit_code == 3, misnamed.output
    assert "the folder is batch=INC-T-B009, the trailer says INC-T-B001" in misnamed.stderr


def test_verify_batch_of_another_warehouse_s_batch_says_so_not_that_this_one_was_edited(desk):
    # A batch of the same incident approved on another warehouse (same id, B001) was ten
    # findings of tampering here ("the batch's record was edited", "the journal was rewritten");
    # its run is one this warehouse never saw: that is what to say.
    folder = desk.approve(desk.run()).batch_folder
    trailer = json.loads((folder / "batch.json").read_text())
    head = trailer["journal_head"]
    trailer["run_id"] = "20260101T000000000000Z-0000beef"
    trailer["journal_head"] = "f" * 64  # another warehouse's journal
    (folder / "batch.json").write_text(json.dumps(trailer))
    result = desk.cli("verify-batch", str(folder))
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert (
        "mismatch: batch INC-T-B001: of run 20260101T000000000000Z-0000beef, which this "
        "warehouse does not know: the batch is another warehouse's (give that one as "
        "--warehouse), or its trailer was edited" in said
    )
    assert said.count("mismatch:") == 1
    # Its run edited alone, the trailer still rests on this journal: this batch edited, and
    # every check still runs (the file hashes, the record's fields), not the one finding.
    trailer["journal_head"] = head
    (folder / "batch.json").write_text(json.dumps(trailer))
    edited = desk.cli("verify-batch", str(folder))
    assert edited.exit_code == 3, edited.output
    said = " ".join(edited.stderr.split())
    assert "which this warehouse does not know" not in said
    assert "run_id" in said, said


@stores.duckdb_only
def test_credits_outbox_is_the_outbox_of_every_decision_command(desk, monkeypatch):
    # Set once on each machine that shares the outbox, as CREDITS_WAREHOUSE is: a mistyped
    # --outbox on one command made a new outbox and published there.
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.chdir(desk.root)  # the default outbox, data/outbox, would be made here
    shared = {"CREDITS_OUTBOX": f" {desk.outbox}\n"}  # a .env line's blanks
    where = ["--warehouse", str(desk.warehouse)]
    run_id = desk.run()
    approved = CliRunner().invoke(app, ["approve", run_id, "--by", "alice", *where], env=shared)
    assert approved.exit_code == 0, approved.output
    assert str(desk.outbox) in approved.output
    assert len(list(desk.outbox.glob("*/*/batch.json"))) == 1
    assert not (desk.root / "data" / "outbox").exists()
    audited = CliRunner().invoke(app, ["audit", "--verify", *where], env=shared)
    assert audited.exit_code == 0, audited.output
    said = " ".join(audited.output.split())
    assert "1 published batch(es) against their trailers" in said and "elsewhere" not in said


@pytest.mark.parametrize(
    ("given", "outbox"),
    [(" ", "data/outbox"), (" /shared/outbox\n", "/shared/outbox"), ("box", "box")],
)
def test_the_outbox_given_drops_blanks_and_a_blank_one_is_the_default(given, outbox):
    # `CREDITS_OUTBOX=" "` published into the current folder (Path("")), where the flow's own
    # approval took the default (`settings.outbox_default`); `--outbox " "` typed is refused
    # (tests/flows/test_cli.py)
    from flows.settings import outbox_given

    assert outbox_given(given) == Path(outbox)


def _killed_after_the_first_file(write_once, final, data):
    write_once(final, data)
    raise KeyboardInterrupt


def _killed_mid_batch(desk, monkeypatch) -> Path:
    """A run's approval killed (SIGKILL's moment) once its batch's first file is written, no
    trailer: the batch's folder."""

    folder = approve_killed_writing(desk, monkeypatch, desk.run(), _killed_after_the_first_file)
    assert (folder / "credits.csv").exists() and not (folder / outbox.TRAILER).exists()
    return folder


def test_verify_batch_of_a_batch_an_approval_left_unfinished_says_the_next_approval_finishes(
    desk, monkeypatch
):
    # verify-batch said only "not a batch folder (no batch.json)" of the very folder an approval
    # killed while it wrote the batch left, and not what to do
    folder = _killed_mid_batch(desk, monkeypatch)
    result = desk.cli("verify-batch", str(folder))
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert f"{folder}: batch INC-T-B001 is not final (no batch.json)" in message
    assert "nothing in it may be picked up" in message
    assert "the next approval (.venv/bin/credits approve RUN_ID --by NAME" in message
    assert "finishes it first, paying nothing twice" in message
    assert desk.approve(desk.run()).batch_id is None  # which it does
    assert desk.cli("verify-batch", str(folder)).exit_code == 0


def test_verify_batch_of_a_published_batch_whose_trailer_was_deleted_says_so(desk):
    # verify-batch called a published batch whose batch.json was deleted "not final ... the next
    # approval finishes it" (exit 2), where the next approval refuses it as tampered (exit 3)
    folder = desk.approve(desk.run()).batch_folder
    (folder / outbox.TRAILER).unlink()
    result = desk.cli("verify-batch", str(folder))
    assert result.exit_code == 3, result.output
    message = " ".join(result.stderr.split())
    assert "batch INC-T-B001: its trailer batch.json is missing, but the warehouse records" in (
        message
    )
    assert "published" in message and "not final" not in message


def test_runs_names_a_published_run_whose_batch_an_approval_left_unfinished(desk, monkeypatch):
    # `credits runs` showed the run "published", as if its batch were in the outbox
    _killed_mid_batch(desk, monkeypatch)
    result = desk.cli("runs", "--wide")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "published approved by alice" in said
    assert "batch INC-T-B001 unfinished (not in the outbox: approve again)" in said
    desk.approve(desk.run())  # finishes it
    assert "unfinished" not in desk.cli("runs", "--wide").output


def _killed_after_the_trailer(write_once, final, data):
    write_once(final, data)
    if final.name == outbox.TRAILER:
        raise KeyboardInterrupt


def test_runs_names_a_batch_final_in_the_outbox_not_yet_marked_published(desk, monkeypatch):
    # an approval killed once its trailer was written: `credits runs` said the batch was "not in
    # the outbox: approve again", where finance may already have picked it up
    folder = approve_killed_writing(desk, monkeypatch, desk.run(), _killed_after_the_trailer)
    assert (folder / outbox.TRAILER).exists()
    said = " ".join(desk.cli("runs", "--wide").output.split())
    assert "not in the outbox" not in said
    assert (
        f"batch INC-T-B001 final in the outbox ({folder}), not marked published yet (approve "
        "again: it only marks it)"
    ) in said


def test_an_approval_refused_after_finishing_an_unfinished_batch_says_it_finished_it(
    desk, monkeypatch
):
    # the refusal (a superseded run) said only why, though the approval had first finished the
    # batch a stopped approval left, into the outbox: finance did not learn it was there
    older = desk.run()

    folder = approve_killed_writing(desk, monkeypatch, desk.run(), _killed_after_the_first_file)
    result = desk.cli("approve", older, "--by", "alice")
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert "note: finished batch INC-T-B001 (run " in said and f"it is in {folder}" in said
    assert said.index("note: finished batch") < said.index("error: run") and "superseded" in said
    assert (folder / outbox.TRAILER).exists()


def test_an_approval_that_loses_the_store_after_finishing_an_unfinished_batch_says_so(
    desk, monkeypatch
):
    # the store refused the approval's last commit (a full disk): it said that nothing was
    # committed, and not that it had first finished, into the outbox, the batch a stopped
    # approval left
    import errno
    from contextlib import contextmanager

    from transforms.finance import warehouse

    folder = _killed_mid_batch(desk, monkeypatch)
    run_id = desk.run()
    kept = warehouse.writer

    @contextmanager
    def full(location, *args, **kwargs):
        with kept(location, *args, **kwargs) as con:
            yield con
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse, "writer", full)
    result = desk.cli("approve", run_id, "--by", "alice")
    monkeypatch.undo()
    assert result.exit_code == 4, result.output
    said = " ".join(result.stderr.split())
    assert "note: finished batch INC-T-B001 (run " in said and f"it is in {folder}" in said
    assert said.index("note: finished batch") < said.index("error:")
    assert (folder / outbox.TRAILER).exists()
