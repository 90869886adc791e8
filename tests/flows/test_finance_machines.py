"""Two machines sharing the warehouse and the outbox, the way an independent checker tries
them: an approval stopped on one and finished by a command of the other, whatever that command
then decides about its own run.

Each test runs the real flow (Prefect test harness) and approves as `credits approve` does.
"""

from __future__ import annotations

from tests.flows.desk import approve_killed_writing, run_on_a_fast_clock
from transforms.finance import outbox


def killed_before_trailer(write_once, final, data):
    """`files.write_once` of an approval killed (SIGKILL) just before its trailer."""
    if final.name == outbox.TRAILER:
        raise KeyboardInterrupt
    return write_once(final, data)


def test_a_batch_finished_by_an_approval_that_is_then_refused_stays_published(desk, monkeypatch):
    # Machine A approved the newest run and was killed before the batch's trailer; machine B
    # then approved an older run: it finished A's batch (trailer written, "note: finished batch
    # INC-T-B001") and was refused as superseded (exit 2). On the PostgreSQL store the batch's
    # state `published` stayed in B's mirror (sent only by a commit or a writer that ends
    # without an error): the store said `writing`, and `credits runs` told finance to approve
    # again to finish a batch whose trailer was in the outbox.
    older = desk.run()
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    folder = approve_killed_writing(desk, monkeypatch, newer, killed_before_trailer)
    assert not (folder / outbox.TRAILER).exists()
    result = desk.cli("approve", older, "--by", "bob")
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert "finished batch INC-T-B001" in said and "superseded" in said
    assert (folder / outbox.TRAILER).exists()
    assert desk.query("select state from batches") == [("published",)]
    assert "unfinished" not in desk.cli("runs", "--wide").stdout
    assert desk.cli("audit", "--verify").exit_code == 0
    assert desk.paid() == {("c1", "USD"): 1500, ("c3", "EUR"): 900}


def test_credits_runs_lists_the_newest_first_in_the_journal_s_order_whatever_the_clocks(
    desk, monkeypatch
):
    # Machine A's clock ran two hours fast: its run, started before machine B's, was listed
    # above it by `credits runs` ("newest first" by the machines' start times), while approval
    # orders them by the journal. Finance approving the top line and declining the rest paid
    # the older run and declined the newer one.
    from transforms.serving import run_listing, support

    older = run_on_a_fast_clock(desk, monkeypatch)
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    with support.connect(desk.warehouse) as con:
        assert [r.run_id for r in run_listing.runs(con)] == [newer, older]
        assert [r.run_id for r in run_listing.runs(con, "INC-T")] == [newer, older]
