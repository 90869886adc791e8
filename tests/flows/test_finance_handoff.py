"""Finance's handoff end to end: approve then publish, never pay twice, control totals.

Each test runs the real flow (Prefect test harness) on small incidents and approves through
`transforms.ledger`, as `credits approve` does.
"""

from __future__ import annotations

import csv
import json
import threading

import pytest

from tests import waiting
from tests.builders import customer
from tests.flows.desk import LINES, approve_killed_writing, batch_lines
from transforms import commands
from transforms.errors import ConfigError
from transforms.finance import journal, ledger, outbox, warehouse
from transforms.runfolder.summary import NothingNew


def test_a_passing_run_waits_for_approval_then_publishes_a_verified_batch(desk):
    run_id = desk.run()
    assert desk.ledger() == []
    decision = desk.approve(run_id)
    assert (decision.status, decision.rows) == ("published", 2)
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}
    trailer = json.loads((decision.batch_folder / "batch.json").read_text())
    assert trailer["kind"] == "initial" and trailer["totals_minor"] == {"EUR": 900, "USD": 1000}
    assert outbox.verify(decision.batch_folder) == []


def test_approving_the_same_run_twice_is_a_no_op(desk):
    run_id = desk.run()
    first = desk.approve(run_id)
    second = desk.approve(run_id)
    assert second.already_decided and second.batch_id == first.batch_id
    assert len(desk.ledger()) == 2


def test_a_rerun_with_identical_inputs_publishes_nothing_new(desk):
    first = desk.sealed()
    assert first.nothing_new is None  # nothing published yet: approving it pays every line
    desk.approve(first.run_id)
    again = desk.sealed()
    # its summary said "waiting for approval" with the totals, as if there were more to pay
    assert again.nothing_new == NothingNew("INC-T-B001")
    decision = desk.approve(again.run_id)
    assert decision.batch_id is None
    assert len(desk.ledger()) == 2


def test_a_wider_window_publishes_only_the_newly_affected(desk):
    desk.approve(desk.run())
    decision = desk.approve(desk.run(top={"window_end": "2025-01-07T19:00:00"}))  # 00:00Z
    assert [(r["customer_id"], r["amount_minor"]) for r in batch_lines(decision)] == [
        ("c2", "1000")
    ]
    assert json.loads((decision.batch_folder / "batch.json").read_text())["kind"] == "supplemental"
    assert desk.paid() == {("c1", "USD"): 1000, ("c2", "USD"): 1000, ("c3", "EUR"): 900}


def test_a_higher_policy_pays_only_the_increase(desk):
    desk.approve(desk.run())
    decision = desk.approve(desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}}))
    lines = batch_lines(decision)
    assert [(r["customer_id"], r["amount_minor"], r["entry_kind"]) for r in lines] == [
        ("c1", "500", "increase")
    ]
    assert lines[0]["entry_id"].endswith("-02")
    assert desk.paid()[("c1", "USD")] == 1500


def test_a_lower_credit_is_an_exception_never_a_negative_payment(desk):
    desk.approve(desk.run())
    lower = desk.run(policy={"flat_minor": {"USD": 600, "EUR": 900}})
    decision = desk.approve(lower, accept_decreases=True)
    assert decision.rows == 0 and decision.decreases == 1
    with open(decision.batch_folder / "decreases.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["customer_id"], row["due_minor"], row["paid_minor"]) == ("c1", "600", "1000")
    assert desk.paid()[("c1", "USD")] == 1000
    assert outbox.verify(decision.batch_folder) == []


def test_a_declined_run_can_never_be_published(desk):
    run_id = desk.run()
    ledger.decline(desk.warehouse, run_id, by="bob", reason="window still under review")
    with pytest.raises(
        ConfigError,
        match=(
            "was already declined by bob on .* E[SD]T: window still under review: a decided run "
            "cannot be approved"
        ),
    ):
        desk.approve(run_id)
    assert desk.ledger() == []


def test_finance_declines_with_decline_and_the_old_reject_says_it_is_now_decline(desk):
    first, second = desk.run(), desk.run()
    declined = desk.cli("decline", first, "--by", "bob", "--reason", "window under review")
    assert declined.exit_code == 0, declined.output
    assert f"run {first} is declined" in declined.output
    # The old word still works, hidden, and names the new one.
    old = desk.cli("reject", second, "--by", "bob", "--reason", "window under review")
    assert old.exit_code == 0, old.output
    renamed = f"`{commands.credits('reject')}` is now `{commands.credits('decline')}`"
    assert renamed in " ".join(old.output.split())
    assert desk.status(first) == desk.status(second) == "declined"


def test_a_crash_mid_publish_is_finished_by_the_next_approval(desk, monkeypatch):
    run_id = desk.run()

    def crash(write_once, final, data):
        # the process is killed while writing the batch's first file: half of it in its
        # temporary, nothing at its name (a batch file appears whole, `files.write_once`)
        final.with_name(f".{final.name}.{'0' * 32}.tmp").write_bytes(data[: len(data) // 2])
        raise KeyboardInterrupt

    folder = approve_killed_writing(desk, monkeypatch, run_id, crash)
    assert [path.name for path in folder.iterdir()] == [f".credits.csv.{'0' * 32}.tmp"]
    # a rerun of the pipeline and its approval: the crashed batch is finished first, once
    decision = desk.approve(desk.run())
    assert decision.batch_id is None
    assert outbox.verify(folder) == []
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}


def test_a_run_killed_after_validation_leaves_nothing_to_pay_twice(desk, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(warehouse, "load_run", killed)
    with pytest.raises(BaseException):  # noqa: B017 (the flow reports the interruption)
        desk.run()
    monkeypatch.undo()
    decision = desk.approve(desk.run())
    assert decision.rows == 2
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}


def test_two_approvals_racing_for_one_incident_pay_once(desk):
    first, second = desk.run(), desk.run()
    outcomes: list[object] = []

    def approve(run_id: str) -> None:
        try:
            outcomes.append(desk.approve(run_id).rows)
        except ConfigError as error:  # the older run, when the newer won the lock
            outcomes.append(str(error))

    threads = [threading.Thread(target=approve, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 in outcomes
    assert outcomes.count(0) + sum("superseded" in str(o) for o in outcomes) == 1
    assert len(desk.ledger()) == 2


def test_a_held_lock_makes_the_second_writer_fail_clearly(desk):
    run_id = desk.run()
    busy = pytest.raises(warehouse.WarehouseBusy, match="another run or approval is writing")
    with warehouse.writer(desk.warehouse), busy, warehouse.writer(desk.warehouse, 0.3):
        pass
    assert desk.approve(run_id).rows == 2


def test_a_tampered_batch_does_not_verify(desk):
    decision = desk.approve(desk.run())
    path = decision.batch_folder / "credits.csv"
    path.write_text(path.read_text().replace(",1000,", ",10000,"))
    problems = outbox.verify(decision.batch_folder)
    assert any(p.startswith("credits.csv: sha256") for p in problems)
    assert any(p.startswith("totals_minor:") for p in problems)
    # a file that is no longer a credit file at all (a column cut, an amount not a number)
    text = path.read_text()
    for broken in (text.replace("amount_minor,", ""), text.replace(",10000,", ",ten,")):
        path.write_text(broken)
        result = desk.cli("verify-batch", str(decision.batch_folder))
        assert result.exit_code == 3, result.output
        assert "credits.csv: cannot be read as a batch's credit file" in result.stderr


def test_every_step_is_journalled_and_the_chain_holds(desk):
    run_id = desk.run()
    desk.approve(run_id, by="carol")
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        events = [(e.event, e.actor) for e in journal.entries(con, "INC-T")]
        assert journal.verify(con).tampered == []
    assert events == [
        ("started", "pipeline"),
        ("validated", "pipeline"),
        ("approved", "carol"),
        ("published", "carol"),
    ]


def test_a_rejected_run_is_journalled_and_cannot_be_approved(desk):
    from transforms.errors import ValidationRejected

    with pytest.raises(ValidationRejected) as rejected:
        desk.run(lines=[*LINES, "garbage"])
    run_id = rejected.value.summary.run_id
    with pytest.raises(ConfigError) as refused:
        desk.approve(run_id)
    # what to do next: the page that says why, then a new run
    assert "is rejected by the quality gate, so it can never be approved" in str(refused.value)
    assert "validation.html" in str(refused.value) and "credits run " in str(refused.value)
    with warehouse.connect(desk.warehouse, read_only=True) as con:
        assert [e.event for e in journal.entries(con)][-1] == "rejected"


def test_customers_excluded_by_segment_are_never_paid(desk):
    customers = [customer("c1", segment="internal"), customer("c2"), customer("c3")]
    decision = desk.approve(desk.run(customers=customers))
    assert [r["customer_id"] for r in batch_lines(decision)] == ["c3"]


@pytest.mark.parametrize("outbox", ["given", "CREDITS_OUTBOX"])
def test_a_paused_flow_run_publishes_when_finance_approves_in_its_form(desk, monkeypatch, outbox):
    # CREDITS_OUTBOX, set once on each machine of a shared outbox, is where the form's approval
    # publishes too: the flow is served with no outbox given (not data/outbox of its folder)
    from prefect.flow_runs import resume_flow_run

    from flows.credit_reconciliation import credit_reconciliation

    monkeypatch.chdir(desk.root)
    if outbox == "CREDITS_OUTBOX":
        monkeypatch.setenv("CREDITS_OUTBOX", f" {desk.outbox}\n")  # a .env line's blanks
    path = desk.write()
    result: dict = {}
    worker = threading.Thread(
        target=lambda: result.setdefault(
            "summary",
            credit_reconciliation(
                str(path),
                str(desk.root / "out"),
                str(desk.warehouse),
                wait_for_approval=True,
                outbox=str(desk.outbox) if outbox == "given" else None,
            ),
        )
    )
    worker.start()
    paused = waiting.paused_for_approval(path, desk.warehouse)
    assert paused, "the flow run never paused for approval"
    resume_flow_run(paused.id, run_input={"approve": True, "by": "dora", "note": "ok"})
    worker.join(120)
    assert result["summary"].decision == "published"
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}
    assert len(list(desk.outbox.glob("incident=INC-T/batch=*/batch.json"))) == 1
    assert (desk.outbox / "incident=INC-T" / "journal_head.json").is_file()
    assert not (desk.root / "data").exists()
    assert desk.cli("audit", "--verify").exit_code == 0


def test_a_reader_that_leaves_early_never_cancels_an_approval_behind_exit_0(desk):
    # `credits approve RUN --by alice | head -1`: the pipe closed while the approval showed its
    # diff, inside its transaction; Rich's answer (exit) rolled it back, and the command ended
    # quietly with 0, as if it had approved. The approval goes on, its output discarded.
    import subprocess
    import sys
    from pathlib import Path

    run_id = desk.run()
    command = [sys.executable, "-m", "flows.cli", "approve", run_id, "--by", "alice"]
    command += ["--warehouse", str(desk.warehouse), "--outbox", str(desk.outbox)]
    approving = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    approving.stdout.close()  # the reader is gone before the first line
    stderr = approving.stderr.read().decode()
    assert approving.wait(timeout=300) == 0, stderr
    assert desk.status(run_id) == "published"
    assert desk.paid() == {("c1", "USD"): 1000, ("c3", "EUR"): 900}


def test_a_run_declined_again_says_it_was_already_declined_and_by_whom(desk):
    # the second decline said "run R is declined", exit 0, as if its --by and --reason counted
    run_id = desk.run()
    desk.cli("decline", run_id, "--by", "bob", "--reason", "window under review")
    again = desk.cli("decline", run_id, "--by", "carol", "--reason", "duplicate")
    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())
    assert said.startswith(f"run {run_id} was already declined by bob on ") and said.endswith(
        ": window under review; nothing new recorded"
    ), said
    assert "carol" not in said
