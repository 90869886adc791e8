"""Finance's handoff under faults and tampering: a superseded run is refused, a run without its
sealed manifest is never approved, the ledger and the journal prove themselves against the
outbox's trailers, a visible trailer never changes, a refusing machine gets a clear message.

Each test runs the real flow (Prefect test harness) and approves as `credits approve` does.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

import duckdb
import pytest

from tests import stores
from tests.builders import customer, failure, txn
from tests.flows.desk import run_on_a_fast_clock
from transforms import commands, db, files
from transforms.errors import ConfigError, InputError, ProofFailed, StorageError
from transforms.finance import (
    chain,
    journal,
    ledger,
    ledger_entries,
    outbox,
    publication,
    warehouse,
)
from transforms.runfolder import manifest
from transforms.serving import analysis, support

LOWER = {"flat_minor": {"USD": 500, "EUR": 900}}  # run L of the issue: a lowered policy


def audited(desk, code: int = 3) -> str:
    """`credits audit --verify` on the desk, its exit code `code`: what it said on stderr, on
    one line."""
    result = desk.cli("audit", "--verify")
    assert result.exit_code == code, result.output
    return " ".join(result.stderr.split())


KEY = "a-long-enough-journal-key-0123456789"


# Defect 1: an older run approved after a newer one pays nothing


def test_an_older_run_approved_after_a_newer_one_is_refused_and_pays_nothing(desk):
    older = desk.run()  # USD 1000 for c1
    newer = desk.run(policy=LOWER)  # USD 500 for c1
    desk.approve(newer)
    paid = desk.paid()
    with pytest.raises(ConfigError, match=f"superseded: it started before run {newer}"):
        desk.approve(older)
    assert desk.paid() == paid == {("c1", "USD"): 500, ("c3", "EUR"): 900}
    assert desk.status(older) == "pending_approval"


def test_a_superseded_approval_exits_2_naming_the_newer_run(desk):
    older, newer = desk.run(), desk.run(policy=LOWER)
    desk.approve(newer)
    result = desk.cli("approve", older, "--by", "alice")
    assert result.exit_code == 2
    assert newer in result.stderr and "--force-superseded" in result.stderr
    assert "Traceback" not in result.output


def test_a_run_sealed_after_a_newer_run_was_approved_is_found_superseded(desk):
    # Two machines: this run started, another ran the incident again and finance approved that
    # run while this one still ran. Sealed, this run said "waiting for approval: credits
    # approve ...", and the approval it named was refused (superseded, exit 2).
    from transforms.finance import sealing

    older, newer = desk.run(), desk.run(policy=LOWER)
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        assert sealing.superseded_by(con, older) is None  # nothing published yet
    desk.approve(newer)
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        assert sealing.superseded_by(con, older) == newer
        assert sealing.superseded_by(con, newer) is None


def test_a_machine_whose_clock_runs_ahead_cannot_make_an_older_run_the_newer(desk, monkeypatch):
    # The older run's machine was two hours fast: by start times it was the newer run, and it
    # was paid over the newer one without --force-superseded. The journal's order decides.
    older = run_on_a_fast_clock(desk, monkeypatch)
    newer = desk.run(policy=LOWER)
    desk.approve(newer)
    with pytest.raises(
        ConfigError, match=f"run {older}: superseded: it started before run {newer}"
    ):
        desk.approve(older)
    assert desk.status(older) == "pending_approval"
    # support, `credits runs` and the analysts order the runs as approval does
    from transforms.serving import run_listing

    with support.connect(desk.warehouse) as con:
        assert support.answering_runs(con)["INC-T"].run_id == newer
        assert analysis.pick_run(con, "INC-T").run_id == newer
        listed = {r.run_id: r.decision for r in run_listing.runs(con)}
    assert listed[older] == f"superseded by {newer} (approve refuses it unless forced)"
    assert "superseded" not in listed[newer]


def test_a_dry_run_of_a_superseded_run_exits_2_as_the_approval_would(desk):
    older, newer = desk.run(), desk.run(policy=LOWER)
    desk.approve(newer)
    dry = desk.cli("approve", older, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert f"would stop: run {older}: superseded" in dry.stderr and newer in dry.stderr
    assert "would stop there and publish nothing (exit 2)" in dry.stderr
    forced = desk.cli("approve", older, "--dry-run", "--force-superseded")
    assert forced.exit_code == 0, forced.output
    assert desk.status(older) == "pending_approval"


def test_a_forced_superseded_approval_pays_and_the_journal_says_so(desk):
    older, newer = desk.run(), desk.run(policy=LOWER)
    desk.approve(newer)
    decision = desk.approve(older, force_superseded=True)
    assert decision.rows == 1 and desk.paid()[("c1", "USD")] == 1000
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        approved = [e for e in journal.entries(con) if e.event == "approved"][-1]
    assert approved.run_id == older
    ((batch_id, published_at),) = desk.query(
        "select batch_id, published_at from batches where run_id = ?", newer
    )
    assert approved.detail == {
        "forced_superseded": True,
        "newer_published_run": newer,
        # the newer run's batch, published since the last approval (`proof` checks it)
        outbox.PUBLISHED_AT: {batch_id: published_at.astimezone(UTC).isoformat()},
    }


def test_racing_approvals_of_an_older_and_a_newer_run_are_ordered_by_the_lock(desk, monkeypatch):
    older, newer = desk.run(), desk.run(policy=LOWER)
    inside, go = threading.Event(), threading.Event()
    publish = publication.publish

    def held(con, run, **options):  # the newer run's approval holds the lock a while
        if run.run_id == newer:
            inside.set()
            go.wait(60)
        return publish(con, run, **options)

    monkeypatch.setattr(publication, "publish", held)
    outcome: dict[str, object] = {}

    def approve(run_id: str) -> None:
        try:
            outcome[run_id] = desk.approve(run_id).rows
        except ConfigError as error:
            outcome[run_id] = str(error)

    first = threading.Thread(target=approve, args=(newer,))
    first.start()
    assert inside.wait(60)
    second = threading.Thread(target=approve, args=(older,))
    second.start()
    time.sleep(0.5)  # the older run's approval is waiting for the lock, not yet refused
    go.set()
    first.join()
    second.join()
    assert outcome[newer] == 2
    assert "superseded" in str(outcome[older])
    assert desk.paid() == {("c1", "USD"): 500, ("c3", "EUR"): 900}


# Defect 2: a run becomes approvable only once its manifest is sealed


def test_a_run_killed_before_its_manifest_is_never_approved(desk, monkeypatch):
    scratch_present = []

    def killed(content, path):
        scratch_present.append((path.parent / "_work").exists())
        raise KeyboardInterrupt  # killed between the warehouse load and the manifest

    monkeypatch.setattr(manifest, "write", killed)
    with pytest.raises(BaseException):  # noqa: B017 (the flow reports the interruption)
        desk.run()
    monkeypatch.undo()
    assert scratch_present == [True]  # the scratch folder goes only after sealing
    ((run_id, status),) = desk.query("select run_id, status from runs")
    assert status == "sealing"
    with pytest.raises(InputError, match=r"status sealing\): it can never be approved; run the"):
        desk.approve(run_id)
    assert desk.ledger() == []
    # support never answers from it, and it is nobody's newest run
    assert desk.query("select * from latest_runs") == []
    with support.connect(desk.warehouse) as con:
        with pytest.raises(InputError, match="not in the"):
            support.customers(con, "INC-T")
        with pytest.raises(InputError, match="not in the"):
            analysis.pick_run(con, "INC-T")
    assert desk.approve(desk.run()).rows == 2


def test_a_store_error_after_the_seal_leaves_the_run_sealed_and_its_scratch_gone(desk, monkeypatch):
    def failing(con, run_id, incident_id):
        raise duckdb.IOException("the store went away")  # after the seal committed

    monkeypatch.setattr(publication, "nothing_new", failing)
    summary = desk.sealed()  # it was reported as a failed run, its scratch left behind
    monkeypatch.undo()
    assert (summary.verdict, summary.nothing_new) == ("pending_approval", None)
    assert not (summary.run_folder / "_work").exists()
    assert desk.query("select status from runs") == [("pending_approval",)]


def test_a_run_killed_before_its_load_is_named_as_stopped_not_as_a_slip(desk, monkeypatch):
    # "not in the warehouse (`credits runs` lists the runs)", as for a mistyped id
    from transforms.finance import warehouse as warehouse_module

    def killed(con, run, manifest):
        raise KeyboardInterrupt  # killed after the run started, before its load

    monkeypatch.setattr(warehouse_module, "load_run", killed)
    with pytest.raises(BaseException):  # noqa: B017 (the flow reports the interruption)
        desk.run()
    monkeypatch.undo()
    ((run_id,),) = desk.query("select run_id from journal where event = 'started'")
    with pytest.raises(
        InputError, match=r"still running \(approve it when it ends\), or was stopped before its"
    ):
        desk.approve(run_id)
    assert desk.ledger() == []


@pytest.mark.parametrize("warehouse_location", ["postgres"], indirect=True)
def test_a_store_unreachable_at_the_seal_says_the_run_is_not_sealed_and_to_run_it_again(
    desk, monkeypatch
):
    # The database renamed (or its connections all taken) while the run computed: the seal's
    # connection is refused. It said "Nothing was read or written; start the server or fix the
    # URL, then run the command again", though the run had journaled its start and written its
    # folder, and running the command again makes another run.
    from transforms.finance import sealing

    seal = sealing.seal
    gone = stores.with_path(desk.warehouse, "credits_t_gone_" + os.urandom(4).hex())
    monkeypatch.setattr(sealing, "seal", lambda run, content, _, key: seal(run, content, gone, key))
    with pytest.raises(StorageError) as refused:
        desk.run()
    said = " ".join(str(refused.value).split())
    assert "cannot connect to PostgreSQL" in said
    assert "is not sealed: nothing of it was loaded, it can never be approved" in said
    assert "fix the URL's login, password or database" in said  # the server's refusal, as before
    assert f"then run the command again (the incident's run: `{commands.credits('run')} " in said
    assert desk.query("select count(*) from runs") == [(0,)]


def test_a_sealed_run_leaves_no_scratch_folder(desk):
    run_id = desk.run()
    assert desk.status(run_id) == "pending_approval"
    assert (desk.folder(run_id) / "manifest.json").exists()
    assert not (desk.folder(run_id) / "_work").exists()


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("manifest.json", "delete", "manifest.json: missing"),
        ("manifest.json", "edit", "is not the manifest the warehouse recorded"),
        ("credits.csv", "edit", "credits.csv: does not match its sha256"),
        ("credits.csv", "delete", "credits.csv: is missing"),
        ("credits.csv", "folder", "credits.csv: is not a file"),
        ("credits.csv", "fifo", "credits.csv: is not a file"),  # a read would wait forever
        ("manifest.json", "fifo", "manifest.json: is not a file"),
    ],
)
def test_a_run_whose_folder_changed_after_sealing_is_refused(desk, name, change, message):
    run_id = desk.run()
    path = desk.folder(run_id) / name
    if change == "delete":
        path.unlink()
    elif change == "folder":  # a folder in the file's place
        path.unlink()
        path.mkdir()
    elif change == "fifo":  # a named pipe in the file's place
        path.unlink()
        os.mkfifo(path)
    elif name == "manifest.json":
        content = json.loads(path.read_text())
        content["totals_minor"]["USD"] = 99_000
        path.write_text(json.dumps(content))
    else:
        path.write_text(path.read_text().replace(",1000,", ",99000,"))
    with pytest.raises(InputError, match=message) as refused:
        desk.approve(run_id)
    assert f"run the incident again (`{commands.credits('run ')}" in str(refused.value)
    assert desk.ledger() == []


def test_an_outbox_that_is_a_file_is_refused_before_anything_is_committed(desk):
    run_id = desk.run()
    desk.outbox.write_text("not a folder\n")
    with pytest.raises(ConfigError, match="is a file, not a folder; nothing was committed"):
        desk.approve(run_id)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"


def test_an_outbox_that_cannot_be_written_is_refused_before_anything_is_committed(desk):
    # A path through a file (as a read-only mount, or a folder this login may not write): the
    # approval was committed, its run published and its payments in the ledger, and only then
    # refused (exit 4) with the batch left writing; nothing could be decided again.
    run_id = desk.run()
    (desk.root / "afile").write_text("not a folder\n")
    desk.outbox = desk.root / "afile" / "outbox"
    with pytest.raises(StorageError, match="cannot be written here") as refused:
        desk.approve(run_id)
    assert "nothing was committed" in str(refused.value)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"


def test_an_incident_folder_this_login_may_not_write_is_refused_before_anything_is_committed(
    desk, monkeypatch
):
    # A shared outbox whose incident folder another machine's login made with its first batch
    # (mode 755): only the outbox's own folder was probed, so the approval was committed, its
    # head a note, and only then refused writing the batch (exit 4), its batch left writing.
    desk.approve(desk.run())
    run_id = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    folder = desk.outbox.resolve() / "incident=INC-T"
    before = desk.ledger()

    def refusing(write):
        def write_there(path, *args, **kwargs):
            if folder in (Path(path).absolute(), *Path(path).absolute().parents):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return write(path, *args, **kwargs)

        return write_there

    for name in ("write_bytes", "write_text", "mkdir"):
        monkeypatch.setattr(Path, name, refusing(getattr(Path, name)))
    with pytest.raises(StorageError, match="cannot be written here") as refused:
        desk.approve(run_id)
    monkeypatch.undo()
    assert f"({folder}: Permission denied); nothing was committed" in str(refused.value)
    assert desk.ledger() == before and desk.status(run_id) == "pending_approval"
    assert desk.approve(run_id).rows == 1  # once it may: c1's increase


def test_a_batch_trailer_that_is_no_json_object_is_named_by_audit_and_verify_batch(desk):
    # verify-batch said exit 2 (a bad input file) of a trailer cut short or edited into no JSON
    # object, where audit --verify says 3: the batch does not prove itself
    decision = desk.approve(desk.run())
    trailer = decision.batch_folder / "batch.json"
    whole = trailer.read_text()
    for text in ("[]", '{"files": null}', whole[: len(whole) // 2]):
        trailer.write_text(text)
        audit = desk.cli("audit", "--verify")
        assert audit.exit_code == 3, audit.output
        assert "batch.json" in audit.stderr or "files:" in audit.stderr, audit.stderr
        checked = desk.cli("verify-batch", str(decision.batch_folder))
        assert checked.exit_code == 3, checked.output
        assert "Traceback" not in checked.output and "internal error" not in checked.output


def test_a_warehouse_manifest_edited_into_no_manifest_is_refused_by_name(desk):
    run_id = desk.run()
    desk.tamper(  # a key no manifest has, put first
        "update runs set manifest = '{\"paid\": true, ' || substr(manifest, 2) where run_id = $1",
        parameters=(run_id,),
    )
    # not the manifest its seal journaled: named before anything reads it as a manifest
    with pytest.raises(ProofFailed, match="nothing was paid") as refused:
        desk.approve(run_id)
    assert any(f"run {run_id}: its manifest in the warehouse" in f for f in refused.value.findings)
    assert desk.ledger() == []


def test_a_seal_journaled_before_its_manifest_sha256_was_recorded_verifies_and_approves(
    desk, monkeypatch
):
    # the previous version journaled `validated` without `manifest_sha256`: no hash to check
    append = journal.append

    def without_the_hash(con, event, **fields):
        if event in ("validated", "rejected"):
            fields["detail"] = {k: v for k, v in fields["detail"].items() if k != "manifest_sha256"}
        return append(con, event, **fields)

    monkeypatch.setattr(journal, "append", without_the_hash)
    run_id = desk.run()
    monkeypatch.undo()
    (detail,) = desk.query("select detail from journal where event = 'validated'")
    assert "manifest_sha256" not in json.loads(detail[0])
    audit = desk.cli("audit", "--verify")
    assert audit.exit_code == 0, audit.output
    assert desk.approve(run_id).rows == 2


@pytest.mark.parametrize(
    "change",
    [
        "update run_credits set credit_amount_minor = 99000 where customer_id = 'c1'",
        "delete from run_credits where customer_id = 'c3'",
        "insert into run_credits (run_id, credit_id, incident_id, customer_id, currency, "
        "credit_amount, credit_amount_minor, credited_txn_count, failed_amount_minor, "
        "reason_code, description, policy_version) select run_id, 'x9', incident_id, 'c9', "
        "currency, credit_amount, credit_amount_minor, credited_txn_count, "
        "failed_amount_minor, reason_code, description, policy_version "
        "from run_credits where customer_id = 'c1'",
        # a line there twice (the same credit_id): a set difference would not see it
        "insert into run_credits select * from run_credits where customer_id = 'c1'",
    ],
)
def test_a_run_whose_warehouse_lines_differ_from_its_credit_file_is_refused(desk, change):
    run_id = desk.run()
    desk.tamper(change)
    with pytest.raises(ProofFailed, match="are not those of .*credits.csv") as refused:
        desk.approve(run_id)
    assert refused.value.findings and all("only:" in f for f in refused.value.findings)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"


@pytest.mark.parametrize(
    "change",
    [
        "update run_credits set description = 'pay to IBAN XX00 0000' where customer_id = 'c1'",
        "update run_credits set credit_amount = 90 where customer_id = 'c1'",  # minor units kept
        "update run_credits set policy_version = 'forged' where customer_id = 'c1'",
    ],
    ids=["description", "amount", "policy"],
)
def test_a_warehouse_line_s_other_columns_edited_are_refused_where_the_folder_is_reached(
    desk, change
):
    # The approval of a run whose folder it reaches compared only the lines' ids, currency and
    # minor units with the folder's credits.csv, and published the warehouse's description
    # (which the batch's credits.csv carries to the payment system) as edited, while `audit
    # --verify` named the same lines (exit 3).
    run_id = desk.run()
    desk.tamper(change)
    assert "its credit lines in the warehouse are not those its sealed manifest" in audited(desk)
    with pytest.raises(ProofFailed, match="its credit lines in the warehouse are not those"):
        desk.approve(run_id)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"
    assert not desk.outbox.exists() or not list(desk.outbox.rglob("batch.json"))


# Gap 3: the ledger proves itself, and approve checks it before paying


@pytest.mark.parametrize(
    ("change", "named"),
    [
        # an amount edited: the entry, and the batch line it no longer matches
        (
            "update ledger set amount_minor = 1 where customer_id = 'c1'",
            ["its content was changed after it was written", "amount_minor is 1 in the ledger"],
        ),
        # the first entry deleted: the chain breaks, the batch pays an entry the ledger lacks
        (
            "delete from ledger where customer_id = 'c1'",
            ["does not follow the entry before it", "but the ledger has no such entry"],
        ),
        # the newest entry deleted: only the trailer's ledger head and lines can tell
        (
            "delete from ledger where customer_id = 'c3'",
            ["records ledger head", "but the ledger has no such entry"],
        ),
        # an entry moved to another batch
        (
            "update ledger set batch_id = 'INC-T-B009' where customer_id = 'c1'",
            ["its batch INC-T-B009 is not in the warehouse", "ledger has no such entry"],
        ),
    ],
)
def test_a_changed_ledger_is_named_by_audit_and_refused_by_approve(desk, change, named):
    desk.approve(desk.run())
    desk.tamper(change)
    tampered = desk.ledger()
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    for words in named:
        assert words in result.stderr
    # The next approval would pay the difference again: it refuses before paying anything.
    later = desk.run()
    with pytest.raises(ProofFailed, match="nothing was paid") as refused:
        desk.approve(later)
    assert refused.value.exit_code == 3
    assert desk.ledger() == tampered and desk.status(later) == "pending_approval"


def rewrite_with_its_trailer(folder, name: str, old: str, new: str) -> None:
    """Changes a batch file in the outbox and its sha256 in the trailer, as someone who can
    write to the outbox could."""
    path = folder / name
    assert old in path.read_text(), path.read_text()
    path.write_text(path.read_text().replace(old, new))
    trailer = json.loads((folder / "batch.json").read_text())
    trailer["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "batch.json").write_text(json.dumps(trailer, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("credits.csv", ",9.00,900,", ",900.00,900,"),  # the amount column, not the minor units
        ("pay_by_hand.csv", ",10.00,1000,", ",1000.00,100000,"),  # money paid by hand
    ],
)
def test_a_batch_file_rewritten_with_its_trailer_is_named_by_audit_and_refused(
    desk, name, old, new
):
    closed_c1 = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    decision = desk.approve(desk.run(customers=closed_c1))
    rewrite_with_its_trailer(decision.batch_folder, name, old, new)
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert f"{name} is not the file the journal recorded" in result.stderr, result.stderr
    with pytest.raises(ProofFailed):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


def test_a_batch_left_writing_with_its_trailer_is_checked_before_it_is_marked_published(desk):
    decision = desk.approve(desk.run())
    desk.tamper(
        "update batches set state = 'writing' where batch_id = $1",
        parameters=(decision.batch_id,),
    )
    rewrite_with_its_trailer(decision.batch_folder, "credits.csv", ",1000,", ",9900,")
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert "credits.csv is not the file the journal recorded" in result.stderr
    with pytest.raises(ProofFailed):  # the next approval would have marked it published
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


def test_a_deleted_batch_is_named_from_the_outbox_and_the_journal(desk):
    desk.approve(desk.run())
    desk.tamper("delete from ledger", "delete from batches")
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3
    assert "batch INC-T-B001: in the outbox" in result.stderr
    assert "says batch INC-T-B001 was published; the warehouse has no such batch" in result.stderr
    with pytest.raises(ProofFailed):
        desk.approve(desk.run())
    assert desk.ledger() == []


def test_an_untouched_warehouse_verifies_and_names_what_it_checked(desk):
    desk.approve(desk.run())
    desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output
    assert "ledger of 3 entries, 2 published batch(es) against their trailers" in result.stdout


# Gap 4: a journal that cannot be silently rewritten


def rechain_journal(desk) -> None:
    """Edits the `approved` entry, then recomputes the links from there on, with plain sha256
    (a keyed link cannot be recomputed without the key), as whoever can write the store can."""
    desk.tamper("update journal set actor = 'mallory' where event = 'approved'")
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        entries = journal.entries(con)
    edited = next(e.seq for e in entries if e.actor == "mallory")
    prev = chain.GENESIS
    for entry in entries:
        if entry.seq >= edited:
            digest = chain.digest(chain.Link.SHA256, None, prev, entry.linked().body)
            desk.tamper(
                "update journal set prev_hash = $1, hash = $2, link = 'sha256' where seq = $3",
                parameters=(prev, digest, entry.seq),
            )
            entry = journal.Entry(**{**entry.__dict__, "hash": digest})
        prev = entry.hash


def test_a_rewritten_and_rechained_journal_is_caught_by_the_trailers(desk):
    desk.approve(desk.run())
    rechain_journal(desk)
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        assert journal.verify(con).tampered == []  # the chain alone cannot tell
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3
    assert "batch INC-T-B001: its trailer records journal head" in result.stderr
    assert "which is not in the journal" in result.stderr


def test_a_keyed_journal_and_ledger_verify_with_the_key_only(desk, monkeypatch):
    desk.approve(desk.run())  # without a key: plain links
    monkeypatch.setenv("CREDITS_JOURNAL_KEY", KEY)  # the key comes later
    desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}), key=KEY.encode())
    assert {link for (link,) in desk.query("select distinct link from ledger")} == {
        "sha256",
        "hmac-sha256",
    }
    assert desk.cli("audit", "--verify").exit_code == 0
    wrong = desk.cli("audit", "--verify", env={"CREDITS_JOURNAL_KEY": "x" * 32})
    assert wrong.exit_code == 3 and "is not the key" in wrong.stderr
    monkeypatch.delenv("CREDITS_JOURNAL_KEY")
    missing = desk.cli("audit", "--verify")
    assert missing.exit_code == 2
    assert "unverified" in missing.stderr and "tampered" not in missing.stderr
    refused = desk.cli("approve", desk.query("select run_id from runs")[0][0], "--by", "bob")
    assert refused.exit_code == 2 and "CREDITS_JOURNAL_KEY" in refused.stderr


def test_verify_batch_exits_as_audit_does_without_the_key_or_with_another(desk, monkeypatch):
    # Without the key it said "it is the batch the journal recorded" (exit 0) while audit
    # --verify said the keyed entries were unverified (exit 2).
    monkeypatch.setenv("CREDITS_JOURNAL_KEY", KEY)
    folder = str(desk.approve(desk.run(), key=KEY.encode()).batch_folder)
    assert desk.cli("verify-batch", folder).exit_code == 0
    for key, code in ((None, 2), ("x" * 32, 3)):
        if key is None:
            monkeypatch.delenv("CREDITS_JOURNAL_KEY")
        env = None if key is None else {"CREDITS_JOURNAL_KEY": key}
        audit = desk.cli("audit", "--verify", env=env)
        checked = desk.cli("verify-batch", folder, env=env)
        assert audit.exit_code == checked.exit_code == code, checked.output
        assert "verified" not in checked.stdout
    message = " ".join(desk.cli("verify-batch", folder).stderr.split())
    assert "unverified: journal: " in message and "cannot be checked without" in message
    assert "set CREDITS_JOURNAL_KEY to verify the journal and the ledger" in message


def test_approving_with_another_key_exits_2_as_declining_does(desk, monkeypatch):
    # It exited 3, as if the journal had been tampered with ("none of its keyed entries
    # verifies"), where decline exits 2: writing needs the key, exit 2 with another one.
    monkeypatch.setenv("CREDITS_JOURNAL_KEY", KEY)
    desk.approve(desk.run(), key=KEY.encode())
    run_id = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    other = {"CREDITS_JOURNAL_KEY": "x" * 32}
    for result in (
        desk.cli("approve", run_id, "--by", "bob", env=other),
        desk.cli("approve", run_id, "--dry-run", env=other),
        desk.cli("decline", run_id, "--by", "bob", "--reason", "why", env=other),
    ):
        assert result.exit_code == 2, result.output
        message = " ".join(result.stderr.split())
        assert "CREDITS_JOURNAL_KEY does not verify the newest journal entry" in message
        assert "it is not the key the chain was written with" in message
        assert "Traceback" not in result.output
    assert desk.status(run_id) == "pending_approval"
    assert desk.cli("approve", run_id, "--by", "bob").exit_code == 0  # with its key


def test_a_keyed_journal_rechained_without_the_key_fails(desk, monkeypatch):
    monkeypatch.setenv("CREDITS_JOURNAL_KEY", KEY)
    desk.approve(desk.run(), key=KEY.encode())
    rechain_journal(desk)  # the forger has no key: plain links after the edit
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3
    assert "a plain sha256 link after keyed ones" in result.stderr


def test_a_short_key_is_refused(desk):
    with warehouse.writer(desk.warehouse):  # made, empty
        pass
    result = desk.cli("audit", "--verify", env={"CREDITS_JOURNAL_KEY": "short"})
    assert result.exit_code == 2 and "shorter than 16 characters" in result.stderr


# Gap 5: a visible trailer never changes


def test_a_batch_killed_after_its_trailer_keeps_its_files(desk, monkeypatch):
    run_id = desk.run()
    write_once = files.write_once

    def killed_after_trailer(final, data):
        write_once(final, data)
        if final.name == outbox.TRAILER:
            raise KeyboardInterrupt  # killed before the batch is marked published

    monkeypatch.setattr(files, "write_once", killed_after_trailer)
    with pytest.raises(KeyboardInterrupt):
        desk.approve(run_id)
    monkeypatch.undo()
    folder = desk.outbox / "incident=INC-T" / "batch=INC-T-B001"
    trailer = folder / outbox.TRAILER
    before = {p.name: (p.read_bytes(), p.stat().st_ino) for p in folder.iterdir()}
    # another run journals in between; its approval finishes the batch first
    assert desk.approve(desk.run()).batch_id is None
    assert {p.name: (p.read_bytes(), p.stat().st_ino) for p in folder.iterdir()} == before
    assert desk.query("select state from batches") == [("published",)]
    assert outbox.verify(trailer) == []
    assert desk.cli("audit", "--verify").exit_code == 0


def test_a_shared_outbox_mounted_at_another_path_proves_itself_and_is_written_there(
    desk, monkeypatch, tmp_path
):
    """Two machines share the outbox, each mounting it at its own path: the batches are looked
    for, and an unfinished one written, under the outbox each command is given."""
    run_id = desk.run()

    def stopped(con, batch_id, root):
        raise KeyboardInterrupt  # the first machine's approval stops before any file

    monkeypatch.setattr(outbox, "write", stopped)
    with pytest.raises(KeyboardInterrupt):
        desk.approve(run_id)
    monkeypatch.undo()
    second = tmp_path / "machine-b" / "outbox"  # the share as the second machine mounts it
    desk.outbox = second
    decision = desk.approve(run_id)  # finishes the batch first, and says so
    folder = second / "incident=INC-T" / "batch=INC-T-B001"
    assert decision.already_decided and decision.notes == (
        f"finished batch INC-T-B001 (run {run_id}), which an approval that was stopped left "
        f"unfinished: it is in {folder.resolve()}",
    )
    assert outbox.verify(folder) == []
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").rglob("*.csv"))
    third = tmp_path / "machine-c" / "share"
    third.parent.mkdir()
    second.parent.rename(third)
    desk.outbox = third / "outbox"
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output
    decision = desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    assert decision.batch_folder == desk.outbox.resolve() / "incident=INC-T" / "batch=INC-T-B002"
    assert outbox.verify(decision.batch_folder) == []


@pytest.mark.parametrize(
    "tampering",
    [
        "insert into run_exceptions (run_id, incident_id, exception, customer_id, currency, "
        "txn_count, credit_owed_minor, detail) values ($1, 'INC-T', 'closed_account', 'c-evil', "
        "'USD', 1, 9999900, 'account is closed: pay by hand')",
        "update run_exceptions set credit_owed_minor = credit_owed_minor * 100 where run_id = $1",
        "delete from run_exceptions where run_id = $1",
    ],
    ids=["added", "changed", "deleted"],
)
def test_an_exception_edited_after_the_seal_is_never_paid_by_hand(desk, tampering, tmp_path):
    # A pay-by-hand row added in the warehouse after the seal went into the batch's
    # pay_by_hand.csv, and the journal then anchored the forged file: no audit could see it.
    closed_c1 = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    run_id = desk.run(customers=closed_c1)  # c1's credit is listed to pay by hand
    desk.tamper(tampering, parameters=(run_id,))
    with pytest.raises(ProofFailed, match="its exceptions in the warehouse are not those its"):
        desk.approve(run_id)
    shutil.move(desk.folder(run_id), tmp_path / "elsewhere")  # a machine without the folder
    with pytest.raises(ProofFailed, match="its exceptions in the warehouse are not those its"):
        desk.approve(run_id)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"


def test_verify_batch_names_a_batch_rewritten_with_its_trailer_or_replayed(desk):
    # Each was consistent alone, so verify-batch said "verified": only the journal knows.
    decision = desk.approve(desk.run())
    folder = decision.batch_folder
    replay = folder.parent / "batch=INC-T-B004"
    shutil.copytree(folder, replay)
    for path in replay.iterdir():  # every id B001 -> B004, the trailer's sha256 recomputed
        path.write_text(path.read_text().replace(decision.batch_id, "INC-T-B004"))
    trailer = json.loads((replay / "batch.json").read_text())
    trailer["files"] = {name: files.sha256(replay / name) for name in trailer["files"]}
    (replay / "batch.json").write_text(json.dumps(trailer))
    assert outbox.verify(replay) == []  # consistent alone
    replayed = desk.cli("verify-batch", str(replay))
    assert replayed.exit_code == 3, replayed.output
    assert "batch INC-T-B004: not in the warehouse: a copy or a replay" in replayed.stderr
    credits = folder / "credits.csv"  # an amount raised, the trailer recomputed to match
    credits.write_text(credits.read_text().replace(",1000,", ",1500,"))
    trailer = json.loads((folder / "batch.json").read_text())
    trailer["files"]["credits.csv"] = files.sha256(credits)
    (folder / "batch.json").write_text(json.dumps(trailer))
    rewritten = desk.cli("verify-batch", str(folder))
    assert rewritten.exit_code == 3, rewritten.output
    assert "credits.csv is not the file the journal recorded" in " ".join(rewritten.stderr.split())
    assert rewritten.stderr.count("credits.csv: sha256") <= 1  # each finding once


def test_verify_batch_names_a_journal_that_does_not_prove_itself(desk):
    # it checked the batch against the journal's heads without checking the journal's chain
    decision = desk.approve(desk.run())
    desk.tamper("update journal set actor = 'mallory' where event = 'approved'")
    checked = desk.cli("verify-batch", str(decision.batch_folder))
    assert checked.exit_code == 3, checked.output
    assert "journal" in checked.stderr and "verified" not in checked.stdout


def test_a_batch_copied_under_another_incident_is_named_and_refused(desk):
    # A published batch copied under another incident's folder passed audit, verify-batch and
    # the next approval: finance, picking batches up by their folders, would pay it again.
    decision = desk.approve(desk.run())
    copy = desk.outbox / "incident=INC-OLD" / decision.batch_folder.name
    shutil.copytree(decision.batch_folder, copy)
    message = audited(desk)
    assert (
        f"batch {decision.batch_id}: of incident INC-T, but a copy is in the outbox under "
        f"incident INC-OLD ({copy.resolve()})"
    ) in message
    verified = desk.cli("verify-batch", str(copy))
    assert verified.exit_code == 3, verified.output
    assert "incident_id: the folder is incident=INC-OLD, the trailer says INC-T" in " ".join(
        verified.output.split()
    )
    with pytest.raises(ProofFailed):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


@pytest.mark.parametrize(
    "where",
    ["incident=INC-T/copy of B001", "B001", "incident=INC-T/old/batch=INC-T-B001", "link"],
)
def test_a_batch_copied_anywhere_else_in_the_outbox_is_named_and_refused(desk, where):
    # A published batch copied (or linked) into the outbox under a name not of its layout
    # passed audit and the next approval: whoever picks batches up by their batch.json would
    # pay it again. (A copy out of the outbox, which finance is told to make, is no finding.)
    decision = desk.approve(desk.run())
    copy = desk.outbox / where
    if where == "link":
        copy.symlink_to(decision.batch_folder, target_is_directory=True)
    else:
        shutil.copytree(decision.batch_folder, copy)
    message = audited(desk)
    assert (
        f"{copy.absolute()}: holds a trailer of batch {decision.batch_id} (batch.json) outside "
        "its place in the outbox" in message
    )
    with pytest.raises(ProofFailed, match="outside its place in the outbox"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


@pytest.mark.parametrize("linked", ["batch", "incident"])
def test_a_batch_folder_swapped_for_a_link_is_named_and_refused(desk, tmp_path, linked):
    # A published batch's folder (or its incident's) moved out of the outbox and linked back
    # passed audit and the next approval, where one of its files linked so is named: what
    # finance collects through the link is whatever its target holds by then.
    decision = desk.approve(desk.run())
    place = decision.batch_folder if linked == "batch" else decision.batch_folder.parent
    moved = shutil.move(place, tmp_path / place.name)
    place.symlink_to(moved, target_is_directory=True)
    message = audited(desk)
    assert f"{place}: a symbolic link (to {moved}), not the folder the batch was" in message
    with pytest.raises(ProofFailed, match="a symbolic link"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


def test_a_start_time_edited_to_escape_supersession_is_named_and_refused(desk):
    # The newest run supersedes the others: an older run made newer by its start time was
    # approved over the newer one without --force-superseded, and audit said nothing.
    older = desk.run()
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    desk.approve(newer)
    desk.tamper(
        "update runs set started_at = started_at + interval '1 day' where run_id = $1",
        parameters=(older,),
    )
    message = audited(desk)
    assert f"run {older}: started at 20" in message
    assert "in the warehouse, but journal entry" in message and "edited since" in message
    with pytest.raises(ProofFailed):
        desk.approve(older)


def test_audit_names_a_batch_it_found_only_outside_the_outbox_given(desk, tmp_path):
    # It was checked where it was written and said nothing: finance, reading its own outbox,
    # would not know that batch is not in it.
    decision = desk.approve(desk.run())
    desk.outbox = tmp_path / "finance-outbox"
    message = audited(desk, 0)
    assert (
        f"elsewhere: batch INC-T-B001: not under the outbox {desk.outbox}; checked where it was "
        f"written, {decision.batch_folder}"
    ) in message
    checked = desk.cli("audit", "--verify").stdout  # and checked there
    assert "1 published batch(es) against their trailers" in checked


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        # approved into another incident's ledger, which has not paid its credits: it stopped
        # with "internal error: TransactionException" (exit 1), and audit said nothing
        ("update runs set incident_id = 'INC-OTHER' where run_id = $1", "incident_id"),
        # stopped approve, runs, diff, customers and lookup with "internal error:
        # ZoneInfoNotFoundError" (exit 1), and audit said nothing
        ("update runs set timezone = 'Mars/Olympus' where run_id = $1", "timezone"),
        # the version the batch's trailer and record name: a forged one went out unseen
        ("update runs set policy_version = 'forged' where run_id = $1", "policy_version"),
        (
            "update runs set window_end_utc = window_end_utc + interval '1 day' where run_id = $1",
            "window_end_utc",
        ),
    ],
    ids=["incident", "timezone", "policy", "window"],
)
def test_a_pending_run_s_record_edited_after_its_seal_is_named_and_refused(desk, edit, column):
    run_id = desk.run()
    desk.tamper(edit, parameters=(run_id,))
    message = audited(desk)
    assert f"run {run_id}: its {column} in the warehouse is " in message, message
    assert "not its sealed manifest's" in message
    with pytest.raises(ProofFailed, match="nothing was paid") as refused:
        desk.approve(run_id)
    assert any(f"its {column} in the warehouse" in f for f in refused.value.findings)
    assert desk.ledger() == [] and desk.status(run_id) == "pending_approval"


def test_a_time_zone_edited_on_the_server_is_named_by_each_command_that_shows_it(desk):
    # runs, diff, customers and lookup stopped with "internal error: ZoneInfoNotFoundError"
    # (exit 1), naming neither the value nor where it was
    run_id = desk.run()
    desk.tamper("update runs set timezone = 'Mars/Olympus' where run_id = $1", parameters=(run_id,))
    for command in (("runs",), ("diff", run_id), ("customers", "INC-T"), ("lookup", "c1")):
        result = desk.cli(*command)
        assert result.exit_code == 3, (command, result.output)
        message = " ".join(result.stderr.split())
        assert "the time zone 'Mars/Olympus' in the warehouse is no time zone" in message, message


def test_a_decided_run_deleted_from_the_warehouse_is_named_and_refused(desk):
    # audit --verify said "every chain intact": the journal's seal and decision of a run no
    # longer there were not looked for
    run_id = desk.run()
    desk.approve(run_id)
    desk.tamper("delete from runs where run_id = $1", parameters=(run_id,))
    message = audited(desk)
    assert f"run {run_id}: journal entries 2, 3, 4 record it (validated, approved, " in message
    assert "the warehouse has no such run: its row was deleted" in message
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


def test_a_batch_record_edited_after_its_trailer_is_named_by_audit_and_refused(desk):
    decision = desk.approve(desk.run())
    desk.tamper(
        "update batches set approved_by = 'mallory', row_count = row_count + 1, "
        "entry_hash = 'x' || entry_hash, journal_head = 'x' || journal_head"
    )
    message = audited(desk)
    name = f"batch {decision.batch_id}: the warehouse records"
    assert f"{name} approved_by 'mallory', its trailer 'alice'" in message
    assert f"{name} row_count 3, its trailer 2" in message
    assert f"{name} entry_hash 'x" in message
    assert f"{name} journal_head 'x" in message
    desk.tamper("update runs set decided_by = 'mallory' where status = 'published'")
    message = audited(desk)
    assert "approved by mallory in the warehouse, but journal entry" in message
    assert "records it approved by alice: edited since" in message
    with pytest.raises(ProofFailed):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


def test_a_trailer_s_decimal_totals_or_keys_edited_are_named_and_refused(desk):
    # The decimal totals finance reads were never checked, and a key added to the trailer (an
    # instruction finance might follow) passed audit, verify-batch and approval.
    decision = desk.approve(desk.run())
    path = decision.batch_folder / outbox.TRAILER
    trailer = json.loads(path.read_text())
    assert trailer["totals"] == {"EUR": "9.00", "USD": "10.00"}
    trailer["totals"]["USD"] = "1000.00"
    trailer["note"] = "pay to IBAN XX00"
    del trailer["ledger_head"]  # the warehouse recorded one: no trailer of version 1
    path.write_text(json.dumps(trailer, indent=2, sort_keys=True) + "\n")
    name = f"batch {decision.batch_id}"
    for message in (
        audited(desk),
        " ".join(desk.cli("verify-batch", str(decision.batch_folder)).stderr.split()),
    ):
        assert f"{name}: totals: the file gives {{'EUR': '9.00', 'USD': '10.00'}}" in message
        assert f"{name}: note: the trailer holds a key no batch is written with" in message
        assert f"{name}: ledger_head: missing from the trailer" in message
    assert desk.cli("verify-batch", str(decision.batch_folder)).exit_code == 3
    with pytest.raises(ProofFailed):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))


@pytest.mark.parametrize(
    ("decision", "tampering", "named"),
    [
        (
            "approve",
            "update runs set decision_note = 'checked with the CFO' where run_id = $1",
            "its note 'checked with the CFO', not ''",
        ),
        (
            "approve",
            "update runs set decided_at = decided_at - interval '1 day' where run_id = $1",
            "its time 20",
        ),
        (
            "approve",
            "update runs set batch_id = 'INC-T-B009' where run_id = $1",
            "its batch INC-T-B009, not INC-T-B001",
        ),
        (
            "decline",
            "update runs set decision_note = 'approved by phone' where run_id = $1",
            "'approved by phone', not 'wrong policy'",
        ),
    ],
    ids=["note", "time", "batch", "decline-reason"],
)
def test_a_decision_edited_in_the_warehouse_is_named_by_audit(desk, decision, tampering, named):
    # Its note, time and batch were not compared with the journal: an edited reason for a
    # decline, or the time of an approval, went unseen.
    run_id = desk.run()
    if decision == "approve":
        desk.approve(run_id)
    else:
        ledger.decline(desk.warehouse, run_id, by="bob", reason="wrong policy")
    assert desk.cli("audit", "--verify").exit_code == 0
    desk.tamper(tampering, parameters=(run_id,))
    message = audited(desk)
    assert f"run {run_id}: its decision in the warehouse differs from journal entry" in message
    assert named in message and "edited since" in message


# Gap 6: clear errors for the environment


def test_a_full_outbox_exits_4_saying_what_is_committed_and_the_next_approval_finishes(
    desk, monkeypatch
):
    run_id = desk.run()
    folder = desk.outbox / "incident=INC-T" / "batch=INC-T-B001"
    folder.mkdir(parents=True)
    # the disk refuses (ENOSPC): credits.csv's temporary name, made fixed, leads to /dev/full
    monkeypatch.setattr(files, "_temporary", lambda final: final.with_name(f".{final.name}.tmp"))
    (folder / ".credits.csv.tmp").symlink_to("/dev/full")
    result = desk.cli("approve", run_id, "--by", "alice")
    assert result.exit_code == 4, result.output
    message = " ".join(result.stderr.split())
    assert f"writing batch INC-T-B001 into {folder.resolve()}: No space left" in message
    assert "'s approval, its batch INC-T-B001's payments in the ledger;" in message
    assert "the next approval finishes batch INC-T-B001 first" in message
    assert not (folder / outbox.TRAILER).exists()
    assert desk.approve(desk.run()).batch_id is None  # finishes B001, pays nothing twice
    assert outbox.verify(folder) == []
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_outbox_exits_4(desk, monkeypatch, code):
    run_id = desk.run()

    def refused(source, target):
        raise OSError(code, os.strerror(code), str(target))

    monkeypatch.setattr(files.os, "link", refused)  # a batch's files are linked into place
    monkeypatch.setattr(files.os, "replace", refused)
    result = desk.cli("approve", run_id, "--by", "alice")
    monkeypatch.undo()
    assert result.exit_code == 4, result.output
    message = " ".join(result.stderr.split())
    assert os.strerror(code) in message and "credits.csv" in message
    assert "'s approval, its batch INC-T-B001's payments in the ledger;" in message
    assert desk.approve(desk.run()).batch_id is None
    assert desk.query("select state from batches") == [("published",)]


def test_a_file_where_the_batch_folder_goes_exits_4_and_the_next_approval_finishes(desk):
    run_id = desk.run()
    desk.outbox.mkdir()
    (desk.outbox / "incident=INC-T").write_text("not a folder\n")
    result = desk.cli("approve", run_id, "--by", "alice")
    assert result.exit_code == 4, result.output
    message = " ".join(result.stderr.split())
    assert "(a file where a folder must be)" in message and "incident=INC-T" in message
    assert "'s approval, its batch INC-T-B001's payments in the ledger;" in message
    (desk.outbox / "incident=INC-T").unlink()
    assert desk.approve(desk.run()).batch_id is None
    assert desk.query("select state from batches") == [("published",)]


@stores.duckdb_only  # a full disk under the DuckDB file
def test_a_full_warehouse_exits_4_having_committed_nothing(desk, monkeypatch):
    run_id = desk.run()

    def full(*args, **kwargs):
        raise duckdb.IOException('Could not write file "wh.duckdb.wal": No space left on device')

    monkeypatch.setattr(ledger_entries, "append", full)
    result = desk.cli("approve", run_id, "--by", "alice")
    monkeypatch.undo()
    assert result.exit_code == 4
    assert "Nothing was committed by this command" in " ".join(result.stderr.split())
    assert desk.status(run_id) == "pending_approval" and desk.ledger() == []
    assert desk.approve(run_id).rows == 2


@stores.duckdb_only  # DuckDB's file lock: a PostgreSQL reader reads a snapshot, never waits
def test_audit_waits_for_a_writer_instead_of_failing(desk):
    desk.approve(desk.run())
    code = (
        "import duckdb, time\n"
        f"c = duckdb.connect({str(desk.warehouse)!r})\nprint('ready', flush=True)\n"
        "time.sleep(2)\nc.close()\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        result = desk.cli("audit", "--verify")
    finally:
        writer.kill()
        writer.wait()
    assert result.exit_code == 0, result.output


# Gap 8: approval inserts in bulk


def statements_of_an_approval(desk, monkeypatch, incident_id: str, customers: int) -> int:
    """The statements the first approval of a new incident runs, for so many customers."""
    lines = [failure(f"t{i}", customer_id=f"c{i}") for i in range(customers)]
    table = [txn(f"t{i}", customer_id=f"c{i}") for i in range(customers)]
    run_id = desk.run(lines=lines, transactions=table, top={"id": incident_id})
    calls = []
    for name in ("run", "arrow", "run_over"):
        real = getattr(db, name)
        monkeypatch.setattr(
            db,
            name,
            lambda con, sql, *a, real=real, **k: calls.append(sql) or real(con, sql, *a, **k),
        )
    assert desk.approve(run_id).rows == customers
    monkeypatch.undo()
    return len(calls)


def test_an_approval_runs_as_many_statements_for_many_lines_as_for_few(desk, monkeypatch):
    few = statements_of_an_approval(desk, monkeypatch, "INC-FEW", 2)
    many = statements_of_an_approval(desk, monkeypatch, "INC-MANY", 12)
    assert few == many


def test_a_run_row_made_by_hand_is_never_approved(desk):
    run_id = desk.run()
    # a role that may write runs gives a run an id no pipeline run ever journaled
    desk.tamper("update runs set run_id = 'forged' where run_id = $1", parameters=(run_id,))
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert "run forged: pending approval in the warehouse, but the journal never" in result.stderr
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve("forged")
    assert desk.ledger() == []


def test_a_run_whose_recorded_totals_were_changed_is_never_approved(desk):
    run_id = desk.run()
    desk.tamper(
        "update runs set manifest = replace(manifest, '\"USD\": 1000', '\"USD\": 99000') "
        "where run_id = $1",
        parameters=(run_id,),
    )
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert "its sealed manifest's totals are not those the journal recorded" in result.stderr
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)


@pytest.mark.parametrize("decided", [True, False], ids=["published", "pending-elsewhere"])
def test_a_run_manifest_edited_in_the_store_is_named_by_audit_and_refused(desk, decided, tmp_path):
    # Only a pending run's totals were compared with the journal: a published run's manifest
    # (what `diff` explains against) edited in the store went unseen, and a pending run whose
    # folder this machine cannot reach was approved on its edited copy.
    run_id = desk.run()
    if decided:
        desk.approve(run_id)
    else:
        shutil.move(desk.folder(run_id), tmp_path / "elsewhere")  # a machine without the folder
    desk.tamper(
        "update runs set manifest = replace(manifest, '\"Test outage\"', '\"Edited\"') "
        "where run_id = $1",
        parameters=(run_id,),
    )
    message = audited(desk)
    assert f"run {run_id}: its manifest in the warehouse is not the one journal entry" in message
    if not decided:
        with pytest.raises(ProofFailed, match="nothing was paid"):
            desk.approve(run_id)
        assert desk.ledger() == []


def test_a_declined_run_set_back_to_pending_is_never_approved(desk):
    run_id = desk.run()
    ledger.decline(desk.warehouse, run_id, by="bob", reason="policy not agreed")
    desk.tamper(
        "update runs set status = 'pending_approval' where run_id = $1", parameters=(run_id,)
    )
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert f"run {run_id}: pending_approval in the warehouse, but journal entry" in result.stderr
    assert "records it declined by bob: its status was set back" in result.stderr
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(run_id)
    assert desk.ledger() == []


@pytest.mark.parametrize(
    "tampering",
    [
        "insert into batch_pay_by_hand select * from batch_pay_by_hand",  # listed twice
        "delete from batch_pay_by_hand",  # as if never listed: listed again next time
    ],
    ids=["added", "deleted"],
)
def test_accounts_to_pay_by_hand_changed_in_the_warehouse_are_found(desk, tampering):
    closed_c1 = [customer("c1", status="closed"), customer("c2"), customer("c3")]
    decision = desk.approve(desk.run(customers=closed_c1))
    assert decision.pay_by_hand == 1
    desk.tamper(tampering)
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert (
        f"batch {decision.batch_id}: its rows in the warehouse no longer make the "
        "pay_by_hand.csv the journal recorded"
    ) in result.stderr
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(
            desk.run(customers=closed_c1, policy={"flat_minor": {"USD": 1500, "EUR": 900}})
        )


def test_a_published_batch_set_back_to_writing_is_found_not_written_again(desk):
    first = desk.approve(desk.run())
    second = desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    assert second.batch_id != first.batch_id
    moved = first.batch_folder.with_name("picked-up")  # finance's payout took it away
    first.batch_folder.rename(moved)
    desk.tamper(
        "update batches set state = 'writing', published_at = null where batch_id = $1",
        parameters=(first.batch_id,),
    )
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 3, result.output
    assert f"batch {first.batch_id}: marked writing, but an approval was journaled" in (
        result.stderr
    )
    with pytest.raises(ProofFailed, match="nothing was paid"):
        desk.approve(desk.run(policy={"flat_minor": {"USD": 2000, "EUR": 900}}))
    assert not first.batch_folder.exists()  # never written into the outbox again


def test_an_approval_stopped_before_its_trailer_pays_nobody_until_it_is_finished(desk, monkeypatch):
    # killed writing the batch's files: its ledger entries are committed, its trailer is not
    run_id = desk.run()
    write_once = files.write_once

    def killed_before_trailer(final, data):
        if final.name == outbox.TRAILER:
            raise KeyboardInterrupt
        return write_once(final, data)

    monkeypatch.setattr(files, "write_once", killed_before_trailer)
    with pytest.raises(KeyboardInterrupt):
        desk.approve(run_id)
    monkeypatch.undo()
    assert desk.query("select state from batches") == [("writing",)]
    with support.connect(desk.warehouse) as con:  # support says nobody was paid yet
        rows = support.customers(con, "INC-T").rows
    assert rows and all(row["paid_amount"] is None for row in rows)
    assert {row["status"] for row in rows} == {"pending"}
    result = desk.cli("audit", "--verify")
    assert result.exit_code == 0, result.output
    assert "batch INC-T-B001: left writing by an approval that was stopped" in result.stderr
    assert desk.approve(desk.run()).batch_id is None  # the next approval finishes it first
    assert desk.query("select state from batches") == [("published",)]
    with support.connect(desk.warehouse) as con:
        rows = support.customers(con, "INC-T").rows
    assert {row["customer_id"]: row["paid_amount"] for row in rows}["c1"] == "10.00"
