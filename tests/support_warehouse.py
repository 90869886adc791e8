"""A small warehouse of inline rows for support's answers (the commands and the support page).

INC-A: r1 published and paid c1 and c20; r2 pending (the answer), without c20; r3 newer but
rejected. INC-B (Tokyo): c1 again, pending; an unattributable payment t90. INC-X only rejected,
INC-D's newest declined. c5's account is closed (owed, paid by hand); c7..c12 carry names that
spreadsheets run as formulas, c13 a name that is markup; c22 was closed (listed to pay by hand by
r1's batch) and reopened, c23 paid by r1's batch and closed since, c24 in no customer table.
"""

from __future__ import annotations

from transforms.finance import warehouse

SCRIPT = "<script>alert('x')</script>"
HOSTILE = {
    "c7": '=HYPERLINK("http://x","click")',
    "c8": "+cmd|' /C calc'!A0",
    "c9": "@SUM(1+1)",
    "c10": "-2+3",
    "c11": "\t=1+1",
    "c12": "\r=1+1",
}


def insert(con, table: str, **row) -> None:
    columns = ", ".join(row)
    con.execute(
        f"insert into {table} ({columns}) values ({', '.join('?' * len(row))})", list(row.values())
    )


def add_run(con, run_id, status, started, incident="INC-A", timezone="America/New_York"):
    insert(
        con,
        "runs",
        run_id=run_id,
        incident_id=incident,
        incident_title=f"{incident} outage",
        timezone=timezone,
        window_start_utc="2025-01-07T19:15:00Z",
        window_end_utc="2025-01-07T23:15:00Z",
        status=status,
        policy_version="p1",
        policy_sha256="0" * 64,
        run_folder=f"/runs/{run_id}",
        started_at=started,
        finished_at=started,
        manifest="{}",
    )


def add_candidate(
    con,
    run_id,
    txn_id,
    customer_id,
    *,
    cls="failed",
    credited=True,
    reason=None,
    currency="USD",
    at="2025-01-07T19:20:00Z",
    incident="INC-A",
):
    insert(
        con,
        "evidence",
        run_id=run_id,
        incident_id=incident,
        txn_id=txn_id,
        **{"class": cls},
        credited=credited,
        reason=reason or cls,
        customer_id=customer_id,
        amount_minor=2500,
        currency=currency,
        error_codes="DB_POOL_TIMEOUT",
        first_failure_at=at,
        last_failure_at=at,
        failure_lines=1,
        source_files="logs/pod-a.jsonl",
    )


def add_credit(con, run_id, customer_id, amount, currency="USD", incident="INC-A"):
    insert(
        con,
        "run_credits",
        run_id=run_id,
        credit_id=f"{incident}-{customer_id}-{currency}",
        incident_id=incident,
        customer_id=customer_id,
        currency=currency,
        credit_amount=f"{amount / 100:.2f}",
        credit_amount_minor=amount,
        credited_txn_count=1,
        failed_amount_minor=2500,
        reason_code="outage_credit",
        description="Credit",
        policy_version="p1",
    )


def add_payment(
    con, customer_id, amount, currency="USD", incident="INC-A", batch="INC-A-B001", run_id="r1"
):
    """A ledger entry of a published batch of run `run_id` (the batch made with the first of its
    entries)."""
    credit_id = f"{incident}-{customer_id}-{currency}"
    if not con.execute("select 1 from batches where batch_id = ?", [batch]).fetchall():
        insert(
            con,
            "batches",
            batch_id=batch,
            incident_id=incident,
            run_id=run_id,
            kind="initial",
            row_count=1,
            totals_minor="{}",
            entry_hash="",
            policy_version="p1",
            folder=f"/outbox/incident={incident}/batch={batch}",
            state="published",
            approved_by="alice",
            created_at="2025-01-08T15:00:00Z",
            published_at="2025-01-08T15:00:00Z",
        )
    insert(
        con,
        "ledger",
        entry_id=f"{credit_id}-{batch}",
        credit_id=credit_id,
        incident_id=incident,
        customer_id=customer_id,
        currency=currency,
        amount_minor=amount,
        batch_id=batch,
        run_id=run_id,
        published_at="2025-01-08T15:00:00Z",
    )


def add_closed_account(con, run_id, customer_id, owed, incident="INC-A", kind="closed_account"):
    """A run's `closed_account` exception (or `kind`: `unknown_customer`): a USD credit owed, for
    finance to pay by hand."""
    insert(
        con,
        "run_exceptions",
        run_id=run_id,
        incident_id=incident,
        exception=kind,
        customer_id=customer_id,
        currency="USD",
        txn_count=1,
        credit_owed_minor=owed,
        detail="account is closed: pay by hand",
    )


def add_listed_by_hand(con, customer_id, amount, incident="INC-A", batch="INC-A-B001", run_id="r1"):
    """A USD amount run `run_id`'s published batch listed to pay by hand (its `pay_by_hand.csv`)."""
    insert(
        con,
        "batch_pay_by_hand",
        batch_id=batch,
        incident_id=incident,
        run_id=run_id,
        customer_id=customer_id,
        currency="USD",
        txn_count=1,
        credit_owed_minor=amount,
        paid_minor=0,
        listed_before_minor=0,
        to_pay_minor=amount,
        detail="account is closed: pay by hand",
    )


def add_customer(con, run_id, customer_id, segment="consumer", status="active", name=None):
    insert(
        con,
        "run_customers",
        run_id=run_id,
        customer_id=customer_id,
        name=name or f"Name {customer_id}",
        email=f"{customer_id}@example.com",
        country="US",
        segment=segment,
        status=status,
    )


def build(location: warehouse.Location) -> warehouse.Location:
    """INC-A: r1 published and paid c1; r2 pending (the answer); r3 newer but rejected.
    INC-B (Tokyo): c1 again, pending; an unattributable payment t90. On either store."""
    with warehouse.writer(location) as con:
        add_run(con, "r1", "published", "2025-01-08T01:00:00Z")
        add_credit(con, "r1", "c1", 1000)
        add_payment(con, "c1", 1000)
        add_payment(con, "c3", 500, currency="EUR")
        # c20: paid by r1, absent from the newer r2
        add_candidate(con, "r1", "t20", "c20", at="2025-01-07T20:08:00Z")
        add_credit(con, "r1", "c20", 700)
        add_customer(con, "r1", "c20")
        add_payment(con, "c20", 700)
        # c21: a closed account r1's batch listed to pay by hand, absent from the newer r2
        add_candidate(con, "r1", "t21", "c21", credited=False, reason="closed_account")
        add_customer(con, "r1", "c21", status="closed")
        add_closed_account(con, "r1", "c21", 1000)
        add_listed_by_hand(con, "c21", 1000)
        # c22: closed when r1's batch listed USD 10.00 to pay by hand, reopened in r2
        add_candidate(con, "r1", "t22", "c22", credited=False, reason="closed_account")
        add_closed_account(con, "r1", "c22", 1000)
        add_listed_by_hand(con, "c22", 1000)
        # c23: paid USD 10.00 by r1's batch, closed in r2, which owes 12.00
        add_candidate(con, "r1", "t23", "c23")
        add_credit(con, "r1", "c23", 1000)
        add_payment(con, "c23", 1000)
        add_run(con, "r2", "pending_approval", "2025-01-08T02:00:00Z")
        add_candidate(con, "r2", "t22", "c22")
        add_credit(con, "r2", "c22", 1000)
        add_customer(con, "r2", "c22")
        add_candidate(con, "r2", "t23", "c23", credited=False, reason="closed_account")
        add_customer(con, "r2", "c23", status="closed")
        add_closed_account(con, "r2", "c23", 1200)
        # c24: in no customer table: owed, held until finance finds out who it is
        add_candidate(con, "r2", "t24", "c24", credited=False, reason="unknown_customer")
        add_closed_account(con, "r2", "c24", 1000, kind="unknown_customer")
        # c1 paid in full by r1; c2 new; c3 partly paid; c4..c6 excluded, each for its reason
        add_candidate(con, "r2", "t1", "c1")
        add_candidate(con, "r2", "t2", "c2", at="2025-01-07T19:20:00Z")
        add_candidate(con, "r2", "t3", "c2", at="2025-01-07T21:05:30Z")
        add_candidate(con, "r2", "t4", "c3", currency="EUR")
        add_candidate(con, "r2", "t5", "c4", credited=False, reason="excluded_segment")
        add_candidate(con, "r2", "t6", "c5", credited=False, reason="closed_account")
        add_candidate(con, "r2", "t7", "c6", cls="declined", credited=False)
        for customer_id in HOSTILE:
            add_candidate(con, "r2", f"t-{customer_id}", customer_id)
            add_credit(con, "r2", customer_id, 1000)
            add_customer(con, "r2", customer_id, name=HOSTILE[customer_id])
        # c13: a name that is markup, shown as text by every page
        add_candidate(con, "r2", "t13", "c13")
        add_credit(con, "r2", "c13", 1000)
        add_customer(con, "r2", "c13", name=SCRIPT)
        add_credit(con, "r2", "c1", 1000)
        add_credit(con, "r2", "c2", 1000)
        add_credit(con, "r2", "c3", 900, currency="EUR")
        for customer_id in ("c1", "c2", "c3", "c6"):
            add_customer(con, "r2", customer_id)
        add_customer(con, "r2", "c4", segment="internal")
        add_customer(con, "r2", "c5", status="closed")
        add_closed_account(con, "r2", "c5", 1000)
        # c5: r1's batch listed USD 5.00 to pay by hand; the pending r2 owes 10.00
        add_listed_by_hand(con, "c5", 500)
        add_run(con, "r3", "rejected", "2025-01-08T03:00:00Z")
        add_candidate(con, "r3", "t1", "c1", cls="declined", credited=False)
        add_run(
            con,
            "b1",
            "pending_approval",
            "2025-01-09T00:00:00Z",
            incident="INC-B",
            timezone="Asia/Tokyo",
        )
        add_candidate(con, "b1", "t80", "c1", incident="INC-B")
        add_credit(con, "b1", "c1", 1000, incident="INC-B")
        add_customer(con, "b1", "c1")
        add_candidate(
            con, "b1", "t90", None, cls="unattributable", credited=False, incident="INC-B"
        )
        insert(
            con,
            "run_exceptions",
            run_id="b1",
            incident_id="INC-B",
            exception="unattributable",
            txn_id="t90",
            txn_count=1,
            failed_amount_minor=2500,
            currency="USD",
            detail="not attributable",
        )
        add_run(con, "x1", "rejected", "2025-01-09T00:00:00Z", incident="INC-X")
        add_run(con, "d1", "pending_approval", "2025-01-09T00:00:00Z", incident="INC-D")
        add_run(con, "d2", "declined", "2025-01-09T01:00:00Z", incident="INC-D")
    return location


def one_pending_run(path, payments) -> None:
    """A warehouse at `path` holding one pending run, r1, crediting each customer of `payments`
    ((txn_id, customer_id) pairs) 1.00 for that payment."""
    with warehouse.writer(path) as con:
        add_run(con, "r1", "pending_approval", "2025-01-08T01:00:00Z")
        for txn_id, customer_id in payments:
            add_candidate(con, "r1", txn_id, customer_id)
            add_credit(con, "r1", customer_id, 100)
            add_customer(con, "r1", customer_id)
