"""Finance's review (`approve --dry-run`): a note when another incident already paid some of the
run's credited transactions (two incidents whose windows overlap)."""

from __future__ import annotations

from tests.support_warehouse import add_candidate, add_run
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
    with warehouse.connect(path, read_only=True) as con:
        (note,) = review.credited_elsewhere(con, "b1")  # t2 was not credited, t3 not published
        assert note.startswith(
            "1 credited transaction(s) of this run (e.g. t1) were credited by incident INC-A's "
            "published batch too: approving pays their customers again"
        )
        assert review.credited_elsewhere(con, "a1") == []  # b1 is not published


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
