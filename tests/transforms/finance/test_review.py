"""Finance's review (`approve --dry-run`): a note when another incident already paid some of the
run's credited transactions (two incidents whose windows overlap)."""

from __future__ import annotations

from tests.support_warehouse import (
    add_candidate,
    add_closed_account,
    add_credit,
    add_listed_by_hand,
    add_payment,
    add_run,
)
from transforms.finance import review, warehouse


def test_transactions_a_published_run_of_another_incident_credited_are_noted(tmp_path):
    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "a1", "published", "2025-01-08T01:00:00Z", incident="INC-A")
        add_candidate(con, "a1", "t1", "c1", incident="INC-A")
        add_candidate(con, "a1", "t2", "c2", incident="INC-A", credited=False, reason="x")
        add_run(con, "c1", "rejected", "2025-01-08T02:00:00Z", incident="INC-C")
        add_candidate(con, "c1", "t3", "c3", incident="INC-C")
        add_run(con, "b1", "pending_approval", "2025-01-08T03:00:00Z", incident="INC-B")
        for txn_id in ("t1", "t2", "t3"):
            add_candidate(con, "b1", txn_id, "c9", incident="INC-B")
        add_credit(con, "b1", "c9", 1000, incident="INC-B")
    with warehouse.connect(path, read_only=True) as con:
        (note,) = review.credited_elsewhere(
            con, "b1", "INC-B"
        )  # t2 was not credited, t3 not published
        assert note.startswith(
            "1 credited transaction(s) of this run (e.g. t1) were credited by incident INC-A's "
            "published batch too: approving pays their customers again"
        )
        assert review.credited_elsewhere(con, "a1", "INC-A") == []  # b1 is not published


def test_only_transactions_of_the_lines_the_batch_pays_are_noted(warehouse_location):
    # INC-B's b0 paid c9 for t1 before INC-A's a1 credited it too: approving INC-B's b1, which
    # credits c9 as b0 did, pays c9 nothing again; only c8's new line (t4) is paid a second
    # time. The note counted both, "2 ... (e.g. t1) ...: approving pays their customers again".
    with warehouse.writer(warehouse_location) as con:
        add_run(con, "b0", "published", "2025-01-08T01:00:00Z", incident="INC-B")
        add_candidate(con, "b0", "t1", "c9", incident="INC-B")
        add_credit(con, "b0", "c9", 1000, incident="INC-B")
        add_payment(con, "c9", 1000, incident="INC-B", batch="INC-B-B001", run_id="b0")
        add_run(con, "a1", "published", "2025-01-08T02:00:00Z", incident="INC-A")
        for txn_id, customer_id in (("t1", "c9"), ("t4", "c8")):
            add_candidate(con, "a1", txn_id, customer_id, incident="INC-A")
        add_run(con, "b1", "pending_approval", "2025-01-08T03:00:00Z", incident="INC-B")
        for txn_id, customer_id in (("t1", "c9"), ("t4", "c8")):
            add_candidate(con, "b1", txn_id, customer_id, incident="INC-B")
            add_credit(con, "b1", customer_id, 1000, incident="INC-B")
    with warehouse.connect(warehouse_location, read_only=True) as con:
        (note,) = review.credited_elsewhere(con, "b1", "INC-B")
        assert note.startswith(
            "1 credited transaction(s) of this run (e.g. t4) were credited by incident INC-A's "
        )
        assert (
            review.credited_elsewhere(con, "b0", "INC-B") == []
        )  # published: approving pays nothing


def test_a_closed_account_another_incident_paid_or_listed_to_pay_by_hand_is_noted(
    warehouse_location,
):
    # c5's account is closed: INC-A's batch listed t6 to pay by hand, and approving INC-B's b1
    # lists it to pay by hand again; c4's t7 INC-A credited, and b1 lists it by hand; c6's t8
    # INC-A listed by hand, and b1 pays it (the account reopened). No note said so: only
    # transactions credited in both were compared.
    with warehouse.writer(warehouse_location) as con:
        add_run(con, "a1", "published", "2025-01-08T01:00:00Z", incident="INC-A")
        add_candidate(con, "a1", "t7", "c4", incident="INC-A")
        add_payment(con, "c4", 1000, incident="INC-A", batch="INC-A-B001", run_id="a1")
        for txn_id, customer_id in (("t6", "c5"), ("t8", "c6")):
            add_candidate(
                con,
                "a1",
                txn_id,
                customer_id,
                credited=False,
                reason="closed_account",
                incident="INC-A",
            )
            add_listed_by_hand(
                con, customer_id, 1000, incident="INC-A", batch="INC-A-B001", run_id="a1"
            )
        add_run(con, "b1", "pending_approval", "2025-01-08T02:00:00Z", incident="INC-B")
        for txn_id, customer_id in (("t6", "c5"), ("t7", "c4")):
            add_candidate(
                con,
                "b1",
                txn_id,
                customer_id,
                credited=False,
                reason="closed_account",
                incident="INC-B",
            )
            add_closed_account(con, "b1", customer_id, 1000, incident="INC-B")
        add_candidate(con, "b1", "t8", "c6", incident="INC-B")
        add_credit(con, "b1", "c6", 1000, incident="INC-B")
    with warehouse.connect(warehouse_location, read_only=True) as con:
        paid, listed = review.credited_elsewhere(con, "b1", "INC-B")
        assert paid.startswith(
            "1 credited transaction(s) of this run (e.g. t8) were credited by incident INC-A's "
        )
        assert listed.startswith(
            "2 transaction(s) of this run's closed accounts (e.g. t6) that approving lists to pay "
            "by hand were paid or listed to pay by hand by incident INC-A's published batch too"
        )


def test_a_superseded_run_names_the_newer_runs_approval_on_the_incidents_clocks(tmp_path):
    # it said "approved 2025-01-08 15:30 UTC" where `credits runs` says 10:30 EST
    from transforms.finance import approval

    path = tmp_path / "wh.duckdb"
    with warehouse.writer(path) as con:
        add_run(con, "old", "pending_approval", "2025-01-08T01:00:00Z")
        add_run(con, "new", "published", "2025-01-08T02:00:00Z")
        con.execute("update runs set decided_at = '2025-01-08T15:30:00Z' where run_id = 'new'")
    with warehouse.connect(path, read_only=True) as con:
        old, new = (approval.find_run(con, r) for r in ("old", "new"))
    said = approval.superseded(old, new)
    assert "newest published run of INC-A (approved 2025-01-08 10:30 EST)." in said
