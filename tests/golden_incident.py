"""The golden incident: one small, hand-made case of every class, customer rule and exception.

Window 14:15-18:15 America/New_York (19:15Z-23:15Z); flat credit per customer and currency.
The expected outputs are in `tests/golden/`, reviewed by hand.
"""

from __future__ import annotations

from pathlib import Path

from tests.builders import customer, failure, txn, write_incident

TITLE = 'Payment outage, "DB pool"'


def write(folder: Path) -> Path:
    lines = [
        # t01: failed in the table -> credited to c1 (the line is shipped twice)
        failure("t01", ts="2025-01-07T19:20:00Z", customer_id="c1"),
        failure("t01", ts="2025-01-07T19:20:00Z", customer_id="c1"),
        # t02: retried and later succeeded -> recovered, credited to c1 again (one line)
        failure("t02", ts="2025-01-07T14:30:00-05:00", code="UPSTREAM_TIMEOUT"),
        {"ts": "2025-01-07T19:31:00Z", "event": "payment.retry", "txn_id": "t02"},
        {"ts": "2025-01-07T19:31:02Z", "event": "payment.succeeded", "txn_id": "t02"},
        # t03: never written to the table -> log_only with the log's values
        failure(
            "t03",
            ts="2025-01-07T20:00:00Z",
            code="DB_CONN_REFUSED",
            customer_id="c2",
            amount_minor=3000,
            currency="JPY",
        ),
        # t04: not in the table, the log lacks the customer -> unattributable
        failure("t04", ts="2025-01-07T21:00:00Z", code="INTERNAL_ERROR", amount_minor=10),
        # t05: a customer decline -> declined, not credited
        failure("t05", ts="2025-01-07T21:05:00Z", code="CARD_DECLINED"),
        # t06: a code in neither list -> unknown_error_code
        failure("t06", ts="2025-01-07T21:06:00Z", code="RISK_REVIEW"),
        # t08 internal customer, t09 closed account, t10 unknown customer
        failure("t08", ts="2025-01-07T22:00:00Z"),
        failure("t09", ts="2025-01-07T22:01:00Z"),
        failure("t10", ts="2025-01-07T22:02:00Z"),
        # t11: the log says c9, the table says c8: the table wins
        failure("t11", ts="2025-01-07T23:14:59.999Z", customer_id="c9"),
        # t12: a second before the window -> not a candidate
        failure("t12", ts="2025-01-07T19:14:59Z"),
        # noise and one malformed line
        {"ts": "2025-01-07T20:00:00Z", "event": "http.request", "path": "/health"},
        '{"ts": "2025-01-07T20:00:01Z", "event": "payment.fail',
    ]
    transactions = [
        txn("t01", customer_id="c1", amount_minor=2500),
        txn("t02", customer_id="c1", amount_minor=1200, status="succeeded", error_code=None),
        txn("t05", customer_id="c3", amount_minor=999, error_code="CARD_DECLINED"),
        txn("t06", customer_id="c3", amount_minor=50, error_code="RISK_REVIEW"),
        # t07: failed with an outage code in the window but no log line -> table_only
        txn(
            "t07",
            customer_id="c4",
            amount_minor=4000,
            currency="EUR",
            created_at="2025-01-07T22:30:00Z",
        ),
        txn("t08", customer_id="c5", amount_minor=100),
        txn("t09", customer_id="c6", amount_minor=100),
        txn("t10", customer_id="c7", amount_minor=100),
        txn("t11", customer_id="c8", amount_minor=500),
        txn("t12", customer_id="c1", amount_minor=100, created_at="2025-01-07T19:14:59Z"),
        txn("t13", customer_id="c1", amount_minor=100, status="succeeded", error_code=None),
    ]
    customers = [
        customer("c1"),
        customer("c2", country="JP"),
        customer("c3"),
        customer("c4", segment="business", country="DE"),
        customer("c5", segment="internal"),
        customer("c6", status="closed"),
        customer("c8", name='=HYPERLINK("http://x")'),
    ]
    return write_incident(
        folder,
        lines=lines,
        transactions=transactions,
        customers=customers,
        top={"id": "INC-GOLD", "title": TITLE},
        policy={"version": "gold-1", "flat_minor": {"USD": 1000, "EUR": 900, "JPY": 1500}},
        quality={"max_quarantined_share": 0.1},  # one malformed line in 16
    )


def load_run(folder: Path, location: Path | str, repeat_keys: bool = False) -> str:
    """Reconciles the golden incident (no Prefect) and loads it into the warehouse (a DuckDB file
    or a postgresql:// URL) as one run
    waiting for approval; with `repeat_keys`, as a rejected run whose evidence and credit lines
    all come twice (what a duplicated key in its input makes). Returns the run id."""
    from transforms import db
    from transforms.finance import warehouse
    from transforms.ingest import incident, logs, tables
    from transforms.reconcile import credits
    from transforms.runfolder import manifest, runs
    from transforms.runfolder.manifest_model import Validation

    loaded = incident.load(write(folder / "inc"))
    run = runs.start(loaded, folder / "out")
    with db.connect(run.work_db) as work:
        read = logs.stage(work, loaded, run.work_dir)
        table_files = tables.stage(work, loaded)
        credits.reconcile(work, loaded)
        if repeat_keys:
            work.execute("insert into evidence select * from evidence")
            work.execute("insert into credits select * from credits")
        content = manifest.build(
            incident=loaded,
            run=run,
            log_files=read,
            table_files=table_files,
            accounting=manifest.account(work, read),
            totals=manifest.credit_totals(work),
            exceptions={},
            outputs={},
            validation=Validation(
                blocking=("evidence: a repeated txn_id",) if repeat_keys else (), warnings=()
            ),
            verdict=runs.RunStatus.REJECTED if repeat_keys else runs.RunStatus.PENDING_APPROVAL,
        )
    manifest.write(content, run.folder / "manifest.json")  # a sealed run's folder holds it
    with warehouse.writer(location) as con:
        loaded = warehouse.load_run(con, run, content)
        warehouse.seal_run(con, run, manifest.summary(content, run), None, loaded)
    return run.run_id
