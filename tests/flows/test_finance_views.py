"""A view of the warehouse re-created behind the product's back, keeping its name and columns
(what each process's upgrade check compares): every command reads the product's own
definitions, never the file's, so what is paid and who supersedes whom cannot be changed by a
view, in a process that already opened the warehouse (`make serve`) or a reader.

Each test runs the real flow (Prefect test harness) and approves as `credits approve` does."""

from __future__ import annotations

import pytest

from transforms.errors import ConfigError

LOWER = {"flat_minor": {"USD": 500, "EUR": 900}}

# The newest run by its start time, ascending: the oldest run looks the newest.
ORDER_FORGED = (
    "create or replace view runs_ordered as select runs.*, "
    "cast(null as bigint) as started_seq, row_number() over (partition by incident_id "
    "order by started_at asc, run_id asc) as newness from runs"
)
# Nothing paid: every credit looks unpaid, and would be paid again.
PAID_FORGED = (
    "create or replace view paid_credits as select credit_id, incident_id, customer_id, "
    "currency, cast(sum(amount_minor) as bigint) as paid_minor, count(*) as entries, "
    "max(published_at) as last_published_at from ledger where amount_minor < 0 "
    "group by credit_id, incident_id, customer_id, currency"
)


def test_a_forged_order_of_runs_never_lets_a_superseded_run_be_paid(desk):
    # A process that had opened the warehouse before (the digest of names and columns
    # unchanged) read the forged view and approved the older run over the newer one.
    older = desk.run()  # USD 1000 for c1
    newer = desk.run(policy=LOWER)  # USD 500 for c1
    desk.approve(newer)
    desk.tamper(ORDER_FORGED)
    with pytest.raises(ConfigError, match=f"superseded: it started before run {newer}"):
        desk.approve(older)
    assert desk.paid() == {("c1", "USD"): 500, ("c3", "EUR"): 900}
    dry = desk.cli("approve", older, "--dry-run")
    assert dry.exit_code == 2 and "superseded" in dry.stderr, dry.output


def test_a_forged_record_of_what_is_paid_never_pays_a_credit_again(desk):
    # The dry run (a reader) showed every credit added again, and an approval in a process
    # that had opened the warehouse before read the forged view.
    desk.approve(desk.run())  # USD 10.00 for c1, EUR 9.00 for c3
    newer = desk.run(policy={"flat_minor": {"USD": 1500, "EUR": 900}})
    desk.tamper(PAID_FORGED)
    dry = desk.cli("approve", newer, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "c1  increased: USD 10.00 -> USD 15.00" in dry.stdout, dry.stdout
    assert "added" not in dry.stdout.split("by change and currency:")[1]
    # a notebook opening the DuckDB file itself reads the file's view: the audit names it (a
    # PostgreSQL store's views are never read: every command reads its mirror)
    audited = desk.cli("audit", "--verify")
    assert audited.exit_code == 0, audited.output
    in_file = not str(desk.warehouse).startswith("postgresql://")
    assert ("warning: view paid_credits in the DuckDB file" in audited.stderr) == in_file
    decision = desk.approve(newer)
    assert decision.batch_id == "INC-T-B002"
    assert desk.paid() == {("c1", "USD"): 1500, ("c3", "EUR"): 900}
